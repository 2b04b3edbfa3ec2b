"""One action on a log, under its lock: a publish or a discard, byte-exact.

A publish:

1. settles what an earlier action left unfinished: generations to purge, and
   objects of an upload that never committed (``inflight``);
2. checks the file against what was published (``rotation.rotation_reason``);
   on rotation either purges and starts a new generation (the spec's way, the
   default) or, with the ``keep`` policy, publishes the rotated files' tails
   first, each as a generation of its own;
3. uploads the new bytes in chunks cut by ``logfile.OpenLog.chunks`` (and
   prepared ahead by ``readahead.prepared``) to names that carry their
   position, several in flight and stored in log order
   (``uploads.OrderedUploads``), then commits: the metafile, then the state
   (a long upload also commits every ``CHECKPOINT_OBJECTS`` objects stored).

A crash anywhere leaves the state pointing at the last commit and marks any
upload in flight, so the next publish removes what may be half-done and
uploads it again to the same names: no byte is lost or duplicated.

The run is given everything it works with; it holds no reference to the
`Publisher` that starts it.
"""

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

from guestagent import metafile
from guestagent.logfile import OpenLog
from guestagent.progress import moved_on, next_generation, published_elsewhere
from guestagent.publishmodel import LogSource, PublishReport, PublishSettings
from guestagent.readahead import Prepared, prepared
from guestagent.rotation import rotated_files, rotation_reason
from guestagent.state import LogState, StateStore
from guestagent.uploads import Uploader
from logsvc.exceptions import LogFileMissing, LogsvcError, StateError
from logsvc.layout import LogLocation, parse_chunk_name
from logsvc.storage import ObjectStore
from logsvc.storage.base import Part, md5_hex

LOG = logging.getLogger(__name__)

#: A long publish commits its progress after this many objects: a crash or an
#: outage then costs at most that many uploads again, for one more metafile
#: write each time.
CHECKPOINT_OBJECTS = 64

#: The state's fields of a generation whose newest object is closed.
_CLOSED: dict[str, Any] = {
    "open_offset": None,
    "open_lines": 0,
    "open_since": None,
    "open_grown": False,
    "open_parts": [],
}

#: An open object made of this many parts is made one part again (by a copy in
#: the store, which sends no byte) before it grows: its manifest, sent at each
#: publish, stays small, and Swift serves it at full speed (its slo middleware
#: slows a read down to a part a second after ``rate_limit_after_segment``, 10).
MAX_PARTS = 10
#: Bytes of a part's entry in a manifest (its name, MD5 and size), about: an open
#: object smaller than its new bytes and its manifest is rewritten whole instead.
MANIFEST_ENTRY = 200


def _adding(prefixes: list[str], prefix: str) -> list[str]:
    return prefixes if prefix in prefixes else [*prefixes, prefix]


class _Progress:
    """How far the uploads of a publish got, in log order."""

    def __init__(self, offset: int, lines: int, published: int):
        self.offset, self.lines, self.published = offset, lines, published
        self.last: str | None = None
        self.last_pos, self.last_count = offset, 0

    def took(self, pos: int, size: int, count: int, name: str) -> None:
        self.offset, self.lines, self.published = (
            pos + size,
            self.lines + count,
            self.published + size,
        )
        self.last, self.last_pos, self.last_count = name, pos, count


def _end(chunk: "Prepared") -> int:
    return chunk[0] + len(chunk[1])


def _chained(first: "Prepared", rest: "Iterator[Prepared]") -> "Iterator[Prepared]":
    """`first`, then `rest`; closing it closes `rest` (the reads ahead stop)."""
    try:
        yield first
        yield from rest
    finally:
        close = getattr(rest, "close", None)
        if close:
            close()


class PublishRun:
    """One action on a log, holding its lock; `committed` is what is on disk."""

    def __init__(
        self,
        source: LogSource,
        location: LogLocation,
        store: ObjectStore,
        states: StateStore,
        settings: PublishSettings,
        state: LogState,
        uploader: Uploader,
    ):
        self.source = source
        self.location = location
        self.store = store
        self.states = states
        self.settings = settings
        self.committed = state
        self.state = state
        self.report = PublishReport()
        self.uploader = uploader
        #: A followed log's publish: its last object may stay open.
        self.follow = False
        #: When this action took its first byte: an object it opens is that old
        #: at the next publish, so that one closes it on time (see `_opened`).
        self.began = time.time()

    # --- the two actions ---------------------------------------------------------

    def publish(self, follow: bool = False) -> None:
        self.follow, self.began = follow, time.time()
        if published_elsewhere(self.state, self.location):
            # guest_log_container_name changed: the new container gets the whole
            # log; what the old one holds stays there until it expires.
            LOG.warning(
                "log %s: published into container %s until now, %s from now on: "
                "publishing it from the start",
                self.source.name,
                self.state.container,
                self.location.container,
            )
            self.save(
                LogState(
                    generation=self.state.generation + 1,
                    account=self.state.account,
                    enabled=self.state.enabled,
                    switch=self.state.switch,
                    follow=self.state.follow,
                )
            )
        self.settle()
        path = self.source.path
        if not path:
            raise LogFileMissing(
                f"log {self.source.name!r} has no file on this instance (is its output on?)"
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
        LOG.log(
            logging.DEBUG if follow else logging.INFO,
            "log %s: published %d bytes in %d objects",
            self.source.name,
            self.report.bytes_published,
            self.report.objects,
        )

    def discard(self) -> None:
        generation = self.state.generation + 1
        fresh = LogState(
            generation=generation,
            purge_below=generation,
            account=self.state.account,
            enabled=self.state.enabled,
            switch=self.state.switch,
            follow=self.state.follow,
            drop_parts=[self.location.parts_prefix] if self.store.joins_parts() else [],
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
                marker=self.location.chunk_name(gen, start - 1) if start else "",
                prefix=self.location.generation_prefix(gen),
                newest_first=True,
            )
            # An open object may have been rewritten with more than the state
            # counts: it must be rewritten again before anything follows it.
            self.save(
                self.state.replace(inflight=None, open_grown=self.state.open_offset is not None)
            )
        self.drop_parts()

    def rotate(self, log: OpenLog, reason: str) -> None:
        LOG.info("log %s: %s", self.source.name, reason)
        self.report.rotation = reason
        if self.settings.rotation_policy == "keep":
            rotated = rotated_files(self.source.path, self.state, log.ino)
            if not rotated or not rotated[0].continues:
                self.report.lost_tail = True
                LOG.warning(
                    "log %s: no rotated copy of the file was found; what was written to it "
                    "after the last publish, if anything, is not published",
                    self.source.name,
                )
            for old in rotated:
                with OpenLog(old.path) as old_log:
                    if not old.continues:
                        self.state = next_generation(self.state, old_log.ino)
                    self.publish_file(old_log, final=True)
                    self.report.bytes_read += old_log.bytes_read
            self.state = next_generation(self.state, log.ino)
            return
        generation = self.state.generation + 1
        drops = [self.location.parts_prefix] if self.store.joins_parts() else []
        self.commit(
            next_generation(self.state, log.ino).replace(
                purge_below=generation, published=0, drop_parts=drops
            )
        )
        self.settle()

    def publish_file(self, log: OpenLog, final: bool) -> None:
        """Upload `log` from the state's offset on, then commit.

        When the generation's newest object is open (a followed log), the
        upload starts at that object instead: it grows, under its own name,
        to hold the cut from its offset on (which reaches at least as far as
        before: the file only grew). Where the store joins parts, it grows by
        a part holding only its new bytes (`_grow`); elsewhere, and when an
        interrupted upload may have left it holding more than the state
        counts (`open_grown`), it is rewritten whole. It grows while it is
        young (a followed log's publish), and whatever its age or the kind of
        publish when `open_grown`; otherwise it is closed as it is stored.
        An open object made of parts is made one object again
        (`_make_whole`) before any object after it is written, so that
        last-modified order stays log order. Whether the last object stays
        open is decided at the commit (`_opened`).
        """
        loc, store = self.location, self.store
        start = self.state
        base, chunks = self._chunks_from(log, start, final)
        rewound = base is not start
        with contextlib.closing(chunks):
            chunk = next(chunks, None)
            if chunk is not None and rewound and _end(chunk) == start.offset:
                # the open object is stored as it would be cut now: not again
                base, chunk = start, next(chunks, None)
            if chunk is None:
                closing = start.open_offset is not None and (final or not rewound)
                if start.file_ino != log.ino or closing:
                    whole = self._make_whole(start) if closing else {}
                    self.commit(start.replace(file_ino=log.ino, **{**_CLOSED, **whole}))
                return
            self.save(start.replace(inflight=start.offset))
            expiry = self._expiry()
            done = _Progress(base.offset, base.lines, base.published)
            whole: dict[str, Any] = {}
            parts: list[Part] = []  # the open object's, when it grew by one in this publish
            if start.open_offset is not None and base is start:
                # the open object stays as it is stored, and objects follow it
                whole = self._make_whole(start)
            elif rewound and not start.open_grown and self._grows(start, chunk):
                pos, data, count, _ = chunk
                parts, sent, whole = self._grow(start, pos, data, count, expiry)
                grown = [(pos, len(data), count, loc.chunk_name(start.generation, pos))]
                self._stored(done, start, grown)
                self.report.bytes_published += sent - len(data)
                del data, chunk
                chunk = next(chunks, None)
                if chunk is not None:  # it is full: one object again before the next one
                    whole = self._make_whole(start, whole.get("drop_parts"), parted=True)
                    parts = []
            elif rewound and (start.open_parts or start.open_grown) and store.joins_parts():
                # rewritten whole: the parts it may have been made of are not needed
                whole = {"drop_parts": _adding(start.drop_parts, loc.parts_of(self._open(start)))}
            since_checkpoint = 0
            uploads = self.uploader.line(store, loc.container)
            try:
                while chunk is not None:
                    pos, data, count, etag = chunk
                    chunk = None
                    name = loc.chunk_name(start.generation, pos)
                    meta = {**expiry, "X-Object-Meta-Lines": str(count), "ETag": etag}
                    uploads.submit(name, data, meta, (pos, len(data), count, name))
                    del data  # the upload holds it until it is stored
                    # Room for the next chunk before it is read: at most `concurrency`
                    # chunks held, or two (one read ahead) with one upload at a time.
                    stored = uploads.room()
                    chunk = next(chunks, None)
                    if chunk is None:
                        stored += uploads.finish()
                    since_checkpoint += self._stored(done, start, stored)
                    if chunk is not None and since_checkpoint >= CHECKPOINT_OBJECTS:
                        # What is stored so far stays, should the rest be cut short.
                        moved = self._moved(start, log, done, done.offset)
                        self.commit(moved.replace(**{**_CLOSED, **whole}))
                        since_checkpoint = 0
            except BaseException:
                uploads.give_up()  # none stored past the failure; no thread left behind
                raise
            opened = self._opened(start, done.last_pos, done.offset, done.last_count, final)
            if parts and opened["open_offset"] is None:  # it grew, and closes now
                whole = self._make_whole(start, whole.get("drop_parts"), parted=True)
            elif parts:
                opened["open_parts"] = [[p.name, p.size, p.etag] for p in parts]
            self.commit(self._moved(start, log, done, None).replace(**{**opened, **whole}))

    def _expiry(self) -> dict[str, str]:
        """The header that sets an object's expiry (none with ``guest_log_expiry = 0``)."""
        expiry = self.settings.expiry
        return {"X-Delete-After": str(expiry)} if expiry else {}

    def _moved(self, start: LogState, log: OpenLog, done: "_Progress", inflight: int | None):
        return moved_on(
            start, log, done.offset, done.lines, done.published, done.last, inflight, self.location
        )

    def _stored(self, done: "_Progress", start: LogState, stored: list) -> int:
        """Count the uploads `stored` (in log order); how many they are."""
        for pos, size, count, name in stored:
            done.took(pos, size, count, name)
            self.report.bytes_published += size
            self.report.bytes_new += done.offset - max(pos, start.offset)
            self.report.objects += 1
        return len(stored)

    # --- an open object made of parts (docs/follow.md) ------------------------------

    def _open(self, start: LogState) -> str:
        return self.location.chunk_name(start.generation, start.open_offset)

    def _grows(self, start: LogState, chunk: "Prepared") -> bool:
        """Whether the open object grows by a part rather than a rewrite: where the
        store joins parts, and the object is larger than a part and a manifest."""
        size = len(chunk[1])
        new = size - (start.offset - chunk[0])
        manifest = MANIFEST_ENTRY * (max(1, len(start.open_parts)) + 1)
        return size > new + manifest and self.store.joins_parts()

    def _grow(
        self, start: LogState, pos: int, data: bytes, count: int, expiry: dict[str, str]
    ) -> tuple[list[Part], int, dict[str, Any]]:
        """Grow the open object at `pos` to `data` by a part holding its new bytes.

        Returns its parts, the bytes sent, and the state's fields for the
        parts no longer needed. An object that is one plain object (or whose
        parts are not those the state counts, or too many) first becomes a
        single part, copied by the store, which sends no byte of it.
        """
        loc, store, container = self.location, self.store, self.location.container
        name = loc.chunk_name(start.generation, pos)
        stored = start.offset - pos
        parts = [Part(*p) for p in start.open_parts]
        whole: dict[str, Any] = {}
        if sum(p.size for p in parts) != stored or len(parts) >= MAX_PARTS:
            first = loc.part_name(name, pos, start.offset)
            store.copy_object(container, name, first, expiry)
            if parts:  # those it was made of are not needed
                whole = {"drop_parts": _adding(start.drop_parts, loc.parts_of(name))}
            parts = [Part(first, stored, None)]
        new = data[stored:]
        digest = md5_hex(new)
        part = loc.part_name(name, start.offset, pos + len(data))
        self.uploader.pacer.wait(len(new))
        store.put_object(container, part, new, {**expiry, "ETag": digest})
        parts.append(Part(part, len(new), digest))
        sent = store.put_joined(
            container, name, parts, {**expiry, "X-Object-Meta-Lines": str(count)}
        )
        return parts, len(new) + sent, whole

    def _make_whole(
        self, start: LogState, drop_parts: list[str] | None = None, *, parted: bool | None = None
    ) -> dict[str, Any]:
        """Make the state's open object one object again, by a copy onto itself in
        the store, if it may be made of parts (`parted`; by default, as the
        state says); the state's field of the parts no longer needed."""
        drops = start.drop_parts if drop_parts is None else drop_parts
        if parted is None:
            parted = bool(start.open_parts) or start.open_grown
        if start.open_offset is None or not parted or not self.store.joins_parts():
            return {"drop_parts": drops}
        name = self._open(start)
        self.store.copy_object(self.location.container, name, name, self._expiry())
        return {"drop_parts": _adding(drops, self.location.parts_of(name))}

    def drop_parts(self) -> None:
        """Delete the parts that no object needs, under the prefixes that a commit of
        an earlier action listed (``drop_parts``).

        A part is needed while the object it belongs to is made of it (its
        manifest, asked of the store), or while the state counts it as a part
        of the open object. Not in the action that made an object one again:
        a reader that began to read it as parts just before has a publish
        interval or more to finish. Never while an interrupted upload may
        have grown the open object with parts that the state does not count
        (`open_grown`: it is rewritten first).
        """
        state = self.state
        if not state.drop_parts or state.inflight is not None or state.open_grown:
            return
        loc, store = self.location, self.store
        keep = {p[0] for p in state.open_parts}
        for prefix in state.drop_parts:
            groups: dict[str, list[str]] = {}
            for obj in store.list_objects(loc.container, prefix):
                owner, _, _ = obj.name.removeprefix(loc.parts_prefix).rpartition("/")
                groups.setdefault(owner, []).append(obj.name)
            for owner, names in groups.items():
                needed = keep | set(store.parts(loc.container, loc.prefix + owner) or ())
                for name in names:
                    if name not in needed:
                        self.report.cleaned += store.delete_object(loc.container, name)
        self.save(self.state.replace(drop_parts=[]))

    def _chunks_from(
        self, log: OpenLog, start: LogState, final: bool
    ) -> "tuple[LogState, Iterator[Prepared]]":
        """Where the upload starts (the open object's start, if any) and its chunks."""
        limit = self.settings.limit
        # With several uploads in flight, none is read ahead: at most that many chunks held.
        ahead = self.settings.concurrency == 1
        at = start.open_offset
        if at is not None and not start.open_grown:
            young = time.time() - (start.open_since or 0) < self.settings.object_age
            if not (self.follow and young):
                at = None  # closed as it is stored: the bytes go on in a new object
        if at is not None and at < start.offset:
            base = start.replace(
                offset=at,
                lines=start.lines - start.open_lines,
                published=start.published - (start.offset - at),
            )
            chunks = prepared(log.chunks(at, limit, final), ahead)
            first = next(chunks, None)
            if first is not None and _end(first) >= start.offset:
                return base, _chained(first, chunks)
            # Shorter than what is stored: the file is not what was published,
            # which the rotation checks did not see. Start after it, as usual.
            chunks.close()
            LOG.warning(
                "log %s: its open object at %d cannot be rewritten; it is closed",
                self.source.name,
                at,
            )
        return start, prepared(log.chunks(start.offset, limit, final), ahead)

    def _opened(
        self, start: LogState, pos: int, end: int, count: int, final: bool
    ) -> dict[str, Any]:
        """The open-object fields of the commit whose last object is ``[pos, end)``."""
        if not self.follow or final or end - pos >= self.settings.limit:
            return _CLOSED
        # An object's age counts from the start of the publish that opened it, not
        # from its commit: with age = n intervals, the publishes n intervals apart
        # then find it of age, and each object is uploaded n times, not n + 1.
        now = time.time()
        opened = pos == start.open_offset and start.open_since
        since = start.open_since if opened else self.began
        if now - since >= self.settings.object_age:
            return _CLOSED
        return {
            "open_offset": pos,
            "open_lines": count,
            "open_since": since,
            "open_grown": False,
            "open_parts": [],
        }

    def delete_objects(
        self,
        doomed: Callable[[int, int], bool],
        marker: str = "",
        prefix: str = "",
        newest_first: bool = False,
    ) -> int:
        """Delete this log's objects for which ``doomed(generation, offset)`` holds.

        `newest_first`: from the end of the log backwards (the objects of an
        upload in flight: at most a checkpoint's worth), so that what a reader
        finds while it runs, or after a crash in it, is still a prefix.
        """
        loc = self.location
        deleted = 0
        listing: Iterator = self.store.list_objects(
            loc.container, prefix or loc.prefix, marker=marker
        )
        if newest_first:
            listing = reversed(list(listing))
        for obj in listing:
            parsed = parse_chunk_name(loc.prefix, obj.name)
            if parsed is None or doomed(*parsed):
                deleted += self.store.delete_object(loc.container, obj.name)
        return deleted

    # --- commits -----------------------------------------------------------------

    def commit(self, state: LogState) -> None:
        """Record `state`: the metafile when the published figures moved, then locally."""
        old = self.committed
        if (
            state.generation,
            state.offset,
            state.published,
            state.purge_below,
            state.open_offset,
        ) != (old.generation, old.offset, old.published, old.purge_below, old.open_offset):
            self.write_metafile(state)
        self.save(state)

    def save(self, state: LogState) -> None:
        self.states.save(self.source.name, state)
        self.committed = self.state = state

    def write_metafile(self, state: LogState) -> None:
        loc = self.location
        if state.published == 0 and not state.purge_below:
            self.store.delete_object(loc.container, loc.metafile)
            return
        headers = {"X-Object-Meta-Lines": str(state.lines), **self._expiry()}
        body = metafile.render(
            state,
            log_name=self.source.name,
            log_type=self.source.type,
            log_file=self.source.path or "",
        )
        self.store.put_object(loc.container, loc.metafile, body, headers)

    def record_error(self, exc: LogsvcError) -> None:
        """Keep the error beside the last committed state, if the disk lets us."""
        with contextlib.suppress(StateError):
            self.states.save(self.source.name, self.committed.replace(last_error=exc.message))
        LOG.warning("log %s: %s", self.source.name, exc.message)
