"""How a log's state moves as it is published: on through a file, or to the next generation.

A publish and an adoption of objects found in the object store both record
where they got to by `moved_on`, so a state is the same whichever wrote it.
"""

from guestagent.logfile import OpenLog
from guestagent.state import LogState
from logsvc.layout import LogLocation


def moved_on(
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


def next_generation(state: LogState, ino: int) -> LogState:
    """`state` at the start of a new generation, the file of inode `ino`."""
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
        open_offset=None,
        open_lines=0,
        open_since=None,
        open_grown=False,
        open_parts=[],
    )


def published_elsewhere(state: LogState, location: LogLocation) -> bool:
    """Whether the log was published into another container than `location`'s."""
    return state.container is not None and state.container != location.container
