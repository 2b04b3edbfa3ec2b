"""Has the log file rotated since it was published, and where did the old one go?

The spec recognises rotation by a hash of the first line. Many logs begin
with the same banner (MySQL's do), so more is checked: the file is rotated
when its inode changed, when it is shorter than what was published, when its
first line differs, or when the bytes just before the published offset
differ (copytruncate, or truncation, followed by new writes).

The inode is compared without the device number, which can change across a
reboot for the same filesystem; a reused inode is caught by the content checks.
"""

import os
import re
from dataclasses import dataclass

from guestagent.logfile import OpenLog
from guestagent.state import LogState
from logsvc.exceptions import LogFileMissing, LogFileUnreadable

# Names logrotate and friends give rotated files: log.1, log.2, log-20261122,
# log.2026-11-22. Compressed ones (.gz ...) are not readable as the log was.
_ROTATED_SUFFIX = re.compile(r"^[.-]\d[\d._:T-]*$")


def rotation_reason(state: LogState, log: OpenLog) -> str | None:
    """Why `log` is no longer the file that `state` was published from, if it isn't."""
    if state.file_ino is None:
        return None
    if log.ino != state.file_ino:
        return "the log file was replaced (new inode)"
    return _content_mismatch(state, log)


def _content_mismatch(state: LogState, log: OpenLog) -> str | None:
    if state.offset == 0:
        return None
    if log.size < state.offset:
        return "the log file is shorter than what was published (truncated)"
    if state.header_digest and log.digest(0, state.header_len) != state.header_digest:
        return "the first line of the log file changed"
    if state.tail_digest and log.fingerprint(state.offset) != state.tail_digest:
        return "the published part of the log file was rewritten"
    return None


@dataclass(frozen=True)
class RotatedFile:
    path: str
    start: int  # how much of it is published already
    # The file that was being published: its generation goes on at `start`.
    # Every other rotated file is a generation of its own.
    continues: bool = False


def rotated_files(path: str, state: LogState, current_ino: int) -> list[RotatedFile]:
    """The rotated-away files still to publish, oldest first.

    First the file that was being published (found by inode after a rename, or
    by content after copytruncate), from the published offset on; then every
    rotated file newer than it, whole. When that file cannot be found
    (deleted, or compressed), its unpublished tail is lost: then the rotated
    files written to since the last publish, whole.
    """
    directory, base = os.path.split(path)
    candidates = []
    try:
        names = os.listdir(directory or ".")
    except OSError:
        return []
    for name in names:
        if not name.startswith(base) or not _ROTATED_SUFFIX.fullmatch(name[len(base) :]):
            continue
        full = os.path.join(directory, name)
        try:
            st = os.stat(full)
        except OSError:
            continue
        if st.st_ino == current_ino or not os.path.isfile(full):
            continue
        number = int(m.group()) if (m := re.search(r"\d+$", name)) and name[len(base)] == "." else 0
        # Older first: by modification time, then a higher .N is older.
        candidates.append(((st.st_mtime_ns, -number), full, st.st_ino))
    candidates.sort()
    origin = _find_origin(state, candidates)
    if origin is None:
        if state.last_publish is None:
            return []
        since = state.last_publish * 1e9
        return [RotatedFile(full, 0) for (mtime, _), full, _ in candidates if mtime > since]
    key = next(c[0] for c in candidates if c[1] == origin)
    newer = [RotatedFile(full, 0) for k, full, _ in candidates if k > key]
    return [RotatedFile(origin, state.offset, continues=True), *newer]


def _find_origin(state: LogState, candidates: list) -> str | None:
    by_inode = [full for _, full, ino in candidates if ino == state.file_ino]
    by_content = [full for _, full, ino in candidates if ino != state.file_ino]
    for full in by_inode:
        if _same_content(state, full):
            return full
    if state.offset == 0:
        return None  # nothing published: only the inode could tell
    for full in reversed(by_content):  # newest copy first
        if _same_content(state, full):
            return full
    return None


def _same_content(state: LogState, path: str) -> bool:
    try:
        with OpenLog(path) as log:
            return _content_mismatch(state, log) is None
    except (LogFileMissing, LogFileUnreadable):
        return False
