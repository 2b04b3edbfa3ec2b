"""Faults seen through the API, on real processes: the agent killed in a publish and
started again, and eight clients publishing one growing log at once.

After each: the objects equal the file's bytes (nothing lost, nothing twice),
the instance is ACTIVE again, and nobody had to clean anything up.
"""

import contextlib
import json
import os
import signal
import sqlite3
import threading
import time

import requests

from tests.apistack import INSTANCE, TENANT, Stack
from tests.helpers import realistic_lines, wait_for


def objects(stack: Stack, log: str) -> int:
    return sum(1 for _ in stack.store.list_objects(stack.container, f"{INSTANCE}/file-{log}/"))


def task_state(stack: Stack) -> str:
    shown = stack.api.request("GET", f"/v1/instance/{INSTANCE}", stack.alice).json()
    return shown["instance"]["task_state"]


def test_the_agent_killed_in_a_publish_then_started_again(tmp_path, devswift):
    # log_list_max_age = 0: a list asks the agent, so it shows what the agent is.
    # agent_silence_warning = 5: a heartbeat that said "publishing" just before the
    # kill keeps the instance LOGGING only that long (90 s by default).
    stack = Stack(
        tmp_path,
        devswift,
        api_sections={"api": {"log_list_max_age": 0, "agent_silence_warning": 5}},
    ).start()
    try:
        data = realistic_lines(30000)  # ~3 MB in 16 KiB objects
        stack.paths["big"].write_bytes(data)
        before = stack.logs(stack.alice).json()
        answers = {}
        publishing = threading.Thread(
            target=lambda: answers.update(
                resp=stack.post(stack.alice, {"name": "big", "publish": True})
            )
        )
        publishing.start()
        wait_for(lambda: objects(stack, "big") >= 5, "a publish under way", timeout=60)
        stack.agent.kill()
        publishing.join(60)
        resp = answers["resp"]
        assert resp.status_code == 503, resp.text
        assert "unreachable" in resp.json()["error"]["message"]
        # The claim was given back (a claim left behind would hold for minutes).
        wait_for(lambda: task_state(stack) == "ACTIVE", "the instance ACTIVE again", timeout=30)

        listed = stack.logs(stack.alice)  # the last known state, marked as such
        assert listed.status_code == 200 and listed.json()["stale"] is True
        assert {e["name"] for e in listed.json()["logs"]} == {e["name"] for e in before["logs"]}
        again = stack.post(stack.alice, {"name": "big", "publish": True})
        assert again.status_code == 503
        trove = stack.api.request(
            "POST",
            f"/v1.0/{TENANT}/instances/{INSTANCE}/log",
            stack.alice,
            {"name": "big", "publish": True},
        )
        assert trove.status_code == 503 and set(trove.json()) == {"serviceUnavailable"}
        shown = stack.post(stack.alice, {"name": "big"})  # a show: the last known state
        assert shown.status_code == 200 and shown.json()["stale"] is True

        stack.agent.start()  # and nothing else: no clean-up, no API restart
        listed = stack.logs(stack.alice).json()
        assert "stale" not in listed
        big = next(e for e in listed["logs"] if e["name"] == "big")
        assert big["published"] + big["pending"] == len(data)
        resp = stack.post(stack.alice, {"name": "big", "publish": True})
        assert resp.status_code == 200, resp.text
        log = resp.json()["log"]
        assert (log["status"], log["published"], log["pending"]) == ("Published", len(data), 0)
        assert stack.published("big") == data
        assert task_state(stack) == "ACTIVE"
    finally:
        stack.stop()


def test_eight_clients_publish_one_growing_log_at_once(stack):
    """Each client's publish runs, or joins the one that runs (retrying on a 409)."""
    path = stack.paths["big"]
    path.write_bytes(realistic_lines(2000))
    stop = threading.Event()
    written = [2000]

    def grow():
        # ~40 KB/s: well below what a publish uploads, so that each one ends
        with open(path, "ab") as f:
            while not stop.is_set():
                f.write(realistic_lines(20, start=written[0]))  # whole lines, one write
                f.flush()
                written[0] += 20
                time.sleep(0.05)

    outcomes: list[dict] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def client(n: int) -> None:
        session = requests.Session()
        session.headers["X-Auth-Token"] = stack.alice
        url = f"{stack.api.url}/v1/instance/{INSTANCE}/log"
        refused = 0
        start.wait()
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            resp = session.post(url, json={"name": "big", "publish": True}, timeout=120)
            if resp.status_code == 409 and "busy" in resp.json()["error"]["message"]:
                refused += 1
                time.sleep(0.05)
                continue
            with lock:
                outcomes.append(
                    {"client": n, "status": resp.status_code, "refused": refused, "body": resp.text}
                )
            return
        with lock:
            outcomes.append({"client": n, "status": None, "refused": refused})

    size_at_start = path.stat().st_size
    writer = threading.Thread(target=grow)
    writer.start()
    clients = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    try:
        for t in clients:
            t.start()
        for t in clients:
            t.join(300)
    finally:
        stop.set()
        writer.join()
    assert len(outcomes) == 8
    assert all(o["status"] == 200 for o in outcomes), outcomes
    # they did run into each other: joined a running publish (or, between two, 409)
    ids = {json.loads(o["body"])["log"]["publish"]["id"] for o in outcomes}
    assert len(ids) < 8 or sum(o["refused"] for o in outcomes) > 0
    assert path.stat().st_size > size_at_start  # and the log grew meanwhile
    published = [json.loads(o["body"])["log"]["published"] for o in outcomes]
    assert all(0 < p <= path.stat().st_size for p in published)
    assert task_state(stack) == "ACTIVE"

    final = stack.post(stack.alice, {"name": "big", "publish": True}).json()["log"]
    data = path.read_bytes()
    assert (final["published"], final["pending"]) == (len(data), 0)
    assert stack.published("big") == data


def claim_holders(stack: Stack) -> list[str]:
    """The holders of the API's claims, as its database has them."""
    path = stack.api.database_url.removeprefix("sqlite:///")
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return [row[0] for row in conn.execute("SELECT holder FROM log_actions")]


def test_a_worker_killed_in_a_publish_leaves_no_lock_behind(tmp_path, devswift):
    stack = Stack(tmp_path, devswift).start()
    try:
        data = realistic_lines(30000)  # ~3 MB in 16 KiB objects
        stack.paths["big"].write_bytes(data)
        answers = {}

        def publish() -> None:
            try:
                answers["resp"] = stack.post(stack.alice, {"name": "big", "publish": True})
            except requests.ConnectionError as exc:  # its worker is killed
                answers["error"] = exc

        publishing = threading.Thread(target=publish)
        publishing.start()
        wait_for(lambda: objects(stack, "big") >= 5, "a publish under way", timeout=60)
        (holder,) = claim_holders(stack)
        os.kill(int(holder.split()[1]), signal.SIGKILL)  # the worker that serves it
        publishing.join(60)
        assert "error" in answers, answers

        # The claim's holder is gone: the next action is not refused with 409 (it
        # waited out a TTL of minutes); the agent's publish ran on, and is joined.
        resp = stack.post(stack.alice, {"name": "big", "publish": True})
        assert resp.status_code == 200, resp.text
        assert resp.json()["log"]["published"] == len(data)
        assert stack.published("big") == data
        assert claim_holders(stack) == []
        assert task_state(stack) == "ACTIVE"
    finally:
        stack.stop()
