"""The real RabbitMQ of 127.0.0.1:5672 (guest/guest), one virtual host per test session.

`broker` (session fixture): a virtual host made for this session with
rabbitmqctl, and deleted after it, so that no two sessions see each other's
queues; without rabbitmqctl, the default virtual host with an exchange of
this session's own (``control_exchange``). No RabbitMQ answering: the tests
that need one skip (a failure under CI=true, tests/ci_skips.py).
"""

import shutil
import socket
import subprocess
import uuid
from dataclasses import dataclass

import pytest

from tests.ci_skips import server_absent

HOST, PORT = "127.0.0.1", 5672


@dataclass
class Broker:
    vhost: str
    exchange: str

    def url(self, port: int = PORT, user: str = "guest", password: str = "guest") -> str:
        vhost = "" if self.vhost == "/" else self.vhost
        return f"rabbit://{user}:{password}@{HOST}:{port}/{vhost}"

    def settings(self, port: int = PORT) -> dict[str, object]:
        """``[DEFAULT]`` options of a daemon on this broker."""
        return {"transport_url": self.url(port), "control_exchange": self.exchange}

    def queues(self) -> dict[str, int]:
        """Messages ready in each queue of the virtual host (rabbitmqctl)."""
        out = subprocess.run(
            ["rabbitmqctl", "list_queues", "-q", "-p", self.vhost, "name", "messages"],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
        rows = [line.split("\t") for line in out.splitlines()[1:] if "\t" in line]
        return {name: int(count) for name, count in rows}


def _ctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="session")
def broker():
    with socket.socket() as probe:
        probe.settimeout(2)
        if probe.connect_ex((HOST, PORT)) != 0:
            server_absent("RabbitMQ", f"nothing listens on {HOST}:{PORT}")
    session = uuid.uuid4().hex[:8]
    exchange = f"logsvc-test-{session}"
    if shutil.which("rabbitmqctl") is None:
        yield Broker("/", exchange)
        return
    vhost = f"logsvc-test-{session}"
    _ctl("add_vhost", vhost)
    try:
        _ctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
        yield Broker(vhost, exchange)
    finally:
        _ctl("delete_vhost", vhost)
