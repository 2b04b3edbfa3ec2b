"""Replacing a file at once: written aside in its directory, synced, then renamed.

A reader sees the old file or the new one, never half of one; after a crash
the new file is there whole or not at all (the temporary file is synced
before the rename, and the directory after it). On a failure the temporary
file is removed and the old file is left as it was.

Only a regular file is ever replaced. A rename puts a regular file in place
of whatever the name held: a device node (as root, ``/dev/null`` itself), a
FIFO or a socket would be gone, so such a name is refused (NotRegularFile),
as is a directory. A symbolic link is either replaced itself (the default:
the link is one of the caller's own names) or, with ``follow_links``,
followed: the regular file it points to is replaced, in that file's
directory, and the link stays.

A file that replaces another keeps the other's permission bits (and its
owner and group, where the caller may set them); a new file gets `mode`,
by default readable by its owner only.
"""

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Iterator
from typing import BinaryIO


class NotRegularFile(FileExistsError):
    """Something other than a regular file holds the name to be replaced."""


def _kind(mode: int) -> str:
    for test, kind in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return kind
    return "not a regular file"


def target_of(path: str | os.PathLike[str], follow_links: bool = False) -> str:
    """The absolute name that replacing `path` renames over; NotRegularFile if it may not.

    That is `path` when it is new, a regular file, or (without `follow_links`)
    a symbolic link; with `follow_links`, a link's final target, which must be
    a regular file.
    """
    target = os.path.abspath(os.fspath(path))
    try:
        st = os.lstat(target)
    except FileNotFoundError:
        return target
    if stat.S_ISLNK(st.st_mode):
        if not follow_links:
            return target
        resolved = os.path.realpath(target)
        try:
            st = os.stat(resolved)
        except FileNotFoundError:
            raise NotRegularFile(
                errno.EEXIST, f"a symbolic link to {resolved}, which does not exist", target
            ) from None
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularFile(
                errno.EEXIST,
                f"a symbolic link to {_kind(st.st_mode)} ({resolved}), not to a regular file",
                target,
            )
        return resolved
    if not stat.S_ISREG(st.st_mode):
        raise NotRegularFile(errno.EEXIST, f"{_kind(st.st_mode)}, not a regular file", target)
    return target


@contextlib.contextmanager
def replacing(
    path: str | os.PathLike[str], *, mode: int = 0o600, follow_links: bool = False
) -> Iterator[BinaryIO]:
    """A file to write the new contents of `path` into; it replaces `path` on success.

    The name is checked before anything is written (and again just before
    the rename), so a refused name costs no work.
    """
    target = target_of(path, follow_links)
    directory, name = os.path.split(target)
    # a dot hides it from listings; a long name must leave room for the rest
    fd, temp = tempfile.mkstemp(dir=directory, prefix=f".{name[:64]}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            _take_over_permissions(out.fileno(), target, mode)
            yield out
            out.flush()
            os.fsync(out.fileno())
        if target_of(path, follow_links) != target:
            raise NotRegularFile(errno.EEXIST, "it changed while being written", target)
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    fsync_directory(directory)


def write_bytes(path: str | os.PathLike[str], data: bytes, *, mode: int = 0o600) -> None:
    """Replace `path` with `data` (see `replacing`)."""
    with replacing(path, mode=mode) as out:
        out.write(data)


def _take_over_permissions(fd: int, target: str, mode: int) -> None:
    try:
        old = os.stat(target)
    except FileNotFoundError:
        if mode != 0o600:  # mkstemp's own
            os.fchmod(fd, mode)
        return
    os.fchmod(fd, stat.S_IMODE(old.st_mode))
    if (old.st_uid, old.st_gid) != (os.geteuid(), os.getegid()):
        # root saving over a user's file leaves it theirs; anyone else may not chown
        with contextlib.suppress(PermissionError):
            os.fchown(fd, old.st_uid, old.st_gid)


def fsync_directory(directory: str) -> None:
    """Make a rename in `directory` durable (where the filesystem can sync a directory)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems cannot sync a directory; the file itself is synced
    finally:
        os.close(fd)
