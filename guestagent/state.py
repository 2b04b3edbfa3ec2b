"""What the agent remembers of each log, in its state directory.

One small JSON file per log, replaced atomically (temporary file, fsync,
rename, fsync of the directory), so a reader never sees half a state and a
crash leaves either the old state or the new one. Actions on one log take
its lock file (``flock``), which serialises threads and processes alike: the
daemon and a one-shot command never publish the same log at once.
"""

import contextlib
import dataclasses
import errno
import fcntl
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from logsvc import atomicfile
from logsvc.exceptions import LogBusy, StateError

_FORMAT = 1


@dataclass(frozen=True)
class LogState:
    """The publishing position of a log, and what proves the file unchanged.

    `generation` counts incarnations of the log file in the object store;
    `offset` and `lines` are how far the current generation's file has been
    published; `published` is every byte the log holds in the store, across
    generations. `file_ino`, `header_*` and `tail_digest` recognise the file
    that was published from. `inflight` is the start offset of an upload that
    has not been committed (objects at or past it may be half-written);
    `purge_below` asks for every generation below it to be deleted.
    `container` is where they were published, `account` in whose Swift account:
    None for the service's, ``project:<digest>`` for a project's own
    (``[storage] account = project``; logsvc.storage.caller: a digest of the
    account's URL, never the URL or a token).

    `open_offset` is the start of the generation's newest object while it is
    open (a followed log): the next publish makes it hold, under its own name,
    its grown content; `open_lines` are the lines it holds as
    committed, `open_since` when it was first written (its age); `open_grown`
    that an upload was interrupted since, which may have rewritten it with
    more than the state counts (it must then be rewritten). Where the store
    joins parts (``ObjectStore.joins_parts``), an open object grows by a
    part instead: `open_parts` are then the parts ``[name, size, md5]`` it is
    made of as committed (empty while it is one plain object), and
    `drop_parts` the prefixes of parts that no object needs any more, to be
    deleted after the commit that made them so. `follow` is the log's
    switch of continuous publishing.
    """

    generation: int = 1
    offset: int = 0
    lines: int = 0
    published: int = 0
    file_ino: int | None = None
    header_digest: str | None = None
    header_len: int = 0
    tail_digest: str | None = None
    last_object: str | None = None
    inflight: int | None = None
    purge_below: int = 0
    # Where the objects are (None: not recorded; the configured container).
    container: str | None = None
    account: str | None = None
    open_offset: int | None = None
    open_lines: int = 0
    open_since: float | None = None
    open_grown: bool = False
    open_parts: list[list[Any]] = field(default_factory=list)
    drop_parts: list[str] = field(default_factory=list)
    follow: bool = False
    # Owned by the datastore layer: the log's switch, where the agent keeps it.
    enabled: bool | None = None
    switch: dict[str, Any] = field(default_factory=dict)
    # For operators (Guru Meditation Report, status report).
    last_publish: float | None = None
    last_error: str | None = None

    def replace(self, **changes: Any) -> "LogState":
        return dataclasses.replace(self, **changes)

    def to_json(self) -> bytes:
        return json.dumps({"format": _FORMAT, **dataclasses.asdict(self)}, sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> "LogState":
        data = json.loads(raw)
        data.pop("format", None)
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


class StateStore:
    """The state directory: ``<log>.state`` and ``<log>.lock`` per log."""

    def __init__(self, state_dir: str):
        self.state_dir = state_dir

    def _path(self, log: str, suffix: str) -> str:
        return os.path.join(self.state_dir, f"{log}.{suffix}")

    def ensure_dir(self) -> None:
        try:
            os.makedirs(self.state_dir, mode=0o700, exist_ok=True)
        except OSError as exc:
            raise StateError(
                f"cannot create the state directory {self.state_dir}: {exc.strerror}"
            ) from None

    def load(self, log: str) -> LogState | None:
        """The recorded state, or None when the log has none yet."""
        try:
            with open(self._path(log, "state"), "rb") as f:
                return LogState.from_json(f.read())
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError) as exc:
            raise StateError(f"cannot read the state of log {log!r}: {exc}") from None

    def save(self, log: str, state: LogState) -> None:
        self.ensure_dir()
        try:
            atomicfile.write_bytes(self._path(log, "state"), state.to_json())
        except OSError as exc:
            raise self._save_error(log, exc) from None

    def _save_error(self, log: str, exc: OSError) -> StateError:
        reason = "the disk is full" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else exc.strerror
        return StateError(f"cannot record the state of log {log!r} in {self.state_dir}: {reason}")

    @contextlib.contextmanager
    def lock(self, log: str, timeout: float) -> Iterator[None]:
        """Hold the log's lock; LogBusy when another action keeps it past `timeout`."""
        self.ensure_dir()
        try:
            fd = os.open(self._path(log, "lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise StateError(f"cannot open the lock of log {log!r}: {exc.strerror}") from None
        try:
            deadline = time.monotonic() + timeout
            delay = 0.005
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise LogBusy(
                            f"log {log!r} is busy with another action; try again later"
                        ) from None
                    time.sleep(delay)
                    delay = min(delay * 2, 0.1)
            yield
        finally:
            os.close(fd)  # closing releases the lock
