"""The nonce journal: the nonces a receiver accepted, kept across its restarts.

One line per accepted nonce, ``<timestamp> <nonce>``, appended without fsync
(a crash of the process keeps it: the kernel has it; losing the machine's
power takes longer than the accepted window anyway). Every so many appends
it is rewritten with only the nonces still remembered.
"""

import contextlib
import os
from collections.abc import Iterable

#: Appends between two rewrites that drop the expired nonces.
COMPACT_EVERY = 10_000


class NonceJournal:
    """A file of (nonce, signed timestamp) pairs; `parse` decides which lines count."""

    def __init__(self, path: str):
        self.path = path
        self._appended = 0

    def read(self) -> list[tuple[str, str]]:
        """(timestamp text, nonce) of every whole line; nothing when there is no file."""
        try:
            with open(self.path, encoding="ascii", errors="replace") as f:
                lines = list(f)
        except FileNotFoundError:
            return []
        entries = []
        for line in lines:
            with contextlib.suppress(ValueError):  # a line cut short by a crash
                stamp, nonce = line.split()
                entries.append((stamp, nonce))
        return entries

    def append(self, nonce: str, sent: float, remembered: Iterable[tuple[str, float]]) -> None:
        """Add one nonce; rewrite first (with `remembered`) when it is time to compact."""
        if self._appended >= COMPACT_EVERY:
            self.rewrite(remembered)
        with open(self.path, "a", encoding="ascii") as f:
            f.write(_line(nonce, sent))
        self._appended += 1

    def rewrite(self, remembered: Iterable[tuple[str, float]]) -> None:
        """The journal, holding only `remembered` (nonce, timestamp) pairs."""
        tmp = f"{self.path}.tmp"
        with open(tmp, "w", encoding="ascii") as f:
            f.writelines(_line(nonce, sent) for nonce, sent in remembered)
        os.replace(tmp, self.path)
        self._appended = 0


def _line(nonce: str, sent: float) -> str:
    return f"{sent:.6f} {nonce}\n"
