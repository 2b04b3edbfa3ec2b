"""Continuous publishing (follow) by a running agent into the real Swift.

A writer appends to a log while the agent follows it; readers look at the
objects at the same time, the way logsvc reads them (by name) and the way
python-troveclient does (by last-modified time, whole objects): whatever they
see must be a byte-exact prefix of the log, ending at a line end. The object
count stays within the bound of docs/follow.md; the setting outlives a
restart; a file that disappears is told once and followed again when it is
back; bad values of the options are refused at start.
"""

import re
import subprocess
import sys
import threading
import time
import uuid

import pytest

from logsvc.client.follow import StoreSource, follow
from logsvc.client.reader import LogReader
from logsvc.exceptions import ObjectNotFound
from tests.conftest import swift_store
from tests.helpers import realistic_lines, wait_for
from tests.processes import AgentProcess, swift_settings

LIMIT = 4096
INTERVAL = 0.2
AGE = 1.0


@pytest.fixture
def rig(tmp_path, devswift):
    yield from _rig(tmp_path, devswift, AGE, LIMIT)


def _rig(tmp_path, devswift, age: float, limit: int):
    container = f"follow-{uuid.uuid4().hex[:8]}"
    agent = AgentProcess(
        tmp_path,
        {
            "DEFAULT": {
                "guest_log_container_name": container,
                "guest_log_limit": limit,
                "guest_log_publish_interval": INTERVAL,
                "guest_log_object_age": age,
            },
            "storage": {"backend": "swift"},
            "swift": swift_settings(devswift),
            "file_datastore": {"logs": f"general:USER:{tmp_path / 'general.log'}"},
            "status": {"enabled": "false"},
        },
    )
    store = swift_store(devswift)
    agent.start()
    yield agent, store, container, tmp_path / "general.log"
    agent.stop()
    store.close()


PREFIX = "inst-1/file-general/"


def by_name(store, container) -> bytes | None:
    """The objects, whole, in name order (None: one was purged between list and read)."""
    try:
        return _by_name(store, container)
    except ObjectNotFound:
        return None


def _by_name(store, container) -> bytes:
    return b"".join(
        store.get_object(container, o.name)[1] for o in store.list_objects(container, PREFIX)
    )


def by_last_modified(store, container) -> bytes:
    """As python-troveclient reads a log: objects sorted by last-modified, whole."""
    listed = sorted(store.list_objects(container, PREFIX), key=lambda o: o.last_modified)
    return b"".join(store.get_object(container, o.name)[1] for o in listed)


class Writer(threading.Thread):
    """Appends `count` lines, one every `pause` seconds, to `path`."""

    def __init__(self, path, count: int, pause: float):
        super().__init__(daemon=True)
        self.path, self.count, self.pause = path, count, pause
        self.data = b""

    def run(self):
        lines = realistic_lines(self.count).splitlines(keepends=True)
        with open(self.path, "ab", buffering=0) as f:
            for line in lines:
                f.write(line[: len(line) // 2])  # a line written in two steps: never torn
                f.write(line[len(line) // 2 :])
                self.data += line
                time.sleep(self.pause)


def test_readers_see_byte_exact_prefixes_while_the_open_object_is_rewritten(rig):
    agent, store, container, path = rig
    path.write_bytes(b"")
    assert agent.act("general", follow=True)["follow"] is True
    writer = Writer(path, 600, 0.01)
    seen = {"name": [], "last-modified": []}
    writer.start()
    while writer.is_alive():
        seen["name"].append(by_name(store, container))
        seen["last-modified"].append(by_last_modified(store, container))
    final = writer.data
    wait_for(lambda: by_name(store, container) == final, "everything published")
    assert by_last_modified(store, container) == final
    for how, views in seen.items():
        assert len(set(views)) > 5, f"{how}: the reader saw the log grow only a few times"
        for view in views:
            assert final.startswith(view), f"{how}: not a prefix of the log"
            assert view == b"" or view.endswith(b"\n"), f"{how}: a torn line"
    names = [o.name for o in store.list_objects(container, PREFIX)]
    assert len(names) < 600 / 5  # objects were rewritten, not one per publish
    meta_lines = sum(int(store.head_object(container, n)["x-object-meta-lines"]) for n in names)
    assert meta_lines == final.count(b"\n")


def test_the_object_count_stays_within_its_bound(rig):
    """A slow writer for a long-ish run: objects <= bytes/limit + elapsed/age + 2."""
    agent, store, container, path = rig
    path.write_bytes(b"")
    started = time.monotonic()
    agent.act("general", follow=True)
    writer = Writer(path, 160, 0.05)  # ~8 s, ~16 KB: 4 objects by size, 8 by age
    writer.start()
    counts = []
    while writer.is_alive():
        elapsed = time.monotonic() - started
        count = sum(1 for _ in store.list_objects(container, PREFIX))
        counts.append(count)
        assert count <= len(writer.data) / LIMIT + elapsed / AGE + 2
        time.sleep(0.1)
    wait_for(lambda: by_name(store, container) == writer.data, "everything published")
    elapsed = time.monotonic() - started
    count = sum(1 for _ in store.list_objects(container, PREFIX))
    assert count <= len(writer.data) / LIMIT + elapsed / AGE + 2
    assert count > 1 and max(counts) >= count - 1


_FIGURES = re.compile(
    r"follow: log general: (\d+) publishes, (\d+) bytes new, (\d+) bytes uploaded"
)


def test_the_open_object_grows_by_parts_not_by_rewrites(tmp_path, devswift):
    """Swift joins parts: each publish sends the new bytes (and a small manifest),
    not the open object again: at most 2x what was appended, where rewrites of
    an object open for 25 publishes sent about 13x. Then the parts go."""
    rig = _rig(tmp_path, devswift, age=5.0, limit=1 << 20)
    agent, store, container, path = next(rig)
    try:
        path.write_bytes(b"")
        agent.act("general", follow=True)
        writer = Writer(path, 1500, 0.002)  # ~150 KB in ~3 s: some 15 publishes
        writer.start()
        made_of_parts = 0
        while writer.is_alive():
            for obj in store.list_objects(container, PREFIX):
                made_of_parts += store.parts(container, obj.name) is not None
            time.sleep(0.1)
        wait_for(lambda: by_name(store, container) == writer.data, "everything published")
        assert by_last_modified(store, container) == writer.data
        assert made_of_parts >= 3, "the open object was never seen made of parts"
        agent.stop()
        publishes, new, uploaded = (
            int(x) for x in _FIGURES.findall((agent.dir / "agent.log").read_text())[-1]
        )
        assert new == len(writer.data) and publishes >= 8
        assert uploaded <= 2 * new, f"{uploaded} bytes uploaded for {new} new"

        # Once closed, an object is one object again, and its parts go at the next action.
        agent.start()
        agent.act("general", follow=False, publish=True)
        agent.act("general", publish=True)
        names = [o.name for o in store.list_objects(container, PREFIX)]
        assert all(store.parts(container, name) is None for name in names)
        assert list(store.list_objects(container, "inst-1/file-general_parts/")) == []
        assert by_name(store, container) == writer.data
    finally:
        next(rig, None)


def test_follow_is_kept_across_a_restart_and_a_client_follows(rig, tmp_path):
    agent, store, container, path = rig
    path.write_bytes(b"first\n")
    agent.act("general", follow=True)
    wait_for(lambda: by_name(store, container) == b"first\n", "the first line published")
    agent.stop()
    path.write_bytes(b"first\nwhile it was down\n")
    agent.start()
    assert agent.logs()["general"]["follow"] is True
    wait_for(lambda: by_name(store, container) == path.read_bytes(), "published after the restart")

    # A client that follows: the last line, then what comes, from Range reads.
    reader = LogReader(store, container, PREFIX, "inst-1/file-general_metafile")
    got, events, stop = [], [], threading.Event()
    source = StoreSource(reader)
    chunks = follow(
        source, lines=1, interval=0.1, notify=lambda k, m: events.append(k), stop=stop.is_set
    )
    consumer = threading.Thread(target=lambda: [got.append(c) for c in chunks], daemon=True)
    consumer.start()
    wait_for(lambda: b"".join(got) == b"while it was down\n", "the last line")
    more = realistic_lines(50)
    with open(path, "ab") as f:
        f.write(more)
    wait_for(lambda: b"".join(got) == b"while it was down\n" + more, "the new lines")
    stop.set()
    consumer.join(timeout=30)
    assert not consumer.is_alive(), "the follow did not stop"
    assert events == []

    # Switched off: nothing more is published.
    assert agent.act("general", follow=False)["follow"] is False
    agent.stop()
    agent.start()
    assert agent.logs()["general"]["follow"] is False
    published = by_name(store, container)
    with open(path, "ab") as f:
        f.write(b"not followed\n")
    time.sleep(INTERVAL * 10)  # no event to wait for: nothing happens
    assert by_name(store, container) == published


def test_a_file_that_disappears_is_told_once_and_followed_again(rig):
    agent, store, container, path = rig
    path.write_bytes(b"one\n")
    agent.act("general", follow=True)
    wait_for(lambda: by_name(store, container) == b"one\n", "published")
    # the follower's own publish: it has seen the file (the switch published the first line)
    with path.open("ab") as f:
        f.write(b"more\n")
    wait_for(lambda: by_name(store, container) == b"one\nmore\n", "followed")
    path.unlink()
    log = agent.dir / "agent.log"
    wait_for(lambda: "the log file disappeared" in log.read_text(), "the disappearance told")
    time.sleep(INTERVAL * 10)
    assert log.read_text().count("the log file disappeared") == 1
    path.write_bytes(b"two\n")  # a new file: a rotation (purge), then published
    wait_for(lambda: by_name(store, container) == b"two\n", "the new file published")
    wait_for(lambda: "publishing again" in log.read_text(), "the return told")


def test_nothing_to_follow_yet_waits_quietly(rig):
    agent, store, container, path = rig
    assert not path.exists()
    assert agent.act("general", follow=True)["follow"] is True
    time.sleep(INTERVAL * 10)
    assert "follow:" not in (agent.dir / "agent.log").read_text()
    path.write_bytes(b"at last\n")
    wait_for(lambda: by_name(store, container) == b"at last\n", "published once it exists")


@pytest.mark.parametrize(
    ("option", "value", "says"),
    [
        ("guest_log_publish_interval", 0, "must be more than 0"),
        ("guest_log_object_age", -1, "must be more than 0"),
        # the publish's own (docs/architecture.md#several-uploads-in-flight)
        ("guest_log_upload_concurrency", 0, "must be from 1 to 32"),
        ("guest_log_upload_concurrency", 33, "must be from 1 to 32"),
        ("guest_log_max_bytes_per_second", 1000, "must be 0 (no limit) or at least one object"),
    ],
)
def test_a_value_no_publish_or_follow_works_with_is_refused_at_start(tmp_path, option, value, says):
    agent = AgentProcess(
        tmp_path,
        {
            "DEFAULT": {option: value},
            "storage": {"backend": "file", "file_root": tmp_path / "objects"},
            "file_datastore": {"logs": f"general:USER:{tmp_path / 'general.log'}"},
            "status": {"enabled": "false"},
        },
    )
    proc = subprocess.run(
        [sys.executable, "-m", "guestagent.cmd", "--config-file", str(agent.conf)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert f"{option} {says}" in proc.stderr
    assert "Traceback" not in proc.stderr
