"""Reading a published log straight from the object store: tail and save.

The log is the concatenation, in name order, of the objects that are still
there (see ``listing``): lines are counted in those bytes, and whatever is
gone is reported as gaps beside the output, never mixed into it. Bytes are
never decoded.

``tail(n)`` fetches only the objects that hold the lines asked for. For the
last N lines it walks the objects backwards: the last one is read from its end
(a suffix range); every earlier one is first asked (HEAD) how many lines it
holds (``X-Object-Meta-Lines``) and, when the start lies before it, is not read
until its turn comes to be output; the object where the start lies is read
backwards in ranges, sized from the lines still wanted and the length of the
lines seen, until the start is found. With 1 MB objects, the last 50 lines
cost one range read, or two objects at most when the last object is short.
For ``tail -n +K`` the objects wholly before line K are skipped by their line
counts. The gaps a tail reports are those inside what it printed (for the
last N lines), or all of them (from line K: they shift the numbering).
``save(path)`` streams every object into a temporary file beside `path` and
renames it when it is complete.

Whatever is read in full (a save, the objects after a tail's start) is
fetched a few objects ahead of the one being output (``readahead``), and the
line counts of earlier objects are asked ahead too, on a few worker threads
that the reader keeps until it is closed.
"""

import contextlib
import copy
import functools
import logging
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from logsvc import atomicfile
from logsvc.client.lines import LinesFromEnd, LinesFromStart
from logsvc.client.listing import Gap, LogObject, Snapshot, take_snapshot
from logsvc.client.published import PublishedLog, lines_header
from logsvc.client.readahead import ordered_chunks, ordered_results
from logsvc.exceptions import ObjectNotFound
from logsvc.storage.base import DEFAULT_READ_CHUNK, ObjectStore

LOG = logging.getLogger(__name__)

#: A guess of a line's length before any is seen, to size the first range read
#: at the end of the log: generous for most database logs, so that one read
#: finds the start, and small against an object of a typical guest_log_limit.
LINE_GUESS = 200
#: Bounds of each range read while looking for the start backwards; the first
#: one, sized on a guess, is kept smaller, as logs of short lines would make
#: it overshoot.
_MIN_PIECE = 16 * 1024
_FIRST_MAX = 256 * 1024
_MAX_PIECE = 4 * 1024 * 1024
#: Bytes read backwards that are kept to be output, rather than read again.
_HOLD_MAX = 8 * 1024 * 1024
#: Largest range asked of the store in one request when only part of an object is wanted.
_RANGE_STEP = 4 * 1024 * 1024
#: Objects fetched ahead of the one being output, line counts asked ahead, and
#: worker threads in all (each holds its own connection to the store, and a
#: Swift connection authenticates on its first request: few of them).
_AHEAD = 2
_COUNTS_AHEAD = 4
_WORKERS = 4

#: Called with (bytes done, bytes in all) as a save goes.
Progress = Callable[[int, int], None]


class LogOutput(Iterator[bytes]):
    """The bytes of a read, chunk by chunk, and the gaps they pass over.

    `gaps` lists the parts of the log that the output would hold but the store
    no longer has; it is complete once the chunks are exhausted (an object may
    expire while the read goes on).
    """

    def __init__(self, chunks: Iterator[bytes], gaps: list[Gap]):
        self._chunks = chunks
        self.gaps = gaps

    def __iter__(self) -> "LogOutput":
        return self

    def __next__(self) -> bytes:
        return next(self._chunks)

    def close(self) -> None:
        """Stop reading (and release the request in progress)."""
        close = getattr(self._chunks, "close", None)
        if close:
            close()


@dataclass(frozen=True)
class Saved:
    """What `LogReader.save` wrote."""

    path: str
    bytes_written: int
    gaps: tuple[Gap, ...]


@dataclass
class _Part:
    """An object to output from `start` on; `held` are bytes of it already read.

    `held` covers ``[held_lo, held_hi)`` of the object; the rest is fetched when
    the part is output.
    """

    obj: LogObject
    start: int = 0
    held: list[bytes] = field(default_factory=list)
    held_lo: int = -1
    held_hi: int = -1
    #: Where the part ends in the object (its end, unless a range stops before).
    stop: int = -1

    def __post_init__(self) -> None:
        if self.stop < 0:
            self.stop = self.obj.size
        if self.held_lo < 0:
            self.held_lo = self.held_hi = self.stop


class LogReader:
    """One published log in an object store: its objects, gaps, tail and copy."""

    def __init__(
        self,
        store: ObjectStore,
        container: str,
        prefix: str,
        metafile: str = "",
        pool: ThreadPoolExecutor | None = None,
    ):
        """`pool`: worker threads to read with, the caller's (kept open by `close`);
        by default the reader starts its own."""
        self.store = store
        self.container = container
        self.prefix = prefix
        self.metafile = metafile or ""
        self._own_pool = pool is None
        self._pool: ThreadPoolExecutor | None = pool

    def __enter__(self) -> "LogReader":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the worker threads (the store stays open: it is the caller's)."""
        if self._pool is not None and self._own_pool:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _workers(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(_WORKERS, thread_name_prefix="logsvc-reader")
        return self._pool

    def snapshot(self) -> Snapshot:
        """The log's objects (every page of the listing) and its gaps, as of now."""
        return take_snapshot(self.store, self.container, self.prefix, self.metafile)

    # --- tail -------------------------------------------------------------------

    def tail(self, lines: int = 50, snap: Snapshot | None = None) -> LogOutput:
        """The log's lines as ``tail`` prints them, as raw bytes.

        ``lines > 0``: the last `lines` lines; ``lines < 0``: from line
        ``-lines + 1`` to the end (``tail -n +K`` with K = -lines + 1);
        ``0``: everything. Lines are counted in the bytes still in the store.
        The listing is taken now (or `snap` is the one taken before); objects
        are read as the output is consumed.
        """
        snap = snap or self.snapshot()
        gaps: list[Gap] = []
        if lines > 0:
            chunks = self._last_lines(snap, lines, gaps)
        else:
            gaps.extend(snap.gaps)  # every gap shifts the count of lines from the start
            chunks = self._from_line(snap, -lines, gaps)
        return LogOutput(chunks, gaps)

    def _last_lines(self, snap: Snapshot, count: int, gaps: list[Gap]) -> Iterator[bytes]:
        finder = LinesFromEnd(count)
        objects = [o for o in reversed(snap.objects) if o.size]
        parts: list[_Part] = []  # from the end of the log backwards
        # line counts of the objects before the last, asked only once the walk needs them
        counts = ordered_results(self._workers(), self._lines_of, objects[1:], _COUNTS_AHEAD)
        try:
            for index, obj in enumerate(objects):
                lines = next(counts)[1] if index else None
                before = copy.copy(finder)
                try:
                    part = self._scan_backwards(obj, finder, lines if finder.started else None)
                except ObjectNotFound:
                    finder = before  # as if the object had never been there
                    gaps.append(Gap(obj.generation, obj.offset, obj.end, while_reading=True))
                    continue
                parts.append(part)
                if finder.found:
                    break
        finally:
            counts.close()
        parts.reverse()
        if parts and finder.found:
            first = parts[0]
            begin = (first.obj.generation, first.obj.offset + first.start)
            gaps.extend(g for g in snap.gaps if g.generation is not None and g.sort_key() >= begin)
        else:
            gaps.extend(snap.gaps)  # the output is all the log there is
        try:
            yield from self._output(parts, gaps)
        finally:
            gaps.sort(key=Gap.sort_key)

    def _scan_backwards(
        self, obj: LogObject, finder: LinesFromEnd, lines_asked: "Future[int | None] | None"
    ) -> _Part:
        """Read `obj` from its end until `finder` finds the start, or the object is done.

        An object before the end of the log is not read at all when its line
        count shows that the start lies before it. The ranges are sized from
        the lines still wanted and the length of the lines seen so far, so the
        start is found in one or two reads, and little more than needed is read.
        """
        scan = _BackwardRanges(self.store, self.container, obj)
        lines = None
        size = min(_piece_size(LINE_GUESS, finder.remaining, _MIN_PIECE), _FIRST_MAX)
        if lines_asked is not None:
            lines = lines_asked.result()
            if lines is not None and lines < finder.remaining:
                finder.skip(lines)
                return _Part(obj)
            size = _piece_size(obj.size / lines if lines else None, finder.remaining, size)
        while scan.lo > 0:
            piece = scan.read(size)
            index = finder.feed(piece)
            if index is not None:
                return scan.part_from(index)
            if lines is None:
                lines = scan.lines  # the headers of the first range read
            if lines is not None and 0 <= lines - scan.newlines < finder.remaining:
                finder.skip(lines - scan.newlines)  # the start lies before this object
                break
            per_line = scan.bytes_read / scan.newlines if scan.newlines else None
            size = _piece_size(per_line, finder.remaining, size * 2)
        return scan.part_from(None)

    def _from_line(self, snap: Snapshot, skip: int, gaps: list[Gap]) -> Iterator[bytes]:
        finder = LinesFromStart(skip)
        objects = list(snap.objects)
        first = 0
        if not finder.found:
            # objects wholly before the position are skipped by their line counts
            counts = ordered_results(self._workers(), self._lines_of, objects, _COUNTS_AHEAD)
            try:
                for first, (obj, lines_asked) in enumerate(counts):  # noqa: B007 - used below
                    try:
                        lines = lines_asked.result()
                    except ObjectNotFound:
                        gaps.append(Gap(obj.generation, obj.offset, obj.end, while_reading=True))
                        continue
                    if lines is None or lines >= finder.remaining:
                        break
                    finder.skip(lines)
                else:
                    first = len(objects)  # the log has no more lines than that
            finally:
                counts.close()
        try:
            for chunk in self._output([_Part(o) for o in objects[first:]], gaps):
                index = finder.feed(chunk)
                if index is not None and index < len(chunk):
                    yield chunk[index:] if index else chunk
        finally:
            gaps.sort(key=Gap.sort_key)

    def _lines_of(self, obj: LogObject) -> int | None:
        headers = self.store.head_object(self.container, obj.name)
        return lines_header(headers)

    # --- output -------------------------------------------------------------------

    def _output(self, parts: list[_Part], gaps: list[Gap]) -> Iterator[bytes]:
        """The bytes of `parts` in order, the next ones already being fetched."""
        sources = (functools.partial(self._emit, part, gaps) for part in parts)
        return ordered_chunks(self._workers(), sources, ahead=_AHEAD)

    def _emit(self, part: _Part, gaps: list[Gap]) -> Iterator[bytes]:
        """The bytes of `part`: fetched before what is held, the held bytes, fetched after."""
        yield from self._fetch(part.obj, part.start, part.held_lo, gaps)
        for piece in part.held:
            if piece:
                yield piece
        yield from self._fetch(part.obj, part.held_hi, part.stop, gaps)

    def _fetch(self, obj: LogObject, start: int, end: int, gaps: list[Gap]) -> Iterator[bytes]:
        """``[start, end)`` of `obj`, in chunks; what has expired meanwhile becomes a gap."""
        pos = start
        LOG.debug("GET %s/%s bytes %d-%d", self.container, obj.name, start, end - 1)
        try:
            if start == 0 and end == obj.size:
                _, chunks = self.store.stream_object(self.container, obj.name, DEFAULT_READ_CHUNK)
                with contextlib.closing(chunks):  # type: ignore[type-var]
                    for chunk in chunks:
                        # no further than listed: the newest object of a followed log
                        # may have been rewritten with more since (docs/follow.md)
                        piece = chunk[: end - pos] if pos + len(chunk) > end else chunk
                        pos += len(piece)
                        if piece:
                            yield piece
                        if pos >= end:
                            break
                return
            while pos < end:
                step = min(end, pos + _RANGE_STEP)
                _, chunk = self.store.get_object(self.container, obj.name, start=pos, end=step)
                if not chunk:
                    return
                pos += len(chunk)
                yield chunk
        except ObjectNotFound:
            gaps.append(Gap(obj.generation, obj.offset + pos, obj.offset + end, while_reading=True))

    # --- a range of bytes -------------------------------------------------------------

    def read(
        self, start: int = 0, end: int | None = None, layout: PublishedLog | None = None
    ) -> LogOutput:
        """The held bytes ``[start, end)`` of the log (see ``published``), in order.

        `layout` is the log as a listing taken before saw it (by default one
        taken now). Objects are fetched a few ahead of the one being output;
        one that expires meanwhile is a gap, and the output is that much
        shorter.
        """
        layout = layout or PublishedLog.of(self.snapshot())
        end = layout.size if end is None else end
        parts = [_Part(s.obj, s.lo, stop=s.hi) for s in layout.spans(start, end)]
        gaps: list[Gap] = []
        return LogOutput(self._output(parts, gaps), gaps)

    # --- save ---------------------------------------------------------------------

    def save(
        self,
        path: str | os.PathLike[str],
        progress: Progress | None = None,
        snap: Snapshot | None = None,
    ) -> Saved:
        """Write the whole log to `path`, atomically, with constant memory.

        The bytes go to a temporary file in the same directory, which is
        synced and renamed to `path` once complete (``logsvc.atomicfile``);
        on any failure it is removed, and `path` is left as it was. `path`
        must be new or a regular file (NotRegularFile, before anything is
        read, for a device, a FIFO ...); a symbolic link is followed, and the
        file it points to is replaced. A new file is readable by its owner
        only, as logs may hold data from queries; a replaced one keeps its
        permissions. The listing is taken now, or `snap` is the one taken
        before.
        """
        target = os.path.abspath(os.fspath(path))
        with atomicfile.replacing(target, follow_links=True) as out:
            snap = snap or self.snapshot()
            gaps = list(snap.gaps)
            listed_gaps = len(gaps)
            total, done = snap.size, 0
            if progress:
                progress(0, total)
            chunks = self._output([_Part(o) for o in snap.objects], gaps)
            with contextlib.closing(chunks):
                for chunk in chunks:
                    out.write(chunk)
                    done += len(chunk)
                    if len(gaps) > listed_gaps:  # expired while being read: no longer expected
                        total = snap.size - sum(g.size for g in gaps[listed_gaps:])
                    if progress:
                        progress(done, total)
        if progress and total != done:  # the last objects expired while being read
            progress(done, done)
        gaps.sort(key=Gap.sort_key)
        return Saved(target, done, tuple(gaps))


class _BackwardRanges:
    """Reads one object from its end towards its start, in ranges; keeps what it read.

    The bytes kept are the lowest ones read, at most about ``_HOLD_MAX`` of
    them: those are output first, and the rest is fetched again.
    """

    def __init__(self, store: ObjectStore, container: str, obj: LogObject):
        self.store, self.container, self.obj = store, container, obj
        self.lo = self.hi = obj.size  # `held` covers [lo, hi)
        self.held: deque[bytes] = deque()
        self.held_bytes = 0
        self.lines: int | None = None
        self.newlines = 0

    @property
    def bytes_read(self) -> int:
        return self.obj.size - self.lo

    def read(self, size: int) -> bytes:
        size = min(size, self.lo)
        LOG.debug("GET %s/%s the %d bytes before %d", self.container, self.obj.name, size, self.lo)
        # An explicit range, never a suffix one: the newest object of a followed
        # log may be rewritten with more bytes since the listing (docs/follow.md),
        # and the read must end where the listing says it does.
        headers, piece = self.store.get_object(
            self.container, self.obj.name, start=self.lo - size, end=self.lo
        )
        if self.lines is None:
            self.lines = lines_header(headers)
        if len(piece) > size:  # the whole object, from a store that ignored the range
            piece = piece[self.lo - size : self.lo]
        self.lo -= len(piece)
        self.newlines += piece.count(b"\n")
        if not piece:
            self.lo = 0  # shorter than listed: nothing more to read
            return piece
        self.held.appendleft(piece)
        self.held_bytes += len(piece)
        while self.held_bytes > _HOLD_MAX and len(self.held) > 1:
            dropped = self.held.pop()
            self.held_bytes -= len(dropped)
            self.hi -= len(dropped)
        return piece

    def part_from(self, index: int | None) -> _Part:
        """The part to output: from `index` in the last piece read, or the whole object."""
        held = list(self.held)
        if index is None:
            start = 0
        else:
            start = self.lo + index
            held[0] = held[0][index:]
        return _Part(self.obj, start, held, held_lo=max(start, self.lo), held_hi=self.hi)


def _piece_size(per_line: float | None, lines: int, otherwise: int) -> int:
    """Bytes to read for `lines` more lines of about `per_line` bytes, with a margin."""
    size = int(per_line * (lines + 1) * 1.25) + 4096 if per_line else otherwise
    return max(_MIN_PIECE, min(size, _MAX_PIECE))
