"""A log file, a publisher and the objects it wrote, for tests."""

import os
import threading
import time
import uuid
from pathlib import Path

import pytest

from guestagent.publisher import Publisher
from guestagent.publishmodel import LogSource, PublishSettings
from guestagent.state import StateStore
from logsvc.exceptions import StateError, StorageUnavailable
from logsvc.layout import LogLocation, parse_chunk_name
from logsvc.logmodel import LogType
from logsvc.storage.base import ObjectInfo, ObjectStore


class LogHarness:
    """One log file under `tmp_path`, published into `store`."""

    def __init__(
        self,
        store: ObjectStore,
        tmp_path: Path,
        *,
        limit: int = 64,
        policy: str = "purge",
        expiry: int = 0,
        container: str | None = None,
        instance_id: str | None = None,
        log_type: LogType = LogType.USER,
        concurrency: int = 1,
        max_rate: int = 0,
    ):
        self.store = store
        self.dir = tmp_path
        self.path = tmp_path / "general.log"
        self.state_dir = tmp_path / "state"
        self.settings = PublishSettings(
            container_pattern="unused",
            limit=limit,
            expiry=expiry,
            rotation_policy=policy,
            lock_timeout=30,
            concurrency=concurrency,
            max_rate=max_rate,
        )
        self.location = LogLocation(
            container or f"logs-{uuid.uuid4().hex[:10]}",
            instance_id or f"inst-{uuid.uuid4().hex[:10]}",
            "mysql",
            "general",
        )
        self.source = LogSource("general", log_type, str(self.path))

    def publisher(self, store: ObjectStore | None = None, states: StateStore | None = None):
        """A new publisher, as a new agent process would build it."""
        return Publisher(
            self.source,
            self.location,
            store or self.store,
            states or StateStore(str(self.state_dir)),
            self.settings,
        )

    def publish(self, **kwargs):
        return self.publisher(**kwargs).publish()

    def append(self, data: bytes) -> None:
        with open(self.path, "ab") as f:
            f.write(data)

    def write(self, data: bytes) -> None:
        with open(self.path, "wb") as f:
            f.write(data)

    def objects(self) -> list[ObjectInfo]:
        return list(self.store.list_objects(self.location.container, self.location.prefix))

    def published_bytes(self) -> bytes:
        """The log as a reader gets it: every object in name order, concatenated."""
        return b"".join(
            self.store.get_object(self.location.container, o.name)[1] for o in self.objects()
        )

    def positions(self) -> list[tuple[int, int]]:
        return [parse_chunk_name(self.location.prefix, o.name) for o in self.objects()]

    def state(self):
        return StateStore(str(self.state_dir)).load("general")


def in_log_order(objects: list[ObjectInfo]) -> None:
    """Last-modified times in name order, so that python-troveclient reads the log in order.

    It sorts the listing (which comes in name order) by ``last_modified``;
    Python's sort is stable, so equal times would keep the name order too.
    """
    names = [o.name for o in objects]
    assert names == sorted(names)
    stamps = [o.last_modified for o in objects]
    assert stamps == sorted(stamps), "a later object has an earlier last-modified time"
    assert [o.name for o in sorted(objects, key=lambda o: o.last_modified)] == names


def complete_lines(data: bytes) -> bytes:
    """What a publish may take of `data`: everything up to its last newline."""
    return data[: data.rfind(b"\n") + 1]


class Crash:
    """Counts the steps of a publish that touch storage or state; fails step N."""

    def __init__(self, at: int):
        self.at = at
        self.steps = 0
        self.seen: list[str] = []  # what each step was
        self.lock = threading.Lock()

    def step(self, what: str, error) -> None:
        with self.lock:
            self.steps += 1
            self.seen.append(what)
            if self.steps == self.at:
                raise error(f"injected failure at step {self.at} ({what})")


class CrashingStore(ObjectStore):
    """A real store whose Nth write or delete fails (as when the agent dies there)."""

    def __init__(self, inner: ObjectStore, crash: Crash):
        self.inner, self.crash = inner, crash
        self.description = inner.description
        self.max_upload_concurrency = inner.max_upload_concurrency

    def put_object(self, container, name, data, headers=None, turn=None):
        self.crash.step(f"put {name}", StorageUnavailable)
        return self.inner.put_object(container, name, data, headers, turn)

    def delete_object(self, container, name):
        self.crash.step(f"delete {name}", StorageUnavailable)
        return self.inner.delete_object(container, name)

    def put_joined(self, container, name, parts, headers):
        self.crash.step(f"join {name}", StorageUnavailable)
        return self.inner.put_joined(container, name, parts, headers)

    def copy_object(self, container, source, destination, headers):
        self.crash.step(f"copy {source} to {destination}", StorageUnavailable)
        return self.inner.copy_object(container, source, destination, headers)

    def joins_parts(self):
        return self.inner.joins_parts()

    def parts(self, container, name):
        return self.inner.parts(container, name)

    def get_object(self, *args, **kwargs):
        return self.inner.get_object(*args, **kwargs)

    def stream_object(self, *args, **kwargs):
        return self.inner.stream_object(*args, **kwargs)

    def head_object(self, *args, **kwargs):
        return self.inner.head_object(*args, **kwargs)

    def list_objects(self, *args, **kwargs):
        return self.inner.list_objects(*args, **kwargs)

    def check(self):
        return self.inner.check()


class CrashingStates(StateStore):
    """A real state directory whose Nth save fails."""

    def __init__(self, state_dir: str, crash: Crash):
        super().__init__(state_dir)
        self.crash = crash

    def save(self, log, state):
        self.crash.step(f"save state offset={state.offset}", StateError)
        return super().save(log, state)


def realistic_lines(count: int, start: int = 0) -> bytes:
    """MySQL general-log-like lines of varied length."""
    out = []
    for i in range(start, start + count):
        tail = "x" * (i * 7 % 90)
        out.append(
            f"2026-11-22T01:{i % 60:02d}:{i % 59:02d}.{i:06d}Z\t{i % 9} Query\t"
            f"SELECT {i} /* {tail} */\n"
        )
    return "".join(out).encode()


def wait_for(predicate, what: str, timeout: float = 30.0):
    """The first true value `predicate` returns; the test fails after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"{what} did not happen within {timeout}s")


def set_mtime(path: os.PathLike, seconds_ago: float) -> None:
    t = time.time() - seconds_ago
    os.utime(path, (t, t))
