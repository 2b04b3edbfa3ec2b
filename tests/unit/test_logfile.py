"""The chunk-cutting rule and the file checks, on plain files."""

import os

import pytest

from guestagent.logfile import HEADER_MAX, OpenLog


def chunks(tmp_path, data: bytes, limit: int, final: bool = False, start: int = 0):
    path = tmp_path / "log"
    path.write_bytes(data)
    with OpenLog(str(path)) as log:
        return [(pos, bytes(piece)) for pos, piece in log.chunks(start, limit, final)]


def test_chunks_end_at_line_ends(tmp_path):
    assert chunks(tmp_path, b"aa\nbb\ncc\n", limit=7) == [(0, b"aa\nbb\n"), (6, b"cc\n")]


def test_a_long_line_is_split_at_the_limit(tmp_path):
    assert chunks(tmp_path, b"x" * 10 + b"\n", limit=4) == [
        (0, b"xxxx"),
        (4, b"xxxx"),
        (8, b"xx\n"),
    ]


def test_the_incomplete_last_line_is_held_back_unless_final(tmp_path):
    assert chunks(tmp_path, b"a\nbc", limit=100) == [(0, b"a\n")]
    assert chunks(tmp_path, b"a\nbc", limit=100, final=True) == [(0, b"a\nbc")]
    assert chunks(tmp_path, b"abc", limit=100) == []


def test_a_full_window_without_newline_goes_even_at_the_end(tmp_path):
    # it is part of a line longer than the limit: it will be split there anyway
    assert chunks(tmp_path, b"abcd", limit=4) == [(0, b"abcd")]


@pytest.mark.parametrize("grown", [b"", b"e\n", b"eeeeeeee\nf\n"])
def test_cuts_from_one_offset_are_the_same_whatever_follows(tmp_path, grown):
    base = b"12345\n123\n1234567\n12"
    first = chunks(tmp_path, base, limit=8)
    later = chunks(tmp_path, base + grown, limit=8)
    # every object of the first publish but its last is cut again identically,
    # and the last one starts where a later publish starts an object too
    assert later[: len(first) - 1] == first[:-1]
    assert first[-1][0] in [pos for pos, _ in later]


def test_chunks_start_at_the_given_offset(tmp_path):
    assert chunks(tmp_path, b"a\nb\nc\n", limit=100, start=2) == [(2, b"b\nc\n")]


def test_bytes_read_are_counted(tmp_path):
    path = tmp_path / "log"
    path.write_bytes(b"x\n" * 100)
    with OpenLog(str(path)) as log:
        list(log.chunks(150, 1000, False))
        assert log.bytes_read == 50


def test_header_is_the_first_line_within_what_was_published(tmp_path):
    path = tmp_path / "log"
    path.write_bytes(b"banner\nmore\n")
    with OpenLog(str(path)) as log:
        digest, length = log.header(12)
        assert length == 7
        assert log.header(3)[1] == 3  # only what was published counts
        assert log.digest(0, 7) == digest
    path.write_bytes(b"y" * (HEADER_MAX + 10))
    with OpenLog(str(path)) as log:
        assert log.header(HEADER_MAX + 10)[1] == HEADER_MAX


def test_a_read_leaves_no_view_of_its_buffer_to_whoever_else_holds_it(tmp_path, monkeypatch):
    """A Guru Meditation Report (gc.get_objects() in another thread, mid-read) kept the
    list handed to preadv, and its view with it: cutting the chunk in place then failed
    with BufferError, and the publish with it."""
    path = tmp_path / "log"
    path.write_bytes(b"a line\n" * 1000)
    held = []
    preadv = os.preadv

    def keeping(fd, buffers, offset):
        held.append(buffers)  # as gc.get_objects() in another thread would
        return preadv(fd, buffers, offset)

    monkeypatch.setattr(os, "preadv", keeping)
    with OpenLog(str(path)) as log:
        assert b"".join(chunk for _, chunk in log.chunks(0, 100, False)) == path.read_bytes()
    assert held
