"""A published log laid out as one run of bytes: where each object sits, and what is gone.

What a reader serves of a log is the objects the store still holds,
concatenated in log order (``listing``): the *held* bytes, at positions
``0 .. size``. The log as it was published also counts the bytes that are gone
(expired, or deleted by hand): positions ``0 .. published``, in which the
missing ranges lie. Where nothing is gone the two are the same.

Both ways of handing a log out through the API use this layout: the read
route (``GET /v1/instance/<id>/log/<name>/data``: which objects, and which
bytes of each, make up a byte range; the validators of what it serves) and a
listing of the objects with their ranges and line counts (TempURLs). Nothing
here reads object bodies; line counts are one HEAD each (`object_lines`).
"""

import bisect
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from logsvc.client.cursor import Run
from logsvc.client.listing import Gap, LogObject, Snapshot
from logsvc.storage.base import ObjectStore


@dataclass(frozen=True)
class ByteRange:
    """Bytes ``[start, end)``; written as HTTP writes a range, ``start-(end-1)``."""

    start: int
    end: int

    @property
    def size(self) -> int:
        return self.end - self.start

    def __str__(self) -> str:
        return f"{self.start}-{self.end - 1}"


@dataclass(frozen=True)
class Placed:
    """One object of the log and where its bytes sit."""

    obj: LogObject
    #: Position of its first byte among the held bytes (what a read serves).
    start: int
    #: Position of its first byte in the log as published (held and gone).
    published_start: int

    @property
    def end(self) -> int:
        return self.start + self.obj.size

    @property
    def held(self) -> ByteRange:
        return ByteRange(self.start, self.end)


@dataclass(frozen=True)
class Span:
    """The bytes ``[lo, hi)`` of one object: part of a range of held bytes."""

    obj: LogObject
    lo: int
    hi: int


@dataclass(frozen=True)
class PublishedLog:
    """The layout of a log as one listing (`snapshot`) saw it."""

    snapshot: Snapshot
    objects: tuple[Placed, ...]
    #: Ranges of the published log that are gone, in published positions, in order.
    missing: tuple[ByteRange, ...]
    #: The gaps the missing ranges stand for (generation and offsets in its file).
    gaps: tuple[Gap, ...]
    #: Bytes held: the length of the whole log as a read serves it.
    size: int
    #: Bytes of the log as published: held plus missing.
    published: int

    @classmethod
    def of(cls, snap: Snapshot) -> "PublishedLog":
        """Place the snapshot's objects and gaps one after the other, in log order.

        Whole generations that are gone (a gap without a generation) come
        first: expiry takes the oldest bytes first.
        """
        items: list[tuple[tuple[int, int], LogObject | Gap]] = [
            ((o.generation, o.offset), o) for o in snap.objects
        ]
        items += [(g.sort_key(), g) for g in snap.gaps]
        items.sort(key=lambda item: item[0])
        placed: list[Placed] = []
        missing: list[ByteRange] = []
        held = published = 0
        for _, item in items:
            if isinstance(item, LogObject):
                placed.append(Placed(item, held, published))
                held += item.size
                published += item.size
            elif item.size > 0:
                if missing and missing[-1].end == published:
                    missing[-1] = ByteRange(missing[-1].start, published + item.size)
                else:
                    missing.append(ByteRange(published, published + item.size))
                published += item.size
        return cls(snap, tuple(placed), tuple(missing), snap.gaps, held, published)

    def spans(self, start: int, end: int) -> list[Span]:
        """The objects, and the bytes of each, that hold ``[start, end)`` of the held bytes."""
        start, end = max(start, 0), min(end, self.size)
        if start >= end:
            return []
        starts = [p.start for p in self.objects]
        index = max(bisect.bisect_right(starts, start) - 1, 0)
        out = []
        for placed in self.objects[index:]:
            if placed.start >= end:
                break
            lo, hi = max(start, placed.start), min(end, placed.end)
            if lo < hi:
                out.append(Span(placed.obj, lo - placed.start, hi - placed.start))
        return out

    def runs(self) -> list[Run]:
        """The held bytes as runs: each a stretch of one generation's file without a hole."""
        out: list[Run] = []
        for placed in self.objects:
            o = placed.obj
            last = out[-1] if out else None
            if last and last.generation == o.generation and last.offset + last.size == o.offset:
                out[-1] = Run(last.generation, last.offset, last.size + o.size, last.position)
            elif o.size:
                out.append(Run(o.generation, o.offset, o.size, placed.start))
        return out

    def etag(self, variant: str = "") -> str:
        """A strong validator of what is served: the same objects, the same bytes.

        A digest of each object's name, size and the store's MD5 of its bytes
        (what the listing says), and of `variant` (what else shapes the
        answer, such as a count of lines). Unquoted.
        """
        digest = hashlib.sha256(variant.encode())
        for placed in self.objects:
            o = placed.obj
            digest.update(f"\n{o.name}\0{o.size}\0{o.etag}".encode())
        return digest.hexdigest()[:40]

    def last_modified(self) -> datetime | None:
        """When the newest object was written (whole seconds, UTC); None with no object."""
        newest = None
        for placed in self.objects:
            when = _parse_time(placed.obj.last_modified)
            if when is not None and (newest is None or when > newest):
                newest = when
        return newest.replace(microsecond=0) if newest else None

    def missing_text(self) -> str:
        """The missing ranges as a header carries them: ``0-999,2000-2999`` (empty: none)."""
        return ",".join(str(r) for r in self.missing)


def _parse_time(text: str) -> datetime | None:
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def lines_header(headers: Mapping[str, str]) -> int | None:
    """The line count an object's headers carry (``X-Object-Meta-Lines``), if any."""
    value = headers.get("x-object-meta-lines")
    try:
        count = int(value) if value is not None else None
    except ValueError:
        return None
    return count if count is None or count >= 0 else None


def object_lines(store: ObjectStore, container: str, obj: LogObject) -> int | None:
    """How many lines (newlines) `obj` holds, as the agent recorded it: one HEAD.

    None when the object carries no count (published by something else).
    ObjectNotFound when it is gone.
    """
    return lines_header(store.head_object(container, obj.name))
