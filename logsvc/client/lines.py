"""Lines of a byte stream that arrives in pieces, as ``tail -n`` counts them.

A line is a run of bytes ended by b"\\n"; a last run without a newline is a
line too. Only b"\\n" separates lines: b"\\r", NUL or bytes that are not UTF-8
are bytes like any other, and nothing is decoded. So for N > 0 the last N
lines start just past the N-th newline from the end, leaving out the newline
that ends the stream, if it does; ``tail -n +K`` starts just past the
(K-1)-th newline from the start.
"""


def _nth_newline_from_end(data: bytes, n: int, end: int) -> int:
    """Index of the n-th b"\\n" counted backwards from `end`; `data[:end]` holds at least n."""
    total = data.count(b"\n", 0, end)
    if n <= total // 2:
        pos = end
        for _ in range(n):
            pos = data.rindex(b"\n", 0, pos)
        return pos
    return _nth_newline(data, total - n + 1)


def _nth_newline(data: bytes, n: int) -> int:
    """Index of the n-th b"\\n" (n >= 1) of `data`, which holds at least n."""
    pos = -1
    for _ in range(n):
        pos = data.index(b"\n", pos + 1)
    return pos


class LinesFromEnd:
    """Where the last `count` lines of a stream start, reading the stream backwards.

    Feed it pieces from the end towards the start; each piece comes just before
    all that was fed (or skipped) so far.
    """

    def __init__(self, count: int):
        if count < 1:
            raise ValueError("the last 0 lines start at the end; ask for one or more")
        #: Newlines still to pass before the start is found.
        self.remaining = count
        #: Whether the stream's last byte has been seen (fed).
        self.started = False
        self.found = False

    def feed(self, piece: bytes) -> int | None:
        """The index in `piece` where the lines start, or None when they start before it."""
        if self.found:
            raise RuntimeError("the start is already found")
        if not piece:
            return None
        end = len(piece)
        if not self.started:
            self.started = True
            if piece.endswith(b"\n"):
                end -= 1  # it ends the last line; it separates no two lines
        newlines = piece.count(b"\n", 0, end)
        if newlines < self.remaining:
            self.remaining -= newlines
            return None
        self.found = True
        return _nth_newline_from_end(piece, self.remaining, end) + 1

    def skip(self, newlines: int) -> None:
        """Pass over a stretch (not the stream's end) known to hold `newlines` newlines.

        The caller knows the start is not inside it: it holds fewer newlines
        than `remaining`.
        """
        if not self.started:
            raise RuntimeError("the end of the stream must be fed, not skipped")
        if newlines >= self.remaining:
            raise ValueError("the start lies in that stretch: feed it instead")
        self.remaining -= newlines


class LinesFromStart:
    """Where a stream continues past its first `count` lines, reading it forwards."""

    def __init__(self, count: int):
        if count < 0:
            raise ValueError("a count of lines is not negative")
        self.remaining = count
        self.found = count == 0

    def feed(self, chunk: bytes) -> int | None:
        """The index in `chunk` just past the `count`-th newline, or None when it comes later."""
        if self.found:
            return 0
        newlines = chunk.count(b"\n")
        if newlines < self.remaining:
            self.remaining -= newlines
            return None
        self.found = True
        return _nth_newline(chunk, self.remaining) + 1

    def skip(self, newlines: int) -> None:
        """Pass over a stretch known to hold `newlines` newlines, fewer than `remaining`."""
        if newlines >= self.remaining:
            raise ValueError("the position lies in that stretch: feed it instead")
        self.remaining -= newlines
