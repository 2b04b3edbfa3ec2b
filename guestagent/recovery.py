"""A first state for a log that has none in the state directory, from the object store.

The metafile holds the last commit (what lies past its offset may be left
from an upload that never committed: `metafile.parse` marks it in flight).
Without a metafile, the listing tells: when the newest generation's objects,
from offset 0 on, are still the start of the log file, they are adopted and
the log resumes after them; otherwise they are an unknown earlier publish,
purged, or kept as history by the ``keep`` policy.
"""

import logging

from guestagent import metafile
from guestagent.logfile import OpenLog
from guestagent.logfile import stat as stat_file
from guestagent.progress import moved_on
from guestagent.publishmodel import LogSource, PublishSettings
from guestagent.state import LogState
from logsvc.exceptions import ObjectNotFound
from logsvc.layout import LogLocation, parse_chunk_name
from logsvc.storage import ObjectStore

LOG = logging.getLogger(__name__)

#: Bytes read at a time when counting the lines of a log file.
_COUNT_BLOCK = 1 << 20


def recover(
    source: LogSource, location: LogLocation, store: ObjectStore, settings: PublishSettings
) -> LogState:
    """The log's state as the object store tells it: its metafile's, else its listing's."""
    try:
        _, raw = store.get_object(location.container, location.metafile)
        state = metafile.parse(raw)
        LOG.info("log %s: resumed from its metafile at offset %d", source.name, state.offset)
    except ObjectNotFound:
        state = _from_listing(source, location, store, keep=settings.rotation_policy == "keep")
    if store.joins_parts():
        # Parts that an object made one again left: the state that listed them is gone.
        state = state.replace(drop_parts=[location.parts_prefix])
    return state


def _from_listing(
    source: LogSource, location: LogLocation, store: ObjectStore, keep: bool
) -> LogState:
    """A first state for a log whose metafile is gone but whose objects may remain."""
    runs: dict[int, list[tuple[int, str, int]]] = {}
    total = 0
    for obj in store.list_objects(location.container, location.prefix):
        parsed = parse_chunk_name(location.prefix, obj.name)
        if parsed is None:
            continue  # not an object of ours: a purge removes it, nobody reads it
        runs.setdefault(parsed[0], []).append((parsed[1], obj.name, obj.size))
        total += obj.size
    if not runs:
        return LogState()
    newest = max(runs)
    history = sum(size for g, run in runs.items() if g < newest for _, _, size in run)
    adopted = _adopt(source, location, store, newest, runs[newest])
    if adopted is not None:
        LOG.warning(
            "log %s: its metafile is gone; resuming after the %d bytes its objects hold",
            source.name,
            adopted.offset,
        )
        if keep:
            return adopted.replace(published=adopted.offset + history)
        return adopted.replace(purge_below=newest) if history else adopted
    generation = newest + 1
    LOG.warning(
        "log %s: %d bytes of an unknown earlier publish found; %s",
        source.name,
        total,
        "kept" if keep else "they will be purged",
    )
    if keep:
        return LogState(generation=generation, published=total)
    return LogState(generation=generation, purge_below=generation)


def _adopt(
    source: LogSource,
    location: LogLocation,
    store: ObjectStore,
    generation: int,
    objects: list[tuple[int, str, int]],
) -> LogState | None:
    """The state after `objects` (offset, name, size), if they begin the log file."""
    objects.sort()
    end, run = 0, []
    for offset, name, size in objects:
        if offset != end:
            break  # past a gap: an upload that never committed, cleared as in flight
        run.append((offset, name, size))
        end += size
    if not run or not source.path or stat_file(source.path) is None:
        return None
    with OpenLog(source.path) as log:
        if log.size < end:
            return None
        for offset, name, size in {run[0], run[-1]}:
            try:
                body = store.get_object(location.container, name)[1]
            except ObjectNotFound:
                return None  # expired meanwhile
            if body != log.read(offset, size):
                return None
        lines = sum(
            log.read(pos, min(_COUNT_BLOCK, end - pos)).count(b"\n")
            for pos in range(0, end, _COUNT_BLOCK)
        )
        start = LogState(generation=generation)
        return moved_on(start, log, end, lines, end, run[-1][1], end, location)
