"""The metafile: one JSON object per log, beside the log's objects.

It holds the spec's fields (log name, type, file, header hash, published size,
line count) and what an agent needs to resume the log when its own state
directory is gone.
"""

import json
import time
from typing import Any

from guestagent.state import LogState
from logsvc.exceptions import StorageError
from logsvc.logmodel import LogType

FORMAT = 1


def render(state: LogState, *, log_name: str, log_type: LogType, log_file: str) -> bytes:
    body: dict[str, Any] = {
        "format": FORMAT,
        # The fields of the guest-log specification.
        "log_name": log_name,
        "log_type": str(log_type),
        "log_file": log_file,
        "log_hash": state.header_digest,
        "log_size": state.offset,
        "log_lines": state.lines,
        # How to resume.
        "generation": state.generation,
        "published": state.published,
        "header_length": state.header_len,
        "tail_digest": state.tail_digest,
        "file_ino": state.file_ino,
        "last_object": state.last_object,
        "purge_below": state.purge_below,
        # The newest object while it is open (a followed log): it grows from there.
        "open_offset": state.open_offset,
        "open_lines": state.open_lines,
        "open_since": state.open_since,
        "updated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    return json.dumps(body, indent=1, sort_keys=True).encode()


def parse(raw: bytes) -> LogState:
    """The state a metafile describes.

    Anything past its offset may be left over from an upload that never
    committed, so the state marks it in flight: the next publish clears it.
    """
    try:
        body = json.loads(raw)
        offset = int(body["log_size"])
        return LogState(
            generation=int(body["generation"]),
            offset=offset,
            lines=int(body["log_lines"]),
            published=int(body["published"]),
            file_ino=body.get("file_ino"),
            header_digest=body.get("log_hash"),
            header_len=int(body.get("header_length") or 0),
            tail_digest=body.get("tail_digest"),
            last_object=body.get("last_object"),
            purge_below=int(body.get("purge_below") or 0),
            open_offset=_optional_int(body.get("open_offset")),
            open_lines=int(body.get("open_lines") or 0),
            open_since=float(body["open_since"]) if body.get("open_since") else None,
            inflight=offset,
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise StorageError(f"the metafile is not one logsvc wrote: {exc}") from None


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)
