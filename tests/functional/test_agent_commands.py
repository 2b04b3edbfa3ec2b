"""`logsvc-guestagent` one-shot commands as real processes, against the real Swift."""

import json
import os
import signal
import subprocess
import sys
import time
import uuid

import pytest

from tests.conftest import swift_store
from tests.helpers import realistic_lines

AGENT = [sys.executable, "-m", "guestagent.cmd"]


@pytest.fixture
def agent(tmp_path, devswift):
    """A configuration for a file-datastore agent publishing into the real Swift."""
    creds = devswift.credentials()
    instance = f"inst-{uuid.uuid4().hex[:8]}"
    container = f"logs-{uuid.uuid4().hex[:8]}"
    conf = tmp_path / "agent.conf"
    conf.write_text(
        f"[DEFAULT]\nguest_log_limit = 16384\nguest_log_container_name = {container}\n"
        f"log_file = {tmp_path / 'agent.log'}\n"
        f"[agent]\ninstance_id = {instance}\nstate_dir = {tmp_path / 'state'}\n"
        "[storage]\nbackend = swift\n"
        f"[swift]\nauth_url = {creds['auth_url']}\nauth_version = 1\n"
        f"user = {creds['user']}\nkey = {creds['key']}\nretries = 1\nstarting_backoff = 0.1\n"
        f"[file_datastore]\nlogs = app:USER:{tmp_path / 'app.log'},sys:SYS:{tmp_path / 'sys.log'}\n"
    )

    class Agent:
        path = tmp_path / "app.log"
        store = swift_store(devswift)
        prefix = f"{instance}/file-app/"

        def run(self, *args, check=True):
            proc = subprocess.run(
                [*AGENT, "--config-file", str(conf), *args], capture_output=True, text=True
            )
            if check:
                assert proc.returncode == 0, proc.stderr
            return proc

        def popen(self, *args):
            return subprocess.Popen(
                [*AGENT, "--config-file", str(conf), *args],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )

        def published(self) -> bytes:
            objs = list(self.store.list_objects(container, self.prefix))
            return b"".join(self.store.get_object(container, o.name)[1] for o in objs)

        def count(self) -> int:
            return sum(1 for _ in self.store.list_objects(container, self.prefix))

    return Agent()


def test_list_show_publish_discard(agent):
    agent.path.write_bytes(b"hello\nworld\npartial")
    logs = json.loads(agent.run("list").stdout)["logs"]
    assert [(entry["name"], entry["type"], entry["status"]) for entry in logs] == [
        ("app", "USER", "Disabled"),
        ("guest", "SYS", "Unavailable"),
        ("sys", "SYS", "Unavailable"),
    ]
    log = json.loads(agent.run("publish", "app").stdout)["log"]
    assert log == {
        "name": "app",
        "type": "USER",
        "status": "Partial",
        "published": 12,
        "pending": 7,
        "container": log["container"],
        "prefix": agent.prefix,
        "metafile": agent.prefix[:-1] + "_metafile",
        "follow": False,
        "publish": log["publish"],
    }
    assert log["publish"]["state"] == "published"
    assert agent.published() == b"hello\nworld\n"
    shown = json.loads(agent.run("show", "app").stdout)["log"]
    assert shown == log
    log = json.loads(agent.run("discard", "app").stdout)["log"]
    assert (log["status"], log["published"], log["pending"], log["prefix"]) == (
        "Ready",
        0,
        19,
        None,
    )
    assert agent.published() == b""
    log = json.loads(agent.run("publish", "app", "--disable").stdout)["log"]
    assert (log["status"], log["published"]) == ("Disabled", 12)


def test_enable_disable(agent):
    assert json.loads(agent.run("enable", "app").stdout)["log"]["status"] == "Enabled"
    assert json.loads(agent.run("disable", "app").stdout)["log"]["status"] == "Disabled"
    proc = agent.run("enable", "sys", check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        "logsvc-guestagent: log 'sys' is a SYS log: it is always on and cannot be "
        "enabled or disabled"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("show", "nope"), "no log named 'nope' on this instance"),
        (("publish", "sys"), "does not exist"),
    ],
)
def test_errors_are_one_clear_line(agent, args, message):
    proc = agent.run(*args, check=False)
    assert proc.returncode == 1
    assert message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr


def test_a_configuration_error_exits_2(tmp_path):
    conf = tmp_path / "bad.conf"
    conf.write_text("[agent]\ninstance_id = ../../etc\n")
    proc = subprocess.run(
        [*AGENT, "--config-file", str(conf), "list"], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert "instance_id" in proc.stderr and "Traceback" not in proc.stderr


def test_bad_storage_credentials_are_a_clear_error(agent, tmp_path):
    agent.path.write_bytes(b"x\n")
    conf = next(tmp_path.glob("agent.conf"))
    conf.write_text(conf.read_text().replace("key = testing", "key = not-the-key"))
    proc = agent.run("publish", "app", check=False)
    assert proc.returncode == 1
    assert "refused our credentials" in proc.stderr
    assert "not-the-key" not in proc.stderr


@pytest.mark.parametrize("kill_after_objects", [0, 1, 25, 120])
def test_kill_9_during_a_publish_then_publish_again(agent, kill_after_objects):
    data = b"".join(realistic_lines(1000, start=i * 1000) for i in range(30))  # ~3.5 MB
    agent.path.write_bytes(data)
    proc = agent.popen("publish", "app")
    deadline = time.monotonic() + 60
    while agent.count() < kill_after_objects and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    shown = json.loads(agent.run("show", "app").stdout)["log"]
    assert shown["published"] < len(data), "the kill should land in the middle of the publish"
    agent.path.write_bytes(data + b"appended after the crash\n")
    agent.run("publish", "app")
    assert agent.published() == data + b"appended after the crash\n"


def test_two_processes_publishing_at_once(agent):
    data = b"".join(realistic_lines(1000, start=i * 1000) for i in range(10))
    agent.path.write_bytes(data)
    procs = [agent.popen("publish", "app") for _ in range(2)]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    assert agent.published() == data
