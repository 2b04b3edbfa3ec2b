"""Real daemon processes for tests: start, sign requests to, stop or kill."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from dev.devswift import DevSwift, free_port
from logsvc.signing import sign


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the process exited with {proc.returncode} before listening")
        with socket.socket() as s:
            s.settimeout(0.2)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listened on port {port} within {timeout}s")


def log_count(path: Path, text: str) -> int:
    """How many times `text` is in the file at `path` so far."""
    return path.read_text(errors="replace").count(text) if path.exists() else 0


def wait_for_log(
    path: Path, text: str, proc: subprocess.Popen, seen: int = 0, timeout: float = 180.0
) -> None:
    """Until `text` is in the log at `path` more than `seen` times (the daemon says so)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the process exited with {proc.returncode} before {text!r}")
        if log_count(path, text) > seen:
            return
        time.sleep(0.05)
    raise RuntimeError(f"{text!r} was not logged in {path} within {timeout}s")


def ini(sections: dict[str, dict[str, object]]) -> str:
    lines = []
    for section, values in sections.items():
        lines.append(f"[{section}]")
        lines += [f"{k} = {v}" for k, v in values.items() if v is not None]
        lines.append("")
    return "\n".join(lines)


def swift_settings(swift: DevSwift, account: str = "test") -> dict[str, object]:
    creds = swift.credentials(account)
    return {
        "auth_url": creds["auth_url"],
        "auth_version": 1,
        "user": creds["user"],
        "key": creds["key"],
        "retries": 1,
        "starting_backoff": 0.1,
    }


class AgentProcess:
    """`logsvc-guestagent` serving, configured by `sections` (merged over defaults)."""

    def __init__(
        self, tmp_path: Path, sections: dict[str, dict[str, object]], secret="agent-secret"
    ):
        self.dir = tmp_path
        self.port = free_port()
        self.secret = secret
        base = {
            "DEFAULT": {"log_file": tmp_path / "agent.log", "guest_log_limit": 65536},
            "agent": {
                "instance_id": "inst-1",
                "state_dir": tmp_path / "state",
                "bind_port": self.port,
                "shared_secret": secret,
                # a stop that overruns shows where it hung (the log's last lines) in time
                "graceful_shutdown_timeout": 10,
            },
            "status": {"bind_port": free_port()},  # tests run several daemons at once
        }
        for section, values in sections.items():
            base.setdefault(section, {}).update(values)
        self.instance_id = base["agent"]["instance_id"]
        # Served over the message bus only: no port to wait for, a line in its log.
        self.rpc_only = bool(base.get("DEFAULT", {}).get("transport_url")) and "http" not in str(
            base["agent"].get("serve", "")
        )
        self.log = Path(base["DEFAULT"]["log_file"])
        self.conf = tmp_path / "agent.conf"
        self.conf.write_text(ini(base))
        self.proc: subprocess.Popen | None = None
        self.url = f"http://127.0.0.1:{self.port}"

    BUS_READY = "on the message bus (topic logsvc-guestagent)"

    def start(self, wait: bool = True) -> "AgentProcess":
        seen = log_count(self.log, self.BUS_READY)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "guestagent.cmd", "--config-file", str(self.conf)],
            stdout=subprocess.DEVNULL,
            stderr=open(self.dir / "agent.stderr", "ab"),  # noqa: SIM115 - the child keeps it
        )
        if wait:
            self.wait_ready(seen)
        return self

    def wait_ready(self, seen: int = 0) -> None:
        if self.rpc_only:
            wait_for_log(self.log, self.BUS_READY, self.proc, seen)
        else:
            wait_for_port(self.port, self.proc)

    def terminate(self) -> None:
        """SIGTERM, not waited for (`stop` waits): several daemons stop at once."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def stop(self) -> int:
        self.terminate()
        if self.proc and self.proc.returncode is None:
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.kill()
                log = self.dir / "agent.log"
                tail = log.read_text(errors="replace")[-4000:] if log.exists() else ""
                raise AssertionError(
                    f"the agent did not stop within 60 s; its log ends:\n{tail}"
                ) from None
        return self.proc.returncode if self.proc else 0

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def request(self, method: str, path: str, body=None, secret: str | None = None, **kwargs):
        """A request signed like the API signs it (`secret=""` sends it unsigned)."""
        data = b"" if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if body is not None else {}
        key = self.secret if secret is None else secret
        if key:
            headers.update(sign(key, method, path, data, instance=self.instance_id))
        return requests.request(
            method, self.url + path, data=data, headers=headers, timeout=kwargs.pop("timeout", 600)
        )

    def act(self, log: str, **flags):
        resp = self.request("POST", f"/v1/logs/{log}", {"admin": True, **flags})
        assert resp.status_code == 200, resp.text
        return resp.json()["log"]

    def logs(self) -> dict[str, dict]:
        resp = self.request("GET", "/v1/logs?admin=true")
        assert resp.status_code == 200, resp.text
        return {entry["name"]: entry for entry in resp.json()["logs"]}


class ApiProcess:
    """`logsvc-api` serving, configured by `sections` (merged over defaults).

    It runs as tests/api_server.py (the real server, each response checked
    against the OpenAPI document); `stop` fails the test that started it when
    a response did not match the document.
    """

    def __init__(
        self,
        tmp_path: Path,
        sections: dict[str, dict[str, object]] | None = None,
        agent_secret: str = "agent-secret",
        checked: bool = True,
    ):
        self.dir = tmp_path
        self.port = free_port()
        self.checked = checked  # False: plain logsvc-api (benchmarks), no OpenAPI check
        self.sink = tmp_path / "openapi-problems.jsonl"
        base = {
            "DEFAULT": {"log_file": tmp_path / "api.log"},
            "api": {
                "bind_port": self.port,
                "workers": 2,
                "threads": 4,
                "auth_strategy": "token",
            },
            "database": {"connection": f"sqlite:///{tmp_path / 'api.sqlite'}"},
            "agent": {"shared_secret": agent_secret, "connect_timeout": 2, "call_timeout": 60},
            "status": {"bind_port": free_port()},  # tests run several daemons at once
        }
        for section, values in (sections or {}).items():
            base.setdefault(section, {}).update(values)
        self.conf = tmp_path / "api.conf"
        self.conf.write_text(ini(base))
        self.log = Path(base["DEFAULT"]["log_file"])
        self.bus = bool(base["DEFAULT"].get("transport_url"))
        self.proc: subprocess.Popen | None = None
        self._seen = 0  # the lines that said the bus consumer was up, before this start
        self.url = f"http://127.0.0.1:{self.port}"
        self.database_url = base["database"]["connection"]

    def manage(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """`logsvc-manage --config-file <ours> ARGS`, its output captured."""
        return subprocess.run(
            [sys.executable, "-m", "api.manage", "--config-file", str(self.conf), *args],
            capture_output=True,
            text=True,
            check=check,
            timeout=120,
        )

    def upgrade(self) -> None:
        """The schema, made in this process (tests of logsvc-manage run the command)."""
        from api import migrate
        from api.db import make_engine

        engine = make_engine(self.database_url)
        try:
            migrate.upgrade(engine)
        finally:
            engine.dispose()

    BUS_READY = "consuming heartbeats on the message bus"

    def start(self, upgrade: bool = True, wait: bool = True) -> "ApiProcess":
        """Started (`wait`: and serving; else `wait_ready` waits, while others start)."""
        if upgrade:
            self.upgrade()
        self._seen = log_count(self.log, self.BUS_READY)
        runner = ["tests.api_server", str(self.sink)] if self.checked else ["api.cmd"]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", *runner, "--config-file", str(self.conf)],
            stdout=subprocess.DEVNULL,
            stderr=open(self.dir / "api.stderr", "ab"),  # noqa: SIM115 - the child keeps it
        )
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self) -> None:
        wait_for_port(self.port, self.proc)
        if self.bus:  # its consumer of heartbeats (api/busd.py) is up too
            wait_for_log(self.log, self.BUS_READY, self.proc, self._seen)

    def token(self, project_id: str, *roles: str) -> str:
        """A new token, stored as `logsvc-manage token create` stores it."""
        from sqlalchemy.orm import Session

        from api.auth import hash_token, new_token
        from api.db import make_engine
        from api.models import Token

        token = new_token()
        engine = make_engine(self.database_url)
        try:
            with Session(engine) as session:
                session.add(
                    Token(
                        token_hash=hash_token(token), project_id=project_id, roles=",".join(roles)
                    )
                )
                session.commit()
        finally:
            engine.dispose()
        return token

    def terminate(self) -> None:
        """SIGTERM, not waited for (`stop` waits): several daemons stop at once."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def stop(self) -> int:
        self.terminate()
        if self.proc and self.proc.returncode is None:
            self.proc.wait(timeout=60)
        return self.proc.returncode if self.proc else 0

    def openapi_problems(self) -> list[str]:
        """Responses that did not match the OpenAPI document, as the server recorded them."""
        from tests.openapi_check import read_sink

        return read_sink(self.sink)

    def request(self, method: str, path: str, token: str | None = None, body=None, **kwargs):
        """A request with a token (and a JSON body, unless `data=` gives raw bytes)."""
        headers = dict(kwargs.pop("headers", {}))
        if token:
            headers["X-Auth-Token"] = token
        if body is not None:
            kwargs["json"] = body
        return requests.request(
            method, self.url + path, headers=headers, timeout=kwargs.pop("timeout", 120), **kwargs
        )
