"""Faults during a publish, on real processes: the object store going away (seen by the
agent and through the API), rotation, revoked storage credentials.

After each: no byte lost or duplicated, consistent figures, a clear error while
the fault lasts, and recovery without anyone doing anything.
"""

import os
import threading
import time
import uuid

import pytest

from tests.apistack import INSTANCE, TENANT, Stack
from tests.conftest import running_swift, swift_store
from tests.helpers import realistic_lines, wait_for
from tests.processes import AgentProcess, swift_settings


@pytest.fixture(scope="module")
def own_swift():
    """A Swift of this module's own: these tests stop and start its proxy."""
    with running_swift() as swift:
        yield swift


def make_agent(tmp_path, swift, policy="purge", limit=16384):
    container = f"logs-{uuid.uuid4().hex[:8]}"
    agent = AgentProcess(
        tmp_path,
        {
            "DEFAULT": {
                "guest_log_container_name": container,
                "guest_log_limit": limit,
                "guest_log_rotation_policy": policy,
            },
            "storage": {"backend": "swift"},
            "swift": {**swift_settings(swift), "retries": 1, "starting_backoff": 0.2},
            "file_datastore": {"logs": f"app:USER:{tmp_path / 'app.log'}"},
            "status": {"enabled": "false"},
        },
    ).start()
    agent.path = tmp_path / "app.log"
    agent.container = container
    agent.store = swift_store(swift)
    return agent


def published(agent) -> bytes:
    objects = agent.store.list_objects(agent.container, "inst-1/file-app/")
    return b"".join(agent.store.get_object(agent.container, o.name)[1] for o in objects)


def count(agent) -> int:
    return sum(1 for _ in agent.store.list_objects(agent.container, "inst-1/file-app/"))


def test_the_swift_proxy_stops_during_a_publish_and_comes_back(tmp_path, own_swift):
    agent = make_agent(tmp_path, own_swift)
    try:
        first = realistic_lines(2000)
        agent.path.write_bytes(first)
        assert agent.act("app", publish=True)["published"] == len(first)
        data = first + realistic_lines(30000, start=2000)
        agent.path.write_bytes(data)
        answers = {}
        publishing = threading.Thread(
            target=lambda: answers.update(
                resp=agent.request("POST", "/v1/logs/app", {"admin": True, "publish": True})
            )
        )
        publishing.start()
        deadline = time.monotonic() + 60
        while count(agent) < 10:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        own_swift.stop_server("proxy")
        publishing.join(120)
        resp = answers["resp"]
        assert resp.status_code == 503
        error = resp.json()["error"]
        assert error["code"] == "storage_unavailable" and "unreachable" in error["message"]
        log = agent.logs()["app"]  # the agent still answers, with the committed figures
        assert log["published"] == len(first)
        assert log["pending"] == len(data) - len(first)

        retry = agent.request("POST", "/v1/logs/app", {"admin": True, "publish": True})
        assert retry.status_code == 503  # still down: the same clear answer
    finally:
        own_swift.start_server("proxy")
    try:
        log = agent.act("app", publish=True)  # nobody cleaned anything up
        assert (log["status"], log["published"], log["pending"]) == ("Published", len(data), 0)
        assert published(agent) == data
    finally:
        agent.stop()


@pytest.mark.parametrize("policy", ["purge", "keep"])
def test_the_log_rotates_during_a_publish(tmp_path, own_swift, policy):
    agent = make_agent(tmp_path, own_swift, policy=policy)
    try:
        old = realistic_lines(30000)
        agent.path.write_bytes(old)
        result = {}
        publishing = threading.Thread(target=lambda: result.update(agent.act("app", publish=True)))
        publishing.start()
        deadline = time.monotonic() + 60
        while count(agent) < 5:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        # rotated while it publishes: renamed away, with a last line appended
        tail = b"written just before the rotation\n"
        with open(agent.path, "ab") as f:
            f.write(tail)
        os.rename(agent.path, str(agent.path) + ".1")
        new = realistic_lines(500, start=90000)
        agent.path.write_bytes(new)
        publishing.join(300)
        assert result["published"] == len(old)  # the publish finished the file it had opened
        log = agent.act("app", publish=True)
        assert log["status"] == "Published"
        if policy == "purge":
            assert published(agent) == new
        else:
            assert published(agent) == old + tail + new
    finally:
        agent.stop()


def test_revoked_storage_credentials_are_a_clear_error_then_recover(tmp_path, own_swift):
    """The agent's Swift key changed under it, then set right again."""
    agent = make_agent(tmp_path, own_swift)
    try:
        agent.path.write_bytes(b"before\n")
        agent.act("app", publish=True)
        agent.stop()
        conf = agent.conf.read_text()
        agent.conf.write_text(conf.replace("key = testing", "key = revoked"))
        agent.start()
        agent.path.write_bytes(b"before\nafter\n")
        resp = agent.request("POST", "/v1/logs/app", {"admin": True, "publish": True})
        assert resp.status_code == 503
        assert "refused our credentials" in resp.json()["error"]["message"]
        assert "revoked" not in resp.text
        agent.stop()
        agent.conf.write_text(conf)
        agent.start()
        assert agent.act("app", publish=True)["published"] == len(b"before\nafter\n")
        assert published(agent) == b"before\nafter\n"
    finally:
        agent.stop()


def test_through_the_api_swift_goes_away_in_a_publish_and_comes_back(tmp_path, own_swift):
    """What a user sees: a clear 503 while the store is away, then a publish completes."""
    stack = Stack(tmp_path, own_swift).start()
    try:
        first = realistic_lines(2000)
        stack.paths["big"].write_bytes(first)
        assert stack.post(stack.alice, {"name": "big", "publish": True}).status_code == 200
        data = first + realistic_lines(30000, start=2000)
        stack.paths["big"].write_bytes(data)
        big = f"{INSTANCE}/file-big/"
        before = sum(1 for _ in stack.store.list_objects(stack.container, big))
        answers = {}
        publishing = threading.Thread(
            target=lambda: answers.update(
                resp=stack.post(stack.alice, {"name": "big", "publish": True})
            )
        )
        publishing.start()
        wait_for(
            lambda: sum(1 for _ in stack.store.list_objects(stack.container, big)) >= before + 10,
            "ten objects of the publish stored",
            timeout=60,
        )
        own_swift.stop_server("proxy")
        publishing.join(120)
        resp = answers["resp"]
        assert resp.status_code == 503, resp.text
        error = resp.json()["error"]
        assert error["code"] == "storage_unavailable" and "unreachable" in error["message"]
        shown = stack.api.request("GET", f"/v1/instance/{INSTANCE}", stack.alice).json()
        assert shown["instance"]["task_state"] == "ACTIVE"  # the claim was given back
        log = stack.post(stack.alice, {"name": "big"}).json()["log"]  # show: from the agent
        # what was committed (the first publish, and checkpoints of this one, if any)
        assert len(first) <= log["published"] < len(data)
        assert log["published"] + log["pending"] == len(data)
        assert log["status"] == "Partial"
        trove = stack.api.request(
            "POST",
            f"/v1.0/{TENANT}/instances/{INSTANCE}/log",
            stack.alice,
            {"name": "big", "publish": True},
        )
        assert trove.status_code == 503 and set(trove.json()) == {"serviceUnavailable"}
        assert "Traceback" not in trove.text + resp.text
    finally:
        own_swift.start_server("proxy")
    try:
        resp = stack.post(stack.alice, {"name": "big", "publish": True})
        assert resp.status_code == 200, resp.text
        log = resp.json()["log"]
        assert (log["status"], log["published"], log["pending"]) == ("Published", len(data), 0)
        assert stack.published("big") == data
    finally:
        stack.stop()
