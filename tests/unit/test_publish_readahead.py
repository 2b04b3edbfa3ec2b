"""The publish engine reads, counts and hashes the next chunk while one uploads."""

import hashlib
import threading
import time

import pytest

from guestagent.readahead import prepared


class Source:
    """Chunks of a log as ``OpenLog.chunks`` gives them, recording how far it was read."""

    def __init__(self, count: int, fail_at: int | None = None):
        self.count, self.fail_at, self.produced = count, fail_at, 0

    def __iter__(self):
        for i in range(self.count):
            if i == self.fail_at:
                raise OSError(f"failed at chunk {i}")
            self.produced += 1
            yield i * 10, bytearray(b"line %d\n" % i * (i + 1))


def _read_ahead_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("read-ahead")]


def test_chunks_come_in_order_with_their_lines_and_md5():
    out = list(prepared(iter(Source(4))))
    assert [pos for pos, *_ in out] == [0, 10, 20, 30]
    for i, (_, data, lines, md5) in enumerate(out):
        assert data == b"line %d\n" % i * (i + 1)
        assert lines == i + 1
        assert md5 == hashlib.md5(data).hexdigest()


def test_only_the_next_chunk_is_read_ahead():
    source = Source(10)
    chunks = prepared(iter(source))
    next(chunks)
    time.sleep(0.1)  # give the thread time to run as far as it may
    assert source.produced == 2  # the one being uploaded and the next: two in memory
    next(chunks)
    time.sleep(0.1)
    assert source.produced == 3
    chunks.close()


def test_an_error_of_the_file_comes_at_its_turn():
    chunks = prepared(iter(Source(5, fail_at=2)))
    assert [pos for pos, *_ in (next(chunks), next(chunks))] == [0, 10]
    with pytest.raises(OSError, match="failed at chunk 2"):
        next(chunks)
    assert not _read_ahead_threads()


def test_closing_stops_the_reading_at_once():
    # An upload that fails closes the chunks before the log file is closed:
    # nothing may go on reading from it.
    source = Source(10)
    chunks = prepared(iter(source))
    next(chunks)
    assert _read_ahead_threads()
    chunks.close()
    assert not _read_ahead_threads()
    assert source.produced == 2
