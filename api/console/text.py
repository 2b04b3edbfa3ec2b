"""Log bytes made into text a page can show: what the viewer prints.

Log lines are untrusted bytes. Each line is decoded as UTF-8 with the bytes
that are not UTF-8 shown as ``\\xNN``; control characters (ANSI escapes,
carriage returns, bidirectional overrides) become their escapes
(logsvc.safetext); a tab stays a tab. HTML is not this module's concern:
the templates autoescape everything they print. A line longer than
`LINE_LIMIT` characters is cut, with a note of how much was left out (the
download has it whole).
"""

from collections.abc import Sequence
from dataclasses import dataclass

from logsvc.client.cursor import Notice
from logsvc.safetext import printable

#: Characters of one line shown at most.
LINE_LIMIT = 64 * 1024


@dataclass(frozen=True)
class Shown:
    """Lines ready for the page; `complete` is False when the log has earlier lines."""

    lines: list[str]
    complete: bool


def show_line(raw: bytes) -> str:
    """One line (without its newline) as text."""
    return printable(raw.decode("utf-8", "backslashreplace"), LINE_LIMIT, keep="\t")


def show_lines(data: bytes) -> list[str]:
    """The lines of `data`, as ``tail`` counts them (a last line may lack its newline)."""
    if not data:
        return []
    if data.endswith(b"\n"):
        data = data[:-1]
    return [show_line(line) for line in data.split(b"\n")]


def news_lines(items: Sequence[bytes | Notice], cut: bool) -> tuple[list[str], int]:
    """What a look of the live viewer read, as lines (a notice is a line of its own).

    `cut`: the look stopped at its bound, maybe within a line; that line's
    bytes are left out, and counted (the second value) for the next look.
    """
    left = 0
    last = items[-1] if items else None
    if cut and isinstance(last, bytes) and not last.endswith(b"\n"):
        left = len(last) - last.rfind(b"\n") - 1
        if left == len(last):
            left = 0  # one line longer than the bound: shown in pieces
    lines: list[str] = []
    pending = b""
    for item in [*items[:-1], last[: len(last) - left] if left else last]:
        if isinstance(item, bytes):
            pending += item
        elif item is not None:
            lines += show_lines(pending)
            lines.append(item.message)
            pending = b""
    return lines + show_lines(pending), left


def human_bytes(size: int | None) -> str:
    """1536 -> "1.5 KiB"; the exact count is shown beside it where it matters."""
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"
