"""What the object store holds of one published log, and what it lacks.

A log's objects are named by position (``logsvc.layout``): generation, then
byte offset in that generation's file. The names alone tell where bytes are
gone: a generation should start at offset 0, and each object should end where
the next one of its generation starts. The metafile adds what names cannot
tell: how far the current generation was published, and how many bytes the
log holds in all, so that whole generations that vanished still show as a
number of missing bytes.
"""

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from logsvc.exceptions import ObjectNotFound
from logsvc.layout import parse_chunk_name
from logsvc.storage.base import ObjectInfo, ObjectStore

LOG = logging.getLogger(__name__)

#: Times a snapshot is taken again when a publish changed the metafile meanwhile.
_SNAPSHOT_ATTEMPTS = 3


@dataclass(frozen=True)
class LogObject:
    """One object of a log: where its bytes sit in the log."""

    name: str
    generation: int
    offset: int
    size: int
    #: The store's MD5 of the object and when it was written (ISO 8601, UTC),
    #: as the listing gave them.
    etag: str = ""
    last_modified: str = ""

    @property
    def end(self) -> int:
        return self.offset + self.size


@dataclass(frozen=True)
class MetafileFigures:
    """What the metafile says the store should hold, as of the last publish."""

    generation: int
    #: Bytes published of the current generation's file.
    log_size: int
    #: Bytes the log holds in all, across the generations it keeps.
    published: int
    #: Generations below this one are being deleted (a discard, a purge).
    purge_below: int = 0

    @classmethod
    def parse(cls, raw: bytes) -> "MetafileFigures | None":
        """The figures of a metafile, or None when it is not one logsvc wrote."""
        try:
            body = json.loads(raw)
            return cls(
                generation=int(body["generation"]),
                log_size=int(body["log_size"]),
                published=int(body["published"]),
                purge_below=int(body.get("purge_below") or 0),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            return None


@dataclass(frozen=True)
class Gap:
    """Bytes of the published log that the store no longer has.

    `start` and `end` are byte offsets in the file of `generation`. A gap
    whose generation is None stands for whole generations that are gone: the
    metafile counts their bytes, but no name says where they were; it holds
    ``end`` bytes, and sits before every object still listed when expiry took
    them (expiry takes the oldest first).
    """

    generation: int | None
    start: int
    end: int
    #: Found when reading (the object expired after the listing) rather than
    #: seen in the listing.
    while_reading: bool = False

    @property
    def size(self) -> int:
        return self.end - self.start

    def sort_key(self) -> tuple[int, int]:
        return (-1 if self.generation is None else self.generation, self.start)

    def __str__(self) -> str:
        if self.generation is None:
            return f"{self.size} bytes of earlier generations of the log are gone"
        when = " (expired while being read)" if self.while_reading else ""
        return (
            f"bytes {self.start}-{self.end - 1} of generation {self.generation} "
            f"({self.size} bytes) are gone{when}"
        )


def log_objects(
    listing: Iterable[ObjectInfo], prefix: str, figures: MetafileFigures | None = None
) -> list[LogObject]:
    """The objects of a listing that belong to the log, in log order.

    Names that do not parse are someone else's; generations below the
    metafile's ``purge_below`` are being deleted on purpose and are no longer
    part of the log.
    """
    purge_below = figures.purge_below if figures else 0
    objects = []
    for info in listing:
        position = parse_chunk_name(prefix, info.name)
        if position is None:
            LOG.debug("%s is not an object of the log; ignored", info.name)
            continue
        generation, offset = position
        if generation < purge_below:
            continue
        objects.append(
            LogObject(info.name, generation, offset, info.size, info.etag, info.last_modified)
        )
    objects.sort(key=lambda o: (o.generation, o.offset))
    return objects


def find_gaps(objects: Sequence[LogObject], figures: MetafileFigures | None = None) -> list[Gap]:
    """Where bytes are missing, from the names of `objects` and the metafile's figures.

    `objects` are in log order. Objects past what the metafile counts (an upload
    after it was written) add no gap of their own beyond the holes between them.
    """
    gaps: list[Gap] = []
    expected: dict[int, int] = {}  # generation: offset where its next object should start
    for obj in objects:
        at = expected.get(obj.generation, 0)
        if obj.offset > at:
            gaps.append(Gap(obj.generation, at, obj.offset))
        expected[obj.generation] = max(at, obj.end)
    if figures is None:
        return gaps
    current = figures.generation
    reached = expected.get(current, 0)
    if reached < figures.log_size:
        gaps.append(Gap(current, reached, figures.log_size))
    held = sum(
        o.size
        for o in objects
        if o.generation < current or (o.generation == current and o.offset < figures.log_size)
    )
    placed = sum(
        g.size
        for g in gaps
        if g.generation is not None
        and (g.generation < current or (g.generation == current and g.start < figures.log_size))
    )
    unplaced = figures.published - held - placed
    if unplaced > 0:
        gaps.append(Gap(None, 0, unplaced))
    gaps.sort(key=Gap.sort_key)
    return gaps


@dataclass(frozen=True)
class Snapshot:
    """A log's objects and gaps as one listing saw them."""

    objects: tuple[LogObject, ...]
    gaps: tuple[Gap, ...]
    figures: MetafileFigures | None

    @property
    def size(self) -> int:
        """Bytes the listed objects hold."""
        return sum(o.size for o in self.objects)


def take_snapshot(store: ObjectStore, container: str, prefix: str, metafile: str = "") -> Snapshot:
    """List the log's objects (every page) and find its gaps.

    The metafile is read before and after the listing: when a publish
    committed in between (a purge may have deleted listed objects on purpose),
    the snapshot is taken again, so that deliberate deletions are not reported
    as gaps.
    """
    raw = _read_metafile(store, container, metafile)
    for _ in range(_SNAPSHOT_ATTEMPTS):
        listing = list(store.list_objects(container, prefix))
        after = _read_metafile(store, container, metafile)
        if after == raw:
            break
        raw = after
    figures = MetafileFigures.parse(raw) if raw is not None else None
    if raw is not None and figures is None:
        LOG.warning("%s/%s is not a metafile logsvc wrote; ignored", container, metafile)
    objects = log_objects(listing, prefix, figures)
    LOG.debug(
        "listed %s/%s: %d objects, metafile %s",
        container,
        prefix,
        len(objects),
        "found" if raw is not None else "absent",
    )
    return Snapshot(tuple(objects), tuple(find_gaps(objects, figures)), figures)


def _read_metafile(store: ObjectStore, container: str, metafile: str) -> bytes | None:
    if not metafile:
        return None
    try:
        return store.get_object(container, metafile)[1]
    except ObjectNotFound:
        return None
