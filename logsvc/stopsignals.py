"""Waiting in a daemon's main thread for SIGTERM or SIGINT, or for a stop asked
from within.

A signal's handler runs in the main thread between two of its bytecodes, and
so possibly inside ``stop.wait()``, where the main thread holds the event's
own lock (``threading.Event`` guards its flag with a plain, non-reentrant
``Lock``). A handler that calls ``stop.set()`` there waits for that lock for
ever: the daemon went on heartbeating and ignored SIGTERM until it was killed
(tests saw it, a minute at a time). So the handler only notes the signal, with
no lock, and the main thread, woken every second, sets the event itself.
"""

import signal
import threading

#: Seconds between the main thread's looks at what the handler noted.
_POLL = 1.0


class StopSignals:
    """SIGTERM and SIGINT (or `signums`), noted by a handler that takes no lock."""

    def __init__(self, signums: tuple[int, ...] = (signal.SIGTERM, signal.SIGINT)):
        self.received: int | None = None
        for signum in signums:
            signal.signal(signum, self._note)

    def _note(self, signum: int, _frame: object) -> None:
        self.received = signum  # nothing else: see the module's docstring

    def wait(self, stop: threading.Event) -> None:
        """Until a signal came or `stop` was set by another thread; `stop` is set then."""
        while self.received is None and not stop.wait(_POLL):
            pass
        stop.set()
