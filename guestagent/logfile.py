"""The file a log is published from: every read of it goes through here.

Reads are positional (``os.pread``) and counted, so a publish can show that
it read only what was new. Chunks are cut by one deterministic rule, so that a
retried publish from the same offset cuts the same objects again:

- from offset X, look at the window of up to ``limit`` bytes;
- a full window ends at its last newline, or at ``limit`` when it holds none
  (a line longer than the limit is split);
- a window that reaches the end of the file ends at its last newline; the
  incomplete last line is held back, unless the file is final (rotated away,
  it will not grow any more).
"""

import errno
import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass

from logsvc.exceptions import LogFileMissing, LogFileUnreadable

#: The first line of a log, up to this many bytes, is the spec's "log header".
HEADER_MAX = 4096
#: The bytes just before the published offset whose digest tells whether the
#: file still holds what was published.
FINGERPRINT = 4096


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class FileStat:
    """What `stat` says of a log file, without opening it."""

    path: str
    ino: int
    size: int
    mtime_ns: int


def stat(path: str) -> FileStat | None:
    """The file's identity and size, or None when it does not exist."""
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise LogFileUnreadable(f"cannot stat {path}: {exc.strerror}") from None
    return FileStat(path, st.st_ino, st.st_size, st.st_mtime_ns)


class OpenLog:
    """An open log file, its size fixed at the moment it was opened.

    Bytes appended while a publish runs belong to the next publish.
    """

    def __init__(self, path: str):
        self.path = path
        try:
            self._fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        except (FileNotFoundError, NotADirectoryError):
            raise LogFileMissing(f"the log file {path} does not exist") from None
        except OSError as exc:
            raise LogFileUnreadable(f"cannot open the log file {path}: {exc.strerror}") from None
        st = os.fstat(self._fd)
        self.ino = st.st_ino
        self.size = st.st_size
        self.mtime_ns = st.st_mtime_ns
        self.bytes_read = 0

    def __enter__(self) -> "OpenLog":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def read(self, offset: int, length: int) -> bytearray:
        """Up to `length` bytes at `offset` (fewer only at the end of the file).

        A buffer of their own, which a caller can cut short in place.
        """
        buffer = bytearray(length)
        view, got = memoryview(buffer), 0
        while got < length:
            # Released at once, whoever else holds it: a Guru Meditation Report
            # (gc.get_objects() in another thread) may keep the list alive, and a
            # view still exported would stop the buffer from being cut in place.
            part = view[got:]
            try:
                n = os.preadv(self._fd, [part], offset + got)
            except OSError as exc:
                if exc.errno == errno.EINTR:
                    continue
                raise LogFileUnreadable(f"cannot read {self.path}: {exc.strerror}") from None
            finally:
                part.release()
            if not n:
                break
            got += n
        view.release()
        self.bytes_read += got
        del buffer[got:]
        return buffer

    def digest(self, start: int, end: int) -> str:
        return digest(self.read(start, end - start))

    def header(self, published: int) -> tuple[str, int]:
        """Digest and length of the first line, within what has been published."""
        window = self.read(0, min(HEADER_MAX, published))
        newline = window.find(b"\n")
        length = newline + 1 if newline >= 0 else len(window)
        return digest(window[:length]), length

    def fingerprint(self, published: int) -> str:
        """Digest of the bytes just before `published`."""
        return self.digest(max(0, published - FINGERPRINT), published)

    def chunks(self, start: int, limit: int, final: bool) -> Iterator[tuple[int, bytearray]]:
        """(offset, bytes) of each object to publish from `start` on."""
        pos, end = start, self.size
        while pos < end:
            want = min(limit, end - pos)
            window = self.read(pos, want)
            if len(window) < want:  # the file shrank under us: stop at what is there
                end = pos + len(window)
                if not window:
                    return
            cut = window.rfind(b"\n") + 1
            if len(window) == limit:
                cut = cut or limit
            elif final:
                cut = len(window)
            elif cut == 0:
                return  # only an incomplete last line is left: held back
            del window[cut:]  # in place: the window becomes the piece
            yield pos, window
            del window
            pos += cut
