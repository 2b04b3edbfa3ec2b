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

import logging
import os
import signal
import sys
import threading
import traceback

LOG = logging.getLogger(__name__)

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


def stop_watchdog(seconds: float, status: int = 1) -> threading.Timer:
    """Started once a daemon stops: past `seconds`, the process ends with `status`.

    Whatever hangs on the way out (a library's thread that is no daemon, a
    connection's cleanup), the process ends, and its log says where each
    thread stood. The caller cancels it only if it must live on.
    """
    watchdog = threading.Timer(seconds, _abandon_stop, [seconds, status])
    watchdog.daemon = True
    watchdog.start()
    return watchdog


def _abandon_stop(seconds: float, status: int) -> None:
    stacks = "".join(
        f"\nthread {thread.name}:\n" + "".join(traceback.format_stack(frame))
        for thread in threading.enumerate()
        if (frame := sys._current_frames().get(thread.ident)) is not None
    )
    LOG.error(
        "the stop took more than %gs; exiting now. Threads:%s",
        seconds,
        stacks,
        extra={"verbatim": True},  # our own stacks, multi-line (logsvc.logescape)
    )
    logging.shutdown()
    os._exit(status)


#: What a process writes to its parent's report pipe when it stops because it was
#: asked to (SIGTERM, SIGINT); anything else it writes says why it failed.
STOPPED = "stopped"


def report_end(fd: int | None, word: str) -> None:
    """Tell the parent, on the pipe `fd` it gave (if any), why this process ends."""
    if fd is None:
        return
    try:
        os.write(fd, word.encode("ascii", "replace")[:200])
        os.close(fd)
    except OSError:  # the parent is gone: nobody to tell
        pass
