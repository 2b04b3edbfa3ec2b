"""The one atomic write: what it replaces, what it refuses, what it leaves on a failure."""

import os
import socket
import stat

import pytest

from logsvc import atomicfile
from logsvc.atomicfile import NotRegularFile
from logsvc.client.reader import LogReader
from logsvc.layout import LogLocation
from logsvc.storage.file import FileStore

LOC = LogLocation("logs", "inst-1", "mysql", "general")


def test_a_new_file_is_private_and_a_replaced_one_keeps_its_permissions(tmp_path):
    new = tmp_path / "new"
    atomicfile.write_bytes(new, b"one")
    assert new.read_bytes() == b"one" and stat.S_IMODE(new.stat().st_mode) == 0o600
    os.chmod(new, 0o640)
    os.chown(new, 1234, 5678)
    atomicfile.write_bytes(new, b"two")
    st = new.stat()
    assert new.read_bytes() == b"two" and stat.S_IMODE(st.st_mode) == 0o640
    assert (st.st_uid, st.st_gid) == (1234, 5678)
    assert os.listdir(tmp_path) == ["new"]


def test_a_failure_leaves_the_old_file_and_no_temporary_one(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomicfile.replacing(path) as out:
        out.write(b"half")
        raise RuntimeError("the source broke")
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["f"]


def special_files(tmp_path):
    """Every kind of name that is not a regular file (devices: the test runs as root)."""
    os.mknod(tmp_path / "nulldev", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    os.mknod(tmp_path / "loopdev", 0o600 | stat.S_IFBLK, os.makedev(7, 0))
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "dir").mkdir()
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(tmp_path / "sock"))
    sock.close()
    return {
        "nulldev": "a character device",
        "loopdev": "a block device",
        "fifo": "a FIFO",
        "dir": "a directory",
        "sock": "a socket",
    }


@pytest.mark.skipif(os.geteuid() != 0, reason="mknod needs root")
@pytest.mark.parametrize("follow_links", [False, True])
def test_nothing_but_a_regular_file_is_replaced(tmp_path, follow_links):
    for name, kind in special_files(tmp_path).items():
        before = os.lstat(tmp_path / name)
        replacing = atomicfile.replacing(tmp_path / name, follow_links=follow_links)
        with pytest.raises(NotRegularFile, match=kind), replacing as out:
            out.write(b"x")
        after = os.lstat(tmp_path / name)
        assert (after.st_ino, after.st_mode, after.st_rdev) == (
            before.st_ino,
            before.st_mode,
            before.st_rdev,
        ), name
    # and no temporary file is left beside them
    assert sorted(os.listdir(tmp_path)) == ["dir", "fifo", "loopdev", "nulldev", "sock"]


def test_symbolic_links(tmp_path):
    real = tmp_path / "real"
    real.write_bytes(b"old")
    os.chmod(real, 0o644)
    (tmp_path / "elsewhere").mkdir()
    link = tmp_path / "elsewhere" / "link"
    link.symlink_to(real)
    # followed: the file it points to is replaced, in its own directory; the link stays
    with atomicfile.replacing(link, follow_links=True) as out:
        out.write(b"new")
    assert link.is_symlink() and real.read_bytes() == b"new"
    assert stat.S_IMODE(real.stat().st_mode) == 0o644
    assert os.listdir(tmp_path / "elsewhere") == ["link"]
    # not followed (the default): the link itself is replaced, its target untouched
    atomicfile.write_bytes(link, b"own")
    assert not link.is_symlink() and link.read_bytes() == b"own" and real.read_bytes() == b"new"
    # a link to something that is not a regular file, or to nothing, is refused when followed
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for target, message in ((fifo, "a FIFO"), (tmp_path / "missing", "does not exist")):
        dangling = tmp_path / f"to-{target.name}"
        dangling.symlink_to(target)
        with pytest.raises(NotRegularFile, match=message):
            atomicfile.target_of(dangling, follow_links=True)
        assert dangling.is_symlink() and not (tmp_path / "missing").exists()
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


@pytest.mark.skipif(os.geteuid() != 0, reason="mknod needs root")
def test_a_save_refuses_a_device_before_reading_anything(tmp_path):
    store = FileStore(tmp_path / "store")
    store.put_object(LOC.container, LOC.chunk_name(1, 0), b"a log line\n")
    device = tmp_path / "nulldev"
    os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    link = tmp_path / "link"
    link.symlink_to(device)
    with LogReader(store, LOC.container, LOC.prefix, LOC.metafile) as reader:
        for path in (device, fifo, link):
            with pytest.raises(NotRegularFile):
                reader.save(path)
        assert stat.S_ISCHR(os.stat(device).st_mode) and stat.S_ISFIFO(os.stat(fifo).st_mode)
        saved_to = tmp_path / "saved.log"
        saved_to.write_bytes(b"")
        link.unlink()
        link.symlink_to(saved_to)
        reader.save(link)
    assert saved_to.read_bytes() == b"a log line\n" and link.is_symlink()
