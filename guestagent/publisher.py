"""The publish engine: one log file into the object store, byte-exact.

A publish, under the log's lock:

1. settle what an earlier action left unfinished: generations to purge, and
   objects of an upload that never committed (``inflight``);
2. check the file against what was published (``rotation.rotation_reason``);
   on rotation either purge and start a new generation (the spec's way, the
   default) or, with the ``keep`` policy, publish the rotated files' tails
   first, each as a generation of its own;
3. upload the new bytes in chunks cut by ``logfile.OpenLog.chunks`` to names
   that carry their position, then commit: the metafile, then the state
   (a long upload also commits every ``CHECKPOINT_OBJECTS`` objects).

A crash anywhere leaves the state pointing at the last commit and marks any
upload in flight, so the next publish removes what may be half-done and
uploads it again to the same names: no byte is lost or duplicated.
"""

import contextlib
import logging
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from oslo_config import cfg

from guestagent import metafile
from guestagent.logfile import OpenLog
from guestagent.logfile import stat as stat_file
from guestagent.rotation import rotated_files, rotation_reason
from guestagent.state import LogState, StateStore
from logsvc.exceptions import (
    LogFileMissing,
    LogFileUnreadable,
    LogsvcError,
    ObjectNotFound,
    StateError,
)
from logsvc.layout import LogLocation, parse_chunk_name
from logsvc.logmodel import LogType
from logsvc.storage import ObjectStore
from logsvc.storage.base import md5_hex

LOG = logging.getLogger(__name__)

#: A long publish commits its progress after this many objects: a crash or an
#: outage then costs at most that many uploads again, for one more metafile
#: write each time.
CHECKPOINT_OBJECTS = 64
#: Bytes read at a time when counting the lines of a log file.
_COUNT_BLOCK = 1 << 20


@dataclass(frozen=True)
class PublishSettings:
    """How logs are published; `from_conf` reads the guest_log_* options."""

    container_pattern: str = "database_logs"
    limit: int = 1000000
    expiry: int = 0
    rotation_policy: str = "purge"
    lock_timeout: float = 60.0

    @classmethod
    def from_conf(cls, conf: cfg.ConfigOpts) -> "PublishSettings":
        return cls(
            container_pattern=conf.guest_log_container_name,
            limit=conf.guest_log_limit,
            expiry=conf.guest_log_expiry,
            rotation_policy=conf.guest_log_rotation_policy,
            lock_timeout=conf.guest_log_lock_timeout,
        )


@dataclass(frozen=True)
class LogSource:
    """A log a datastore offers: its name, type and file (None: no file here)."""

    name: str
    type: LogType
    path: str | None


@dataclass
class PublishReport:
    """What one publish did, for logs, reports and tests."""

    bytes_read: int = 0
    bytes_published: int = 0
    objects: int = 0
    rotation: str | None = None
    purged: int = 0
    cleaned: int = 0
    lost_tail: bool = False
    seconds: float = 0.0


@dataclass(frozen=True)
class Figures:
    """A log's numbers as of now: what is published and what is pending."""

    published: int
    pending: int
    rotated: bool
    last_publish: float | None
    last_error: str | None


class Publisher:
    """Publishes, discards and measures one log."""

    def __init__(
        self,
        source: LogSource,
        location: LogLocation,
        store: ObjectStore,
        states: StateStore,
        settings: PublishSettings,
    ):
        self.source = source
        self.location = location
        self.store = store
        self.states = states
        self.settings = settings

    @property
    def name(self) -> str:
        return self.source.name

    # --- figures (no lock, no object-store request) --------------------------

    def state(self) -> LogState:
        return self.states.load(self.name) or LogState()

    def figures(self) -> Figures:
        state = self.state()
        if self._moved(state):
            state = LogState(last_publish=state.last_publish, last_error=state.last_error)
        pending, rotated, problem = 0, False, None
        try:
            if self.source.path and stat_file(self.source.path) is not None:
                with OpenLog(self.source.path) as log:
                    rotated = rotation_reason(state, log) is not None
                    pending = log.size if rotated else log.size - state.offset
                    if rotated and self.settings.rotation_policy == "keep":
                        pending += sum(
                            (s.size if (s := stat_file(f.path)) else 0) - f.start
                            for f in rotated_files(self.source.path, state, log.ino)
                        )
        except (LogFileMissing, LogFileUnreadable) as exc:
            problem = exc.message
        return Figures(
            published=state.published,
            pending=max(0, pending),
            rotated=rotated,
            last_publish=state.last_publish,
            last_error=state.last_error or problem,
        )

    # --- actions ----------------------------------------------------------------

    def publish(self) -> PublishReport:
        """Upload what is new in the log file; see the module's docstring."""
        return self._locked(_Run.publish)

    def discard(self) -> PublishReport:
        """Delete everything published of the log; the next publish starts over."""
        return self._locked(_Run.discard)

    def _moved(self, state: LogState) -> bool:
        """Whether the log was published into another container than the configured one."""
        return state.container is not None and state.container != self.location.container

    def recover(self) -> LogState:
        """Make sure the log has a local state, from the metafile when it is gone."""
        with self.states.lock(self.name, self.settings.lock_timeout):
            return self._load_or_recover()

    def _locked(self, action) -> PublishReport:
        started = time.monotonic()
        with self.states.lock(self.name, self.settings.lock_timeout):
            run = _Run(self, self._load_or_recover())
            try:
                action(run)
            except LogsvcError as exc:
                _name_the_log(exc, self.name)
                run.record_error(exc)
                raise
            finally:
                run.report.seconds = time.monotonic() - started
            return run.report

    def _load_or_recover(self) -> LogState:
        state = self.states.load(self.name)
        if state is not None:
            return state
        loc = self.location
        try:
            _, raw = self.store.get_object(loc.container, loc.metafile)
            state = metafile.parse(raw)
            LOG.info("log %s: resumed from its metafile at offset %d", self.name, state.offset)
        except ObjectNotFound:
            state = self._state_from_listing()
        self.states.save(self.name, state)
        return state

    def _state_from_listing(self) -> LogState:
        """A first state for a log whose metafile is gone but whose objects may remain.

        When the newest generation's objects, from offset 0 on, are still the
        start of the log file, the log resumes after them; otherwise they are
        an unknown earlier publish: purged, or kept as history by ``keep``.
        """
        runs: dict[int, list[tuple[int, str, int]]] = {}
        total = 0
        for obj in self.store.list_objects(self.location.container, self.location.prefix):
            parsed = parse_chunk_name(self.location.prefix, obj.name)
            if parsed is None:
                continue  # not an object of ours: a purge removes it, nobody reads it
            runs.setdefault(parsed[0], []).append((parsed[1], obj.name, obj.size))
            total += obj.size
        if not runs:
            return LogState()
        newest = max(runs)
        keep = self.settings.rotation_policy == "keep"
        history = sum(size for g, run in runs.items() if g < newest for _, _, size in run)
        adopted = self._adopt(newest, runs[newest])
        if adopted is not None:
            LOG.warning(
                "log %s: its metafile is gone; resuming after the %d bytes its objects hold",
                self.name,
                adopted.offset,
            )
            if keep:
                return adopted.replace(published=adopted.offset + history)
            return adopted.replace(purge_below=newest) if history else adopted
        generation = newest + 1
        LOG.warning(
            "log %s: %d bytes of an unknown earlier publish found; %s",
            self.name,
            total,
            "kept" if keep else "they will be purged",
        )
        if keep:
            return LogState(generation=generation, published=total)
        return LogState(generation=generation, purge_below=generation)

    def _adopt(self, generation: int, objects: list[tuple[int, str, int]]) -> LogState | None:
        """The state after `objects` (offset, name, size), if they begin the log file."""
        objects.sort()
        end, run = 0, []
        for offset, name, size in objects:
            if offset != end:
                break  # past a gap: an upload that never committed, cleared as in flight
            run.append((offset, name, size))
            end += size
        if not run or not self.source.path or stat_file(self.source.path) is None:
            return None
        with OpenLog(self.source.path) as log:
            if log.size < end:
                return None
            for offset, name, size in {run[0], run[-1]}:
                try:
                    body = self.store.get_object(self.location.container, name)[1]
                except ObjectNotFound:
                    return None  # expired meanwhile
                if body != log.read(offset, size):
                    return None
            lines = sum(
                log.read(pos, min(_COUNT_BLOCK, end - pos)).count(b"\n")
                for pos in range(0, end, _COUNT_BLOCK)
            )
            start = LogState(generation=generation)
            return _moved_on(start, log, end, lines, end, run[-1][1], end, self.location)


class _Run:
    """One action on a log, holding its lock; `committed` is what is on disk."""

    def __init__(self, publisher: Publisher, state: LogState):
        self.p = publisher
        self.committed = state
        self.state = state
        self.report = PublishReport()

    # --- the two actions ---------------------------------------------------------

    def publish(self) -> None:
        if self.p._moved(self.state):
            # guest_log_container_name changed: the new container gets the whole
            # log; what the old one holds stays there until it expires.
            LOG.warning(
                "log %s: published into container %s until now, %s from now on: "
                "publishing it from the start",
                self.p.name,
                self.state.container,
                self.p.location.container,
            )
            self.save(
                LogState(
                    generation=self.state.generation + 1,
                    enabled=self.state.enabled,
                    switch=self.state.switch,
                )
            )
        self.settle()
        path = self.p.source.path
        if not path:
            raise LogFileMissing(
                f"log {self.p.name!r} has no file on this instance (is its output on?)"
            )
        with OpenLog(path) as log:
            try:
                reason = rotation_reason(self.state, log)
                if reason:
                    self.rotate(log, reason)
                self.publish_file(log, final=False)
            finally:
                self.report.bytes_read += log.bytes_read
        self.commit(self.state.replace(last_publish=time.time(), last_error=None))
        LOG.info(
            "log %s: published %d bytes in %d objects",
            self.p.name,
            self.report.bytes_published,
            self.report.objects,
        )

    def discard(self) -> None:
        generation = self.state.generation + 1
        fresh = LogState(
            generation=generation,
            purge_below=generation,
            enabled=self.state.enabled,
            switch=self.state.switch,
        )
        self.commit(fresh)
        self.settle()

    # --- steps -------------------------------------------------------------------

    def settle(self) -> None:
        """Finish a purge and clear an uncommitted upload that an earlier action left."""
        below = self.state.purge_below
        if below:
            self.report.purged += self.delete_objects(lambda gen, _: gen < below)
            self.commit(self.state.replace(purge_below=0))
        if self.state.inflight is not None:
            gen, start = self.state.generation, self.state.inflight
            self.report.cleaned += self.delete_objects(
                lambda g, offset: g == gen and offset >= start,
                marker=self.p.location.chunk_name(gen, start - 1) if start else "",
                prefix=self.p.location.generation_prefix(gen),
            )
            self.save(self.state.replace(inflight=None))

    def rotate(self, log: OpenLog, reason: str) -> None:
        LOG.info("log %s: %s", self.p.name, reason)
        self.report.rotation = reason
        if self.p.settings.rotation_policy == "keep":
            rotated = rotated_files(self.p.source.path, self.state, log.ino)
            if not rotated or not rotated[0].continues:
                self.report.lost_tail = True
                LOG.warning(
                    "log %s: no rotated copy of the file was found; what was written to it "
                    "after the last publish, if anything, is not published",
                    self.p.name,
                )
            for old in rotated:
                with OpenLog(old.path) as old_log:
                    if not old.continues:
                        self.state = _next_generation(self.state, old_log.ino)
                    self.publish_file(old_log, final=True)
                    self.report.bytes_read += old_log.bytes_read
            self.state = _next_generation(self.state, log.ino)
            return
        generation = self.state.generation + 1
        self.commit(
            _next_generation(self.state, log.ino).replace(purge_below=generation, published=0)
        )
        self.settle()

    def publish_file(self, log: OpenLog, final: bool) -> None:
        """Upload `log` from the state's offset on, then commit."""
        settings, loc = self.p.settings, self.p.location
        start = self.state
        with contextlib.closing(
            _prepared(log.chunks(start.offset, settings.limit, final))
        ) as chunks:
            chunk = next(chunks, None)
            if chunk is None:
                if start.file_ino != log.ino:
                    self.commit(start.replace(file_ino=log.ino))
                return
            self.save(start.replace(inflight=start.offset))
            offset, lines, published, last = start.offset, start.lines, start.published, None
            headers = {"X-Delete-After": str(settings.expiry)} if settings.expiry else {}
            since_checkpoint = 0
            while chunk is not None:
                pos, data, count, etag = chunk
                chunk = None
                name = loc.chunk_name(start.generation, pos)
                self.p.store.put_object(
                    loc.container,
                    name,
                    data,
                    {**headers, "X-Object-Meta-Lines": str(count), "ETag": etag},
                )
                size = len(data)
                del data  # memory stays within two chunks: this one is done
                offset, lines, published, last = pos + size, lines + count, published + size, name
                self.report.bytes_published += size
                self.report.objects += 1
                since_checkpoint += 1
                chunk = next(chunks, None)
                if chunk is not None and since_checkpoint >= CHECKPOINT_OBJECTS:
                    # What is uploaded so far stays, should the rest be cut short.
                    self.commit(_moved_on(start, log, offset, lines, published, last, offset, loc))
                    since_checkpoint = 0
            self.commit(_moved_on(start, log, offset, lines, published, last, None, loc))

    def delete_objects(self, doomed, marker: str = "", prefix: str = "") -> int:
        """Delete this log's objects for which ``doomed(generation, offset)`` holds."""
        loc = self.p.location
        deleted = 0
        listing: Iterator = self.p.store.list_objects(
            loc.container, prefix or loc.prefix, marker=marker
        )
        for obj in listing:
            parsed = parse_chunk_name(loc.prefix, obj.name)
            if parsed is None or doomed(*parsed):
                deleted += self.p.store.delete_object(loc.container, obj.name)
        return deleted

    # --- commits -----------------------------------------------------------------

    def commit(self, state: LogState) -> None:
        """Record `state`: the metafile when the published figures moved, then locally."""
        old = self.committed
        if (state.generation, state.offset, state.published, state.purge_below) != (
            old.generation,
            old.offset,
            old.published,
            old.purge_below,
        ):
            self.write_metafile(state)
        self.save(state)

    def save(self, state: LogState) -> None:
        self.p.states.save(self.p.name, state)
        self.committed = self.state = state

    def write_metafile(self, state: LogState) -> None:
        loc, settings = self.p.location, self.p.settings
        if state.published == 0 and not state.purge_below:
            self.p.store.delete_object(loc.container, loc.metafile)
            return
        headers = {"X-Object-Meta-Lines": str(state.lines)}
        if settings.expiry:
            headers["X-Delete-After"] = str(settings.expiry)
        body = metafile.render(
            state,
            log_name=self.p.name,
            log_type=self.p.source.type,
            log_file=self.p.source.path or "",
        )
        self.p.store.put_object(loc.container, loc.metafile, body, headers)

    def record_error(self, exc: LogsvcError) -> None:
        """Keep the error beside the last committed state, if the disk lets us."""
        with contextlib.suppress(StateError):
            self.p.states.save(self.p.name, self.committed.replace(last_error=exc.message))
        LOG.warning("log %s: %s", self.p.name, exc.message)


def _prepared(chunks: Iterator[tuple[int, bytearray]]) -> Iterator[tuple[int, bytearray, int, str]]:
    """(offset, bytes, lines, MD5) of each chunk, the next one read and counted in
    a thread while the caller uploads this one.

    Uploading is mostly waiting for the object store's answer; reading, counting
    and hashing (which releases the GIL) fit in that wait. Two chunks at most
    are held: the one being uploaded and the next.
    """

    def prepare() -> tuple[int, bytearray, int, str] | None:
        chunk = next(chunks, None)
        if chunk is None:
            return None
        pos, data = chunk
        return pos, data, data.count(b"\n"), md5_hex(data)

    with ThreadPoolExecutor(1, thread_name_prefix="read-ahead") as ahead:
        upcoming = ahead.submit(prepare)
        while (chunk := upcoming.result()) is not None:
            upcoming = ahead.submit(prepare)
            yield chunk
            del chunk


def _moved_on(
    state: LogState,
    log: OpenLog,
    offset: int,
    lines: int,
    published: int,
    last: str | None,
    inflight: int | None,
    location: LogLocation,
) -> LogState:
    """`state` moved on to `offset` of `log` (an upload in flight from `inflight`)."""
    header_digest, header_len = log.header(offset)
    return state.replace(
        offset=offset,
        lines=lines,
        published=published,
        last_object=last,
        file_ino=log.ino,
        header_digest=header_digest,
        header_len=header_len,
        tail_digest=log.fingerprint(offset),
        inflight=inflight,
        container=location.container,
    )


def _name_the_log(exc: LogsvcError, name: str) -> None:
    """Say which log failed, in the error's message, unless it says so already."""
    if f"log {name!r}" not in exc.message:
        exc.message = f"log {name!r}: {exc.message}"
        exc.args = (exc.message,)


def _next_generation(state: LogState, ino: int) -> LogState:
    return state.replace(
        generation=state.generation + 1,
        offset=0,
        lines=0,
        file_ino=ino,
        header_digest=None,
        header_len=0,
        tail_digest=None,
        last_object=None,
        inflight=None,
    )
