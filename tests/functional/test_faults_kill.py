"""SIGKILL of the agent at each stage of a publish, deterministically, then a restart.

The agent talks to the real Swift through a proxy of the test's own
(tests/faultproxy.py), which watches the publish's requests and kills the
agent at the chosen point: before the first object is stored, between two
objects, once an object is stored but before the agent learns it, after
the last object and before the metafile, once the metafile is stored but
before the agent learns it, and after the commit (the agent's state saved)
before it answers. Then the agent starts again, with its state or with
that log's state gone (a lost disk: it resumes from the metafile), the log
grows, and a publish must leave the objects equal to the file's bytes,
each where its name says, with figures and a metafile that agree.

Each case runs twice: with the log published on demand (a new object per
publish), and followed (docs/follow.md), where the publish first grows the
open newest object under its own name: Swift joins parts (static large
objects), so the object is copied by Swift into its first part, a part with
the new bytes is stored, then the object becomes those parts joined, and
once full it is made one object again (a copy onto itself) before the next
object is written. More points kill the agent once each of those steps is
stored but before it learns it.

The agent keeps several uploads in flight (guest_log_upload_concurrency),
so most points find others open; two points are about them: the agent
killed while three uploads are open (their headers taken, their bodies
not all sent), and once an object is stored while others are open, before
the agent learns it.

One agent process serves the whole module, one log (and container) per
case, so that each case costs one restart. Its follower publishes at most
once an hour: the publishes of the test are the only ones.
"""

import contextlib
import json
import os
import signal
import threading
import time
import uuid

import pytest
import requests

from logsvc.layout import parse_chunk_name
from tests.conftest import swift_store
from tests.faultproxy import Cut, FaultProxy
from tests.helpers import in_log_order, realistic_lines, wait_for
from tests.processes import AgentProcess, swift_settings

LIMIT = 4096
POINTS = {
    "before the first object": "first",
    "between two objects": "between",
    "an object stored, its answer lost": "stored",
    "before the metafile": "nometa",
    "the metafile stored, its answer lost": "meta",
    "after the commit, before the answer": "commit",
    "the open object rewritten, its answer lost": "rewritten",
    "three uploads open": "open3",
    "an object stored while others are open, its answer lost": "storedopen",
    "the open object copied into its first part, its answer lost": "copied",
    "its new part stored, its answer lost": "part",
    "the open object made whole, its answer lost": "whole",
}
_FOLLOWED_ONLY = (
    "the open object rewritten, its answer lost",
    "the open object copied into its first part, its answer lost",
    "its new part stored, its answer lost",
    "the open object made whole, its answer lost",
)
_ON_DEMAND = [p for p in POINTS if p not in _FOLLOWED_ONLY]
# A lost state is rebuilt from the metafile: it holds either the commit before
# the publish (objects past it to clean up) or the publish's own. With the
# metafile lost too, the objects that begin the file are adopted.
_LOST = [
    ("an object stored, its answer lost", "lost"),
    ("the metafile stored, its answer lost", "lost"),
    ("an object stored, its answer lost", "lost with the metafile"),
    ("three uploads open", "lost"),
    ("an object stored while others are open, its answer lost", "lost with the metafile"),
]
CASES = [
    *((point, "kept", "on demand") for point in POINTS if point in _ON_DEMAND),
    *((point, state, "on demand") for point, state in _LOST),
    *((point, "kept", "followed") for point in POINTS),
    *((point, state, "followed") for point, state in _LOST),
    ("the open object rewritten, its answer lost", "lost", "followed"),
    ("the open object rewritten, its answer lost", "lost with the metafile", "followed"),
    ("its new part stored, its answer lost", "lost", "followed"),
    ("the open object made whole, its answer lost", "lost", "followed"),
    ("the open object made whole, its answer lost", "lost with the metafile", "followed"),
]


def log_name(point: str, state: str, mode: str = "on demand") -> str:
    return f"{'f_' if mode == 'followed' else ''}{POINTS[point]}_{state.replace(' ', '_')}"


class Killer:
    """The proxy's hook: SIGKILL the agent at one stage of a publish of one log."""

    def __init__(self):
        self.agent: AgentProcess | None = None
        self.point: str | None = None
        self.log = ""
        self.killed = threading.Event()
        self.chunks_answered = 0
        self.chunks_begun = 0
        self.copies_answered = 0
        self.open_at_kill = 0
        self.committed_offset = -1

    def arm(self, point: str, log: str, committed_offset: int) -> None:
        self.killed.clear()
        self.chunks_answered = self.chunks_begun = self.open_at_kill = 0
        self.copies_answered = 0
        self.log, self.committed_offset, self.point = log, committed_offset, point

    def __call__(self, stage: str, exchange) -> None:
        if self.point is None or exchange.method not in ("PUT", "COPY"):
            return
        if exchange.method == "COPY":  # of the open object: into its first part, or onto itself
            if f"/inst-1/file-{self.log}/log-" in exchange.path and stage == "answered":
                self.copies_answered += 1
                copied = self.copies_answered
                if (self.point, copied) in (
                    ("the open object copied into its first part, its answer lost", 1),
                    ("the open object made whole, its answer lost", 2),
                ):
                    self._kill(0)
            return
        part = f"/inst-1/file-{self.log}_parts/" in exchange.path
        if part and stage == "answered" and self.point == "its new part stored, its answer lost":
            self._kill(0)
        chunk = f"/inst-1/file-{self.log}/log-" in exchange.path
        meta = exchange.path.endswith(f"/inst-1/file-{self.log}_metafile")
        if chunk and stage == "answered" and exchange.status == 201:
            self.chunks_answered += 1
        if chunk and stage == "headers":
            self.chunks_begun += 1
        # uploads whose headers came, not answered yet (besides this one, once answered)
        still_open = self.chunks_begun - self.chunks_answered
        hit = {
            "before the first object": chunk and stage == "request",
            "between two objects": chunk and stage == "request" and self.chunks_answered == 3,
            "the open object rewritten, its answer lost": chunk
            and stage == "answered"
            and self.chunks_answered == 1,
            "an object stored, its answer lost": chunk
            and stage == "answered"
            and self.chunks_answered == 3,
            "before the metafile": meta and stage == "request",
            "the metafile stored, its answer lost": meta and stage == "answered",
            "after the commit, before the answer": meta and stage == "relayed",
            "three uploads open": chunk and stage == "headers" and still_open >= 3,
            "an object stored while others are open, its answer lost": chunk
            and stage == "answered"
            and self.chunks_answered >= 2
            and still_open >= 2,
        }.get(self.point, False)
        if not hit:
            return
        if self.point == "after the commit, before the answer":
            self._wait_for_commit()
        self._kill(still_open)

    def _kill(self, still_open: int) -> None:
        self.open_at_kill = still_open
        self.point = None
        os.kill(self.agent.proc.pid, signal.SIGKILL)
        self.agent.proc.wait()
        self.killed.set()
        raise Cut()

    def _wait_for_commit(self) -> None:
        """Until the agent's state file records the publish (the last step of a commit)."""
        state_file = self.agent.dir / "state" / f"{self.log}.state"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError, ValueError):
                state = json.loads(state_file.read_bytes())
                if state["offset"] == self.committed_offset and state["inflight"] is None:
                    return
            time.sleep(0.001)
        raise AssertionError("the agent never recorded the publish")


@pytest.fixture(scope="module")
def rig(tmp_path_factory, devswift):
    """One agent behind the killing proxy; a log and a container per case."""
    home = tmp_path_factory.mktemp("kill")
    killer = Killer()
    proxy = FaultProxy(devswift.proxy_url, killer).start()
    names = [log_name(*case) for case in CASES]
    container = f"kill-{uuid.uuid4().hex[:8]}-%(log)s"
    agent = AgentProcess(
        home,
        {
            "DEFAULT": {
                "guest_log_container_name": container,
                "guest_log_limit": LIMIT,
                # the follower's own publishes would race the test's
                "guest_log_publish_interval": 3600,
                "guest_log_upload_concurrency": 4,
            },
            "storage": {"backend": "swift"},
            "swift": {**swift_settings(devswift), "auth_url": f"{proxy.url}/auth/v1.0"},
            "file_datastore": {"logs": ",".join(f"{n}:USER:{home / n}.log" for n in names)},
            "status": {"enabled": "false"},
        },
    )
    killer.agent = agent
    store = swift_store(devswift)
    agent.start()
    yield agent, killer, store, container
    agent.stop()
    proxy.stop()
    store.close()


def chunks(store, container, prefix):
    return [o for o in store.list_objects(container, prefix)]


def check_consistent(store, container: str, log: str, data: bytes) -> None:
    """Objects in name order are `data`, each where its name says; figures that agree."""
    prefix = f"inst-1/file-{log}/"
    listed = chunks(store, container, prefix)
    in_log_order(listed)
    assert b"".join(store.get_object(container, o.name)[1] for o in listed) == data
    expected, lines, generations = 0, 0, set()
    for obj in listed:
        generation, offset = parse_chunk_name(prefix, obj.name)
        generations.add(generation)
        assert offset == expected, f"{obj.name}: expected offset {expected}"
        assert 0 < obj.size <= LIMIT
        expected += obj.size
        lines += int(store.head_object(container, obj.name)["x-object-meta-lines"])
    assert len(generations) == 1 and expected == len(data)
    assert lines == data.count(b"\n")
    meta = json.loads(store.get_object(container, f"inst-1/file-{log}_metafile")[1])
    assert (meta["log_size"], meta["published"], meta["log_lines"]) == (
        len(data),
        len(data),
        data.count(b"\n"),
    )


@pytest.mark.parametrize(("point", "state", "mode"), CASES)
def test_sigkill_at_each_stage_of_a_publish(rig, point, state, mode):
    agent, killer, store, pattern = rig
    log = log_name(point, state, mode)
    container = pattern % {"log": log}
    path = agent.dir / f"{log}.log"
    if agent.proc.poll() is not None:  # an earlier case failed before its restart
        agent.start()
    first = realistic_lines(150)  # ~15 KB: a few objects published before the fault
    path.write_bytes(first)
    if mode == "followed":  # follow on publishes at once; its last object stays open
        assert agent.act(log, follow=True)["published"] == len(first)
        open_object = json.loads((agent.dir / "state" / f"{log}.state").read_bytes())
        assert open_object["open_offset"] not in (None, 0)
    else:
        assert agent.act(log, publish=True)["published"] == len(first)
    data = first + realistic_lines(250, start=150)  # ~25 KB more: 7 objects
    path.write_bytes(data)

    killer.arm(point, log, committed_offset=len(data))
    with contextlib.suppress(requests.ConnectionError):
        agent.request("POST", f"/v1/logs/{log}", {"admin": True, "publish": True}, timeout=60)
    assert killer.killed.wait(10), "the agent was never killed"
    assert agent.proc.returncode == -signal.SIGKILL
    if point in ("three uploads open", "an object stored while others are open, its answer lost"):
        assert killer.open_at_kill >= 2
    if state != "kept":
        (agent.dir / "state" / f"{log}.state").unlink()
    if state == "lost with the metafile":
        store.delete_object(container, f"inst-1/file-{log}_metafile")
    agent.start()

    # What the agent believes, after a restart: the last commit, which the
    # metafile holds too once it was stored (a lost state is rebuilt from it);
    # without either, what the objects that begin the file hold (the first
    # publish's and three of the second's).
    committed = point == "after the commit, before the answer" or (
        state == "lost" and point == "the metafile stored, its answer lost"
    )
    published = len(data) if committed else len(first)
    if state == "lost with the metafile":
        listed = chunks(store, container, f"inst-1/file-{log}/")
        published = sum(o.size for o in listed)
        assert len(first) < published < len(data)
    shown = wait_for(
        lambda: (view := agent.logs()[log])["published"] == published and view,
        f"published {published} after the restart",
    )
    assert shown["published"] + shown["pending"] == len(data)
    if state == "kept":
        assert shown["status"] == ("Published" if committed else "Partial")
    else:  # the switch of a `file` log lives in the state directory, lost with it
        assert shown["status"] == "Disabled"

    data += realistic_lines(30, start=400)  # the log grew while the agent was down
    path.write_bytes(data)
    view = agent.act(log, publish=True)
    assert (view["status"], view["published"], view["pending"]) == ("Published", len(data), 0)
    check_consistent(store, container, log, data)
    names = [o.name for o in chunks(store, container, f"inst-1/file-{log}/")]
    again = agent.act(log, publish=True)  # nothing new: nothing moves
    assert (again["published"], again["pending"]) == (len(data), 0)
    assert [o.name for o in chunks(store, container, f"inst-1/file-{log}/")] == names
    # No part is left that no object needs (the next action after a commit drops them).
    needed = {p for name in names for p in store.parts(container, name) or ()}
    left = {o.name for o in chunks(store, container, f"inst-1/file-{log}_parts/")}
    assert left <= needed, f"parts no object needs: {sorted(left - needed)}"
