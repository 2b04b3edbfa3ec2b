"""What a plugin's output means: a status, JSON figures, plain text, or garbage.

- a JSON object with a ``status`` member: a status report (the status is
  checked: code 0, 1, 2 or 4, a string message);
- any other JSON value: performance data, as it is;
- UTF-8 text that is not JSON: performance data ``{"text": ...}``;
- anything else (bytes that are not UTF-8, control characters, an object
  that starts like JSON and does not parse, more than MAX_OUTPUT bytes):
  a failure, status 2, with the reason.
"""

import enum
import json
import re
from dataclasses import dataclass
from typing import Any

from logsvc.status.report import Kind, Status, StatusCode, status_data

#: Plugin output beyond this is refused: every query sends every report.
MAX_OUTPUT = 64 * 1024

# Text keeps tabs and line ends; other control characters mean binary output.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class OutputMode(enum.Enum):
    """How to read a plugin's bytes."""

    AUTO = "auto"  # scripts and sockets: JSON when it is JSON, else text
    JSON = "json"  # *.json files
    TEXT = "text"  # *.txt files


class PluginFailure(Exception):
    """A plugin did not give a usable answer; its report says `code` and `message`."""

    def __init__(self, code: StatusCode, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class PluginAnswer:
    kind: Kind
    data: Any


def parse_output(raw: bytes, mode: OutputMode = OutputMode.AUTO) -> PluginAnswer:
    """The report a plugin's bytes make; PluginFailure when they make none."""
    if len(raw) > MAX_OUTPUT:
        raise PluginFailure(StatusCode.UNKNOWN, f"the output is larger than {MAX_OUTPUT} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise PluginFailure(StatusCode.UNKNOWN, "the output is not UTF-8 text") from None
    if mode is OutputMode.TEXT:
        return PluginAnswer(Kind.PERFORMANCE, {"text": _plain(text)})
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except ValueError as exc:
        if mode is OutputMode.JSON or text.lstrip().startswith("{"):
            raise PluginFailure(
                StatusCode.UNKNOWN, f"the output is not valid JSON ({exc.msg} at line {exc.lineno})"
            ) from None
        return PluginAnswer(Kind.PERFORMANCE, {"text": _plain(text)})
    if isinstance(value, dict) and "status" in value:
        try:
            status = Status.from_value(value["status"])
        except ValueError as exc:
            raise PluginFailure(
                StatusCode.UNKNOWN, f"invalid status in the output: {exc}"
            ) from None
        return PluginAnswer(Kind.STATUS, status_data(status, value))
    return PluginAnswer(Kind.PERFORMANCE, value)


def _no_constant(name: str) -> Any:
    # JSON has no NaN nor Infinity, and our answers must stay valid JSON.
    raise PluginFailure(StatusCode.UNKNOWN, f"the output holds {name}, which JSON does not allow")


def _plain(text: str) -> str:
    if _CONTROL.search(text):
        raise PluginFailure(StatusCode.UNKNOWN, "the output is not text (control characters)")
    return text.rstrip("\n")
