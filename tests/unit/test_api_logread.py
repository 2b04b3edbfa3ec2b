"""The read route's parsing of Range and lines (api/logread.py), case by case."""

import pytest

from api import logread
from logsvc.exceptions import BadRequest, RangeNotSatisfiable


@pytest.mark.parametrize(
    ("header", "size", "wanted"),
    [
        (None, 10, None),
        ("", 10, None),
        ("bytes=0-0", 10, (0, 1)),
        ("bytes=2-", 10, (2, 10)),
        ("bytes=2-100", 10, (2, 10)),
        ("bytes=-3", 10, (7, 10)),
        ("bytes=-30", 10, (0, 10)),
        (" Bytes = 1-2 ", 10, (1, 3)),
        ("bytes=0-1,4-5", 10, None),  # several: the whole
        ("items=0-1", 10, None),  # another unit: ignored
        ("bytes=1-" + "9" * 50, 10, (1, 10)),
    ],
)
def test_ranges_served(header, size, wanted):
    assert logread.parse_range(header, size) == wanted


@pytest.mark.parametrize(
    ("header", "size"),
    [("bytes=10-", 10), ("bytes=10-20", 10), ("bytes=-0", 10), ("bytes=0-", 0), ("bytes=-5", 0),
     ("bytes=" + "9" * 5000 + "-", 10)],
)  # fmt: skip
def test_ranges_past_the_end_are_416_naming_the_size(header, size):
    with pytest.raises(RangeNotSatisfiable) as caught:
        logread.parse_range(header, size)
    assert caught.value.headers == {"Content-Range": f"bytes */{size}"}


@pytest.mark.parametrize(
    "header",
    ["bytes=abc", "bytes=5-3", "bytes=", "bytes=-", "bytes=--1", "nonsense", "bytes=1-2,x"],
)
def test_malformed_ranges_are_400(header):
    with pytest.raises(BadRequest) as caught:
        logread.parse_range(header, 10)
    assert "Range" in caught.value.message


def test_lines():
    assert logread.parse_lines(None) is None
    assert [logread.parse_lines(t) for t in ("0", "5", "-7", "+3")] == [0, 5, -7, 3]
    for bad in ("", "abc", "1.5", "9" * 20, "- 1"):
        with pytest.raises(BadRequest):
            logread.parse_lines(bad)


@pytest.mark.parametrize("text", ["99999999999999999999999", "-" + "9" * 30, "9" * 5000])
def test_lines_too_large_are_400_saying_the_limit(text):
    """A whole number, only too large: the message says so, and what the limit is."""
    with pytest.raises(BadRequest) as caught:
        logread.parse_lines(text)
    bound = f"{'at least -' if text[0] == '-' else 'at most '}{2**63 - 1}"
    assert caught.value.message.startswith(f"lines must be {bound}"), caught.value.message
    assert "whole number" not in caught.value.message
    assert logread.parse_lines(str(2**63 - 1)) == 2**63 - 1
