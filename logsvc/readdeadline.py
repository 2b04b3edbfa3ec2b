"""A deadline for reading a request: total time, not time per read.

A threaded WSGI server spends a thread on a connection while it reads the
request's headers and while the application reads its body. A timeout per
``recv`` does not bound that: a client that sends one byte every few seconds
keeps the thread for as long as it likes, and a few dozen such clients stall
the server. Both daemons wrap each accepted socket in a DeadlineSocket and
arm it when they start reading the headers, then again for the body: every
read after that shares the rest of the time.
"""

import socket
import time
from typing import Any


class ReadDeadline(TimeoutError):
    """The request's headers or body did not arrive within their deadline.

    A TimeoutError whose first argument is "timed out", as ``socket.timeout``
    has it, so that a server treats it as the timeout of a read.
    """

    def __init__(self, what: str, seconds: float):
        super().__init__("timed out", f"the request's {what} did not arrive within {seconds:g} s")
        self.message = self.args[1]


class DeadlineSocket:
    """A socket whose reads fail with ReadDeadline once the time armed is spent.

    Everything but the reads goes to the socket unchanged. Data already
    received is still returned after the deadline: only waiting is refused.
    """

    def __init__(self, sock: socket.socket):
        self._sock = sock
        self._deadline: float | None = None
        self._what = ""
        self._seconds = 0.0

    def arm(self, what: str, seconds: float) -> None:
        """From now on, reads end `seconds` from now (`what` names it in the error)."""
        self._deadline = time.monotonic() + seconds
        self._what, self._seconds = what, seconds

    def recv(self, size: int, *flags: int) -> bytes:
        return self._read(self._sock.recv, size, *flags)

    def recv_into(self, buffer: Any, *args: int) -> int:
        return self._read(self._sock.recv_into, buffer, *args)

    def _read(self, read, *args):
        if self._deadline is None:
            return read(*args)
        prior = self._sock.gettimeout()
        remaining = max(self._deadline - time.monotonic(), 0.0)
        self._sock.settimeout(remaining if prior is None else min(prior, remaining))
        try:
            return read(*args)
        except (TimeoutError, BlockingIOError):
            if self._deadline - time.monotonic() > 0:
                raise  # the server's own timeout per read, shorter than ours
            raise ReadDeadline(self._what, self._seconds) from None
        finally:
            self._sock.settimeout(prior)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)
