"""Following a published log: its last lines, then new ones as they become readable.

One loop (`follow`) over one of two sources, which read the same log two ways:

- `StoreSource`: the log's objects, straight from the object store. After
  the last lines (``LogReader.tail`` on one listing, which ends exactly where
  that listing's last object ends), each round lists the objects after the
  one being read (``marker``: names sort in log order), reads that object
  from the last byte read on (a ``Range``: the newest object of a followed
  log is rewritten in place with more bytes, see docs/follow.md), then the
  objects listed after it, whole, in order.
- `ApiSource`: the API's read route (``GET .../log/<name>/data``). The last
  lines (``?lines=N``), then each round one ``Range: bytes=<position>-``,
  the position being where the follower's next byte (``logsvc.client.cursor``:
  a generation and an offset in its file) sits in the layout the route
  described last (``X-Log-Runs``). When the answer's layout puts that byte
  elsewhere (objects went: a rotation that purged, expiry), the round asks
  again from the right place before taking any byte. A 416 is "nothing new".

Either way a new generation is a rotation (or a discard) and bytes that are
gone are a gap, both told by `notify`; what was read is never read again.
A blip of the source (the object store or the API unreachable, a 5xx) is
retried at each round; `notify` says so once while it lasts, and again when
it is over. Rounds are ``interval`` seconds apart. Bytes are never decoded.
"""

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from typing import Protocol

from logsvc.client.cursor import Cursor, Notice, Place, Run, moved
from logsvc.client.listing import LogObject, log_objects
from logsvc.client.reader import LogReader
from logsvc.exceptions import (
    LogsvcError,
    ObjectNotFound,
    ServerTimeout,
    ServerUnreachable,
    StorageError,
)

LOG = logging.getLogger(__name__)

#: Called with (kind, message): kind is "rotated", "gap", "unavailable" or "resumed".
Notify = Callable[[str, str], None]
#: Times a round asks the read route again when the log's layout changed under it.
_REPLACED = 3


class Source(Protocol):
    """Where a follow reads the log: its last lines, then what is new at each round."""

    #: Who answers, as a message names it ("the object store", "the API").
    what: str

    def tail(self, lines: int) -> Iterator[bytes]:
        """The last `lines` lines (none for 0); where the log ends is where news starts."""

    def news(self) -> Iterator[bytes | Notice]:
        """The bytes since the last call (or the tail), and what to tell between them."""

    def blip(self, exc: Exception) -> str | None:
        """Why a round failed, when it is worth another round (else None: it ends the follow)."""


def follow(
    source: Source,
    lines: int = 10,
    interval: float = 1.0,
    notify: Notify | None = None,
    stop: Callable[[], bool] | None = None,
) -> Iterator[bytes]:
    """The last `lines` lines of the log `source` reads, then its new bytes as they come.

    Runs until the caller stops iterating (closes the generator) or `stop()`
    returns true.
    """
    tell = notify or (lambda kind, message: LOG.info("%s", message))
    output = source.tail(lines)
    try:
        yield from output
    finally:
        close = getattr(output, "close", None)
        if close:
            close()
    trouble: str | None = None
    while not (stop and stop()):
        try:
            for item in source.news():
                if isinstance(item, Notice):
                    tell(item.kind, item.message)
                else:
                    yield item
        except LogsvcError as exc:
            reason = source.blip(exc)
            if reason is None:
                raise
            if trouble is None:
                tell("unavailable", f"-- {reason}; retrying --")
            trouble = reason
        else:
            if trouble is not None:
                tell("resumed", f"-- {source.what} answers again --")
                trouble = None
        if stop and stop():
            break
        time.sleep(interval)


class StoreSource:
    """A log read straight from the object store, object by object."""

    what = "the object store"

    def __init__(self, reader: LogReader):
        self.reader = reader
        self.current: LogObject | None = None
        self.done = 0  # bytes of `current` read

    def tail(self, lines: int) -> Iterator[bytes]:
        snap = self.reader.snapshot()
        self.current = snap.objects[-1] if snap.objects else None
        self.done = self.current.size if self.current else 0
        return self.reader.tail(lines, snap=snap) if lines else iter(())

    def news(self) -> Iterator[bytes | Notice]:
        reader, current = self.reader, self.current
        newer = log_objects(
            reader.store.list_objects(
                reader.container, reader.prefix, marker=current.name if current else ""
            ),
            reader.prefix,
        )
        if current is not None:
            piece = self._read_from(current, self.done)
            if piece:
                self.done += len(piece)
                yield piece
        for obj in newer:
            at = self._cursor()
            if at is not None and Cursor(obj.generation, obj.offset) != at:
                yield moved(at, Cursor(obj.generation, obj.offset))
            self.current, self.done = obj, 0
            piece = self._read_from(obj, 0)
            if piece:
                self.done = len(piece)
                yield piece

    def blip(self, exc: Exception) -> str | None:
        return exc.message if isinstance(exc, StorageError) else None

    def _cursor(self) -> Cursor | None:
        current = self.current
        return Cursor(current.generation, current.offset + self.done) if current else None

    def _read_from(self, obj: LogObject, start: int) -> bytes:
        """`obj`'s bytes from `start` on (a Range); nothing when it is gone (purged)."""
        try:
            return self.reader.store.get_object(self.reader.container, obj.name, start=start)[1]
        except ObjectNotFound:
            return b""


class Answer(Protocol):
    """An answer of the read route, as ``logsvc.client.api.LogData`` holds it."""

    status: int
    size: int
    runs: list[Run]

    def __iter__(self) -> Iterator[bytes]: ...

    def close(self) -> None: ...


#: Asks the read route: ``fetch(start=N)`` (a Range from N on) or ``fetch(lines=N)``.
Fetch = Callable[..., Answer]


class ApiSource:
    """A log read through the API's read route, by ranges from where the follower is."""

    what = "the API"

    def __init__(self, fetch: Fetch):
        self.fetch = fetch
        self.place = Place()
        self.runs: list[Run] = []
        self.size = 0

    def tail(self, lines: int) -> Iterator[bytes]:
        data = self.fetch(lines=max(lines, 1))  # with none wanted, one: the layout comes along
        with contextlib.closing(data):
            self.runs, self.size = data.runs, data.size
            self.place = Place(Cursor.end_of(data.runs))
            if lines:
                yield from data

    def news(self) -> Iterator[bytes | Notice]:
        start = self.place.start(self.runs, self.size)
        for _ in range(_REPLACED):
            data = self.fetch(start=start)
            with contextlib.closing(data):
                self.runs, self.size = data.runs, data.size
                now = self.place.start(data.runs, data.size)
                if now != start:  # the layout changed since the last look: ask from `now`
                    start = now
                    continue
                if data.status not in (200, 206):
                    return  # 416: nothing new
                position = start if data.status == 206 else 0
                for chunk in data:
                    if position < start:  # a 200 holds the log from its start: skip to ours
                        skip = min(start - position, len(chunk))
                        position, chunk = position + skip, chunk[skip:]
                    yield from self.place.take(data.runs, position, chunk)
                    position += len(chunk)
                return
        LOG.debug("the log changed at each of %d looks; the next round tries again", _REPLACED)

    def blip(self, exc: Exception) -> str | None:
        if isinstance(exc, ServerUnreachable | ServerTimeout | StorageError):
            return exc.message
        if getattr(exc, "status", 0) >= 500:
            return f"{self.what} answered {exc.status}: {exc.message}"
        return None
