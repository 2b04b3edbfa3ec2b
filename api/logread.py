"""The read route's work: a log's published bytes, a range of them, or its last lines.

``GET /v1/instance/<id>/log/<name>/data`` (and Trove's prefix) serves the
bytes of the log that the object store holds, in log order and byte-exact,
read from the store the agents publish into (``[storage]``, ``[swift]``).
Where the log lives comes from its agent (a show, as ``POST .../log`` with
only the name does), or from its last known state when the agent is out of
reach; who may read is ``logsvc:log:read``, and a log the agent does not
expose is for callers that pass ``logsvc:log:see_unexposed`` only, as
everywhere.

The answer is laid out by ``logsvc.client.published``: the held bytes (the
objects still there, one after the other) are what is served and what a
``Range`` counts in; bytes that are gone are not papered over but named, as
ranges of the log as published, in a header. Reads go through
``logsvc.client.reader`` (objects fetched a few ahead, in chunks; a tail
reads only the objects that hold the lines asked for), so memory stays
bounded whatever the log's size. Nothing here touches Flask.
"""

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from api import callerstore, instances, logs, policies
from api.auth import Caller
from api.bodies import whole_number
from logsvc.client.cursor import runs_text
from logsvc.client.listing import Snapshot
from logsvc.client.published import PublishedLog
from logsvc.client.reader import LogReader
from logsvc.exceptions import AgentError, BadRequest, RangeNotSatisfiable
from logsvc.layout import valid_container_name

if TYPE_CHECKING:
    from api.state import ApiState

#: Digits of a position beyond which it is past any log (and int() of it costly).
_MAX_DIGITS = 19
_HUGE = 2**63
_RANGE_SPEC = re.compile(r"^(\d*)-(\d*)$")
#: The most lines ``?lines=`` may ask for, either way: the largest 64-bit integer.
LINES_BOUND = 2**63 - 1


@dataclass
class LogData:
    """What a read answers: status, headers, and the bytes, as an iterator."""

    status: int
    headers: dict[str, str]
    chunks: Iterator[bytes] = field(default_factory=lambda: iter(()))


def parse_lines(text: str | None) -> int | None:
    """``?lines=N`` as log-tail's --lines means it, or None when absent; 400 when malformed."""
    if text is None:
        return None
    meaning = "(the last N lines; 0: everything; negative: from past that line)"
    return whole_number("lines", text, -LINES_BOUND, LINES_BOUND, meaning)


def _position(digits: str) -> int:
    return int(digits) if len(digits) <= _MAX_DIGITS else _HUGE


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The bytes ``[start, end)`` that a ``Range`` header asks for, of `size` bytes.

    None when the whole answer is to be served: no Range, a unit other than
    bytes (RFC 9110 says to ignore it), or several ranges (which this server
    does not serve as multipart; the RFC lets it answer the whole).
    RangeNotSatisfiable (416) for a range wholly past the end; BadRequest
    (400) for a bytes range that is not one.
    """
    if header is None or not header.strip():
        return None
    unit, sep, spec = header.strip().partition("=")
    if not sep:
        raise BadRequest(
            f"Range {header[:60]!r} is not 'bytes=START-END', 'bytes=START-' or 'bytes=-N'"
        )
    if unit.strip().lower() != "bytes":
        return None
    ranges = [r.strip() for r in spec.split(",") if r.strip()]
    if not ranges:
        raise BadRequest("Range names no range: 'bytes=START-END', 'bytes=START-' or 'bytes=-N'")
    if len(ranges) > 1:
        if all(_RANGE_SPEC.fullmatch(r) for r in ranges):
            return None  # several ranges: the whole log is the answer (RFC 9110 14.2)
        raise BadRequest(f"Range {header[:60]!r} holds a range that is not one")
    match = _RANGE_SPEC.fullmatch(ranges[0])
    if not match or not (match.group(1) or match.group(2)):
        raise BadRequest(
            f"Range {header[:60]!r} is not 'bytes=START-END', 'bytes=START-' or 'bytes=-N'"
        )
    first, last = match.groups()
    if not first:  # a suffix: the last N bytes
        count = _position(last)
        if count == 0 or size == 0:
            raise RangeNotSatisfiable(
                f"the last {count} bytes of a log of {size} bytes is no byte at all", size
            )
        return max(size - count, 0), size
    start = _position(first)
    end = _position(last) + 1 if last else _HUGE
    if last and end <= start:
        raise BadRequest(f"Range {header[:60]!r} ends before it starts")
    if start >= size:
        raise RangeNotSatisfiable(
            f"the range starts at byte {start if start < _HUGE else first[:40]}, past the "
            f"end of the log ({size} bytes)",
            size,
        )
    return start, min(end, size)


def _quoted(etag: str) -> str:
    return f'"{etag}"'


def _matches(header: str | None, etag: str) -> bool:
    """Whether an If-None-Match / If-Range list names `etag` (weak or strong), or is '*'."""
    if not header:
        return False
    tags = [t.strip() for t in header.split(",")]
    return "*" in tags or any(t.removeprefix("W/") == _quoted(etag) for t in tags)


def open_log(
    session: Session,
    state: "ApiState",
    caller: Caller,
    instance_id: str,
    name: str,
    headers: Mapping[str, str] | None = None,
) -> tuple[PublishedLog, LogReader | None]:
    """The log's layout as of now, and a reader of it (None: nothing is published).

    404 for an instance the caller may not see and for a log it may not see
    (not exposed, for a non-admin); 403 when the policy refuses the read.
    With ``[storage] account = project`` the reader reads the project's
    account with the caller's token (from `headers`): a store of its own,
    which the caller closes when the answer ends.
    """
    instance = instances.find(session, state.enforcer, caller, instance_id)
    policies.authorize(state.enforcer, caller, policies.LOG_READ, instance.tenant_id)
    admin = policies.allowed(state.enforcer, caller, policies.LOG_UNEXPOSED, instance.tenant_id)
    agent = logs.agent_for(state, instance)
    silence = state.conf.api.agent_silence_warning
    view, _ = logs.show_log(session, instance, agent, name, admin, silence)
    if not view.container or not view.prefix:
        return PublishedLog.of(Snapshot((), (), None)), None
    if not valid_container_name(view.container):
        raise AgentError(f"the agent of {instance.id} names a container that is not one")
    if callerstore.per_project(state.conf):
        store = callerstore.reader(state.conf, headers or {}, caller.project_id, instance.tenant_id)
    else:
        store = state.object_store()
    reader = LogReader(store, view.container, view.prefix, view.metafile, state.read_pool())
    return PublishedLog.of(reader.snapshot()), reader


def answer(
    layout: PublishedLog,
    reader: LogReader | None,
    *,
    lines: int | None = None,
    range_header: str | None = None,
    if_range: str | None = None,
    if_none_match: str | None = None,
) -> LogData:
    """Status, headers and bytes of a read of `layout`.

    With `lines`, the lines as log-tail prints them (a Range is ignored, and
    the length is not known beforehand); otherwise the whole log, or the one
    range asked (206), when If-Range (an ETag or the Last-Modified date)
    still matches.
    """
    etag = layout.etag(f"lines={lines}" if lines is not None else "")
    modified = layout.last_modified()
    headers = {
        "Content-Type": "application/octet-stream",
        "ETag": _quoted(etag),
        "X-Log-Size": str(layout.size),
        "X-Log-Published": str(layout.published),
        "Accept-Ranges": "none" if lines is not None else "bytes",
        "Cache-Control": "no-cache",
    }
    if modified is not None:
        headers["Last-Modified"] = _http_date(modified)
    if layout.missing:
        headers["X-Log-Missing-Ranges"] = layout.missing_text()
    runs = layout.runs()
    if runs:
        headers["X-Log-Runs"] = runs_text(runs)
    if _matches(if_none_match, etag):
        return LogData(304, headers)
    if lines is not None:
        if reader is None:
            return LogData(200, headers | {"Content-Length": "0"})
        output = reader.tail(lines, layout.snapshot)
        return LogData(200, headers, _closing(output))
    try:
        wanted = parse_range(range_header, layout.size)
    except RangeNotSatisfiable as exc:
        # A follower's "nothing new" still says where the log stands now.
        exc.also = {k: v for k, v in headers.items() if k.startswith("X-Log-") or k == "ETag"}
        raise
    if reader is None:
        return LogData(200, headers | {"Content-Length": "0"})
    if wanted is not None and if_range and not _if_range_holds(if_range, etag, modified):
        wanted = None  # the log changed since the client's copy: all of it, anew
    if wanted is None:
        headers["Content-Length"] = str(layout.size)
        return LogData(200, headers, _closing(reader.read(0, layout.size, layout)))
    start, end = wanted
    headers["Content-Length"] = str(end - start)
    headers["Content-Range"] = f"bytes {start}-{end - 1}/{layout.size}"
    return LogData(206, headers, _closing(reader.read(start, end, layout)))


def _if_range_holds(if_range: str, etag: str, modified: datetime | None) -> bool:
    """RFC 9110 13.1.5: a strong ETag that matches, or exactly the Last-Modified date."""
    value = if_range.strip()
    if value.startswith('"'):
        return value == _quoted(etag)
    if value.startswith("W/"):
        return False
    return modified is not None and value == _http_date(modified)


def _http_date(when: datetime) -> str:
    return format_datetime(when, usegmt=True)


def _closing(output) -> Iterator[bytes]:
    """The chunks of a reader's output, which stops reading when the answer ends early."""
    try:
        yield from output
    finally:
        output.close()
