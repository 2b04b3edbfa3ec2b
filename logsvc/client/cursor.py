"""A follower's place in a published log, kept across rotations, discards and expiry.

Positions in the bytes a read serves (the *held* bytes, ``published``) move
when objects go: a rotation under the ``purge`` policy deletes the old
generation, expiry takes the oldest objects. What does not move is a byte's
name: its generation and its offset in that generation's file, as the
objects' names carry them. A follower therefore keeps a `Cursor` (the next
byte it wants, so named) and, for each look at the log, finds where that byte
now sits among the *runs* of the layout it is served (the stretches of held
bytes that are one generation's file without a hole). The read route sends
the runs in ``X-Log-Runs``; the console has the layout itself.

Used by ``logsvc.client.follow`` (following through the API's read route)
and by the console's live viewer, so that both tell a rotation and a gap the
same way, and read only from where they were.
"""

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

_RUN = re.compile(r"^(\d{1,19}):(\d{1,19})\+(\d{1,19})@(\d{1,19})$")


@dataclass(frozen=True)
class Run:
    """Held bytes ``[position, position + size)``: ``[offset, offset + size)`` of `generation`."""

    generation: int
    offset: int
    size: int
    position: int

    @property
    def end(self) -> int:
        """Where the run ends among the held bytes."""
        return self.position + self.size

    def __str__(self) -> str:
        return f"{self.generation}:{self.offset}+{self.size}@{self.position}"


def runs_text(runs: Sequence[Run]) -> str:
    """Runs as ``X-Log-Runs`` carries them: ``7:0+1200@0,8:0+19@1200`` (empty: none)."""
    return ",".join(str(r) for r in runs)


def parse_runs(text: str | None) -> list[Run]:
    """The runs of an ``X-Log-Runs`` header, in order; what is not one is left out."""
    out = []
    for item in (text or "").split(","):
        match = _RUN.fullmatch(item.strip())
        if match:
            out.append(Run(*(int(g) for g in match.groups())))
    return out


@dataclass(frozen=True)
class Notice:
    """Something a follower tells beside the bytes: kind ``rotated`` or ``gap``."""

    kind: str
    message: str


@dataclass(frozen=True)
class Cursor:
    """The next byte a follower wants: its generation and its offset in that file."""

    generation: int
    offset: int

    def __str__(self) -> str:
        return f"{self.generation}:{self.offset}"

    @classmethod
    def parse(cls, text: str | None) -> "Cursor | None":
        """``7:1200`` as a Cursor; None when absent or not one."""
        match = re.fullmatch(r"(\d{1,19}):(\d{1,19})", (text or "").strip())
        return cls(int(match.group(1)), int(match.group(2))) if match else None

    @classmethod
    def end_of(cls, runs: Sequence[Run]) -> "Cursor | None":
        """Past the last byte of `runs` (None when there is none: nothing is held)."""
        if not runs:
            return None
        last = runs[-1]
        return cls(last.generation, last.offset + last.size)


class Place:
    """Where a follower is: a `cursor`, found again in each layout it is served."""

    def __init__(self, cursor: Cursor | None = None):
        #: The next byte wanted; None before any byte of the log was held.
        self.cursor = cursor

    def start(self, runs: Sequence[Run], size: int) -> int:
        """Where to read from in a layout of `runs` (`size` held bytes).

        The cursor's own position when it is held (or ends a run); else the
        first run after it (what `take` then announces); `size` when nothing
        after it is held (there is nothing new).
        """
        at = self.cursor
        for run in runs:
            if at is None or (run.generation, run.offset + run.size) >= (at.generation, at.offset):
                if at is not None and run.generation == at.generation and run.offset <= at.offset:
                    return run.position + at.offset - run.offset
                return run.position
        return size

    def take(self, runs: Sequence[Run], position: int, data: bytes) -> Iterator[bytes | Notice]:
        """`data`, read from held `position` on, cut where it crosses into another run.

        A run that does not go on from the cursor is announced (a Notice)
        before its bytes; the cursor follows each byte handed out.
        """
        end = position + len(data)
        for run in runs:
            if run.end <= position or run.position >= end or run.size == 0:
                continue
            lo, hi = max(run.position, position), min(run.end, end)
            offset = run.offset + lo - run.position
            if self.cursor is not None and self.cursor != Cursor(run.generation, offset):
                yield self._moved(run, offset)
            self.cursor = Cursor(run.generation, offset + hi - lo)
            yield data[lo - position : hi - position]

    def _moved(self, run: Run, offset: int | None = None) -> Notice:
        at = self.cursor
        self.cursor = Cursor(run.generation, run.offset if offset is None else offset)
        return moved(at, self.cursor)


def moved(was: Cursor | None, now: Cursor) -> Notice:
    """What a follower tells when the next bytes it gets are `now`'s, not `was`'s."""
    if was is None or now.generation != was.generation:
        return Notice("rotated", f"-- the log rotated: generation {now.generation} --")
    return Notice(
        "gap", f"-- bytes {was.offset}-{now.offset - 1} of generation {now.generation} are gone --"
    )
