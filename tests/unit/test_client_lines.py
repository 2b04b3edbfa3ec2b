"""Counting lines across pieces of a byte stream, as tail counts them."""

import random

import pytest

from logsvc.client.lines import LinesFromEnd, LinesFromStart
from tests.tail_reference import reference


def split(data: bytes, rng: random.Random, max_piece: int) -> list[bytes]:
    pieces, pos = [], 0
    while pos < len(data):
        size = rng.randint(1, max_piece)
        pieces.append(data[pos : pos + size])
        pos += size
    return pieces


def last_lines(pieces: list[bytes], n: int) -> bytes:
    finder = LinesFromEnd(n)
    for i in range(len(pieces) - 1, -1, -1):
        index = finder.feed(pieces[i])
        if index is not None:
            return pieces[i][index:] + b"".join(pieces[i + 1 :])
    return b"".join(pieces)


def from_line(pieces: list[bytes], skip: int) -> bytes:
    finder = LinesFromStart(skip)
    out = []
    for piece in pieces:
        index = finder.feed(piece)
        if index is not None:
            out.append(piece[index:])
    return b"".join(out)


SAMPLES = [
    b"",
    b"\n",
    b"\n\n\n",
    b"no newline at all",
    b"one\n",
    b"one\ntwo",
    b"a\nb\nc\n",
    b"crlf\r\nlines\r\n\r\nend\r\n",
    b"\xff\xfe\x00 not utf-8\n\xc3\x28\nlast \x85 without newline",
    b"x" * 300 + b"\n" + b"y" * 50,
    b"\r\r\r only carriage returns \r\n",
]


@pytest.mark.parametrize("data", SAMPLES)
def test_the_finders_agree_with_tail_on_any_split(data):
    rng = random.Random(len(data))
    for _ in range(30):
        pieces = split(data, rng, max_piece=7)
        for n in range(1, 12):
            assert last_lines(pieces, n) == reference(data, n), (pieces, n)
        for skip in range(0, 12):
            assert from_line(pieces, skip) == reference(data, -skip), (pieces, skip)


def test_random_logs_on_random_splits():
    rng = random.Random(7)
    alphabet = [b"a", b"b", b"\n", b"\r", b"\x00", b"\xff", b"\n\n"]
    for _ in range(300):
        data = b"".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80)))
        pieces = split(data, rng, max_piece=rng.randint(1, 20))
        for n in (1, 2, 3, 5, 10, 40, 100):
            assert last_lines(pieces, n) == reference(data, n)
            assert from_line(pieces, n) == reference(data, -n)


def test_the_final_newline_ends_a_line_and_separates_none():
    finder = LinesFromEnd(1)
    assert finder.feed(b"b\n") is None  # the newline that ends the stream: not a separator
    assert finder.feed(b"a\n") == 2  # "b\n" starts just past this one


def test_a_piece_of_only_the_final_newline():
    finder = LinesFromEnd(2)
    assert finder.feed(b"\n") is None
    assert finder.remaining == 2
    assert finder.feed(b"x\ny\nz") == 2  # the last 2 lines are "y\n" and "z\n"


def test_skipping_a_stretch_known_by_its_line_count():
    data = b"l1\nl2\nl3\nl4\nl5\n"
    finder = LinesFromEnd(3)
    assert finder.feed(b"l5\n") is None  # the end: its newline does not count
    finder.skip(1)  # "l4\n", read by nobody: the metadata said one line
    assert finder.remaining == 2
    index = finder.feed(b"l1\nl2\nl3\n")
    assert b"l1\nl2\nl3\n"[index:] + b"l4\nl5\n" == reference(data, 3)


def test_skipping_must_not_pass_the_start():
    finder = LinesFromEnd(2)
    with pytest.raises(RuntimeError):
        finder.skip(1)  # the end of the stream decides whether its newline counts
    finder.feed(b"z\n")
    with pytest.raises(ValueError):
        finder.skip(2)
    forward = LinesFromStart(3)
    forward.skip(2)
    with pytest.raises(ValueError):
        forward.skip(1)
    assert forward.feed(b"x\ny") == 2


def test_from_line_zero_is_everything_and_past_the_end_is_nothing():
    assert from_line([b"a\n", b"b"], 0) == b"a\nb"
    assert from_line([b"a\n", b"b"], 1) == b"b"
    assert from_line([b"a\n", b"b"], 2) == b""
    assert from_line([b"a\n", b"b\n"], 2) == b""
