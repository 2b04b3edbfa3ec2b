"""Publishes that outlast [api] publish_wait: real API, agent and Swift, and a gate.

The agent reaches Swift through a FaultProxy whose hook holds the uploads
of log `big` (a gate) until the test opens it, or cuts them: a publish that
runs as long as the test wants, or fails, with no timing involved.
"""

import json
import os
import subprocess
import sys
import threading
import time

import pytest

from tests.apistack import INSTANCE, Stack
from tests.faultproxy import Cut, FaultProxy
from tests.helpers import realistic_lines
from tests.processes import swift_settings

CLI = [sys.executable, "-m", "logsvc.cli.app"]


class Gate:
    """Holds (or cuts) the uploads of the objects of log `big` while armed."""

    def __init__(self):
        self.entered = threading.Event()  # an upload reached the gate
        self.opened = threading.Event()
        self.cut = False

    def __call__(self, stage, exchange):
        if stage != "request" or exchange.method != "PUT" or "/file-big/log-" not in exchange.path:
            return
        self.entered.set()
        if not self.opened.wait(120):
            raise AssertionError("the gate was never opened")
        if self.cut:
            raise Cut()

    def open(self, cut: bool = False) -> None:
        self.cut = cut
        self.opened.set()


@pytest.fixture
def gated(tmp_path, devswift):
    gate = Gate()
    proxy = FaultProxy(devswift.proxy_url, gate).start()
    stack = Stack(
        tmp_path,
        devswift,
        api_sections={"api": {"publish_wait": 0.2, "agent_silence_warning": 3}},
        agent_sections={
            "swift": {**swift_settings(devswift), "auth_url": f"{proxy.url}/auth/v1.0"},
            # the heartbeats keep the agent heard from, even on a busy machine
            "agent": {"heartbeat_interval": 1},
        },
    ).start()
    stack.paths["big"].write_bytes(realistic_lines(2000))  # a dozen 16 KiB objects
    yield stack, gate
    gate.open()
    stack.stop()
    proxy.stop()


def publish(stack, token=None):
    return stack.post(token or stack.alice, {"name": "big", "publish": True})


def show(stack, token=None):
    resp = stack.post(token or stack.alice, {"name": "big"})
    assert resp.status_code == 200, resp.text
    return resp.json()


def task_state(stack):
    resp = stack.api.request("GET", f"/v1/instance/{INSTANCE}", stack.alice)
    return resp.json()["instance"]["task_state"]


def until(what, check, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"never: {what}")


def test_a_long_publish_answers_202_and_show_converges_to_its_outcome(gated):
    stack, gate = gated
    resp = publish(stack)
    assert resp.status_code == 202, resp.text
    running = resp.json()["log"]["publish"]
    assert running["state"] == "running" and running["ended_at"] is None
    assert gate.entered.wait(60)
    # While the publish is held at the gate: list and show answer, and say it runs.
    assert stack.logs(stack.alice).status_code == 200
    shown = show(stack)["log"]["publish"]
    assert shown["id"] == running["id"] and shown["state"] == "running"
    assert task_state(stack) == "LOGGING"
    # A publish joins it (the same publish), any other action is refused.
    joined = publish(stack)
    assert joined.status_code == 202 and joined.json()["log"]["publish"]["id"] == running["id"]
    for other in ({"discard": True}, {"disable": True}, {"publish": True, "discard": True}):
        busy = stack.post(stack.alice, {"name": "big", **other})
        assert busy.status_code == 409, (other, busy.text)
        assert "being published" in busy.json()["error"]["message"]
    assert not gate.opened.is_set()  # all of the above while the publish still ran
    gate.open()
    ended = until(
        "the publish ends", lambda: (p := show(stack)["log"]["publish"])["state"] != "running" and p
    )
    assert ended["id"] == running["id"] and ended["state"] == "published", ended
    assert ended["ended_at"] and ended["error"] is None
    assert stack.published("big") == stack.paths["big"].read_bytes()
    assert task_state(stack) == "ACTIVE"
    # The heartbeat carries the outcome too: the database's copy (admin list) says it.
    listed = until(
        "a heartbeat records the outcome",
        lambda: [
            entry
            for entry in stack.logs(stack.admin).json()["logs"]
            if entry["name"] == "big" and entry["publish"]["state"] == "published"
        ],
    )
    assert listed[0]["publish"]["id"] == running["id"]


def test_a_failed_publish_is_reported_and_the_cli_exits_with_the_agent_error(gated, devswift):
    stack, gate = gated
    creds = devswift.credentials()
    env = {
        **os.environ,
        "LOGSVC_URL": stack.api.url,
        "LOGSVC_TOKEN": stack.alice,
        "OS_AUTH_URL": creds["auth_url"],
        "OS_USERNAME": creds["user"],
        "OS_PASSWORD": creds["key"],
        "LOGSVC_CONFIG": "/nonexistent/logsvc.conf",
    }
    cli = subprocess.Popen(
        [*CLI, "log-publish", INSTANCE, "big"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert gate.entered.wait(60)
    until(
        "the API says the publish runs", lambda: show(stack)["log"]["publish"]["state"] == "running"
    )
    gate.open(cut=True)  # the object store goes away under the publish
    out, err = cli.communicate(timeout=120)
    assert cli.returncode != 0, out
    message = err.decode()
    assert "Traceback" not in message and len(message.strip().splitlines()) == 1, message
    # Failed within [api] publish_wait, the API's answer is the agent's error;
    # later, the CLI reads it from show: either way that one line says it.
    assert "log 'big'" in message and "unreachable" in message
    failed = show(stack)["log"]["publish"]
    assert failed["state"] == "failed" and failed["error"] in message
    assert task_state(stack) == "ACTIVE"


def test_no_wait_returns_at_once_and_a_killed_agent_does_not_keep_the_instance_logging(gated):
    stack, gate = gated
    from logsvc.client.api import Client

    client = Client(stack.api.url, stack.alice)
    view = client.log_publish(INSTANCE, "big", wait=False)
    assert view.publish is not None and view.publish.running
    assert gate.entered.wait(60)
    stack.agent.kill()  # mid-publish
    gate.open()
    # Silent for [api] agent_silence_warning (3 s): no longer LOGGING, the outcome unknown.
    until("the instance is ACTIVE again", lambda: task_state(stack) == "ACTIVE")
    stale = stack.post(stack.alice, {"name": "big"}).json()
    assert stale["stale"] is True and stale["log"]["publish"]["state"] == "unknown"
    # Back again, the agent says how the publish ended; a new publish completes it.
    stack.agent.start()
    failed = until(
        "the agent reports the publish it lost",
        lambda: (p := show(stack)["log"]["publish"])["state"] == "failed" and p,
    )
    assert failed["id"] == view.publish.id and "stopped during the publish" in failed["error"]
    done = client.log_publish(INSTANCE, "big")
    assert done.publish.state == "published" and done.pending == 0
    assert stack.published("big") == stack.paths["big"].read_bytes()


def test_the_agent_takes_the_wait_from_the_signed_request(gated):
    stack, gate = gated
    agent = stack.agent
    resp = agent.request("POST", "/v1/logs/big", {"admin": True, "publish": True, "wait": 0})
    assert resp.status_code == 202 and resp.json()["log"]["publish"]["state"] == "running"
    for bad in (-1, "soon", True):
        refused = agent.request(
            "POST", "/v1/logs/big", {"admin": True, "publish": True, "wait": bad}
        )
        assert refused.status_code == 400 and "wait" in refused.json()["error"]["message"]
    listed = json.loads(agent.request("GET", "/v1/logs?admin=true").text)["logs"]
    assert {e["name"]: e["publish"]["state"] for e in listed if e["publish"]} == {"big": "running"}
    gate.open()
