"""HTTP calls of logsvc: no redirect, one deadline per call, a bounded answer.

The CLI and its client call the API with it, the API calls the agents, and an
agent sends its heartbeats: every caller of a server that may be hostile.

- A redirect is never followed. requests drops ``Authorization`` when a
  redirect leads to another host, but not ``X-Auth-Token`` (keystoneauth
  drops neither), and a 307 sends the body again: following one would hand
  the user's token to wherever the answer points. A 3xx answer is an error
  that names where it pointed.
- A call has one deadline, for all of it: connecting, sending, the headers
  and the body. requests' own timeout bounds each wait on the socket, so a
  server that trickles its answer (or its headers) a byte at a time would
  hold a call for ever. A watchdog shuts the socket of the call down when its
  time is up, which ends any read or write in progress at once.
- At most `max_bytes` of an answer are read: these are JSON documents, and a
  larger one is refused rather than held in memory. Log contents are the one
  exception (`stream_with`, for the API's read route): their headers come
  within the call's deadline, then the body is handed out chunk by chunk,
  unbounded, each read within the same number of seconds.

`new_session()` gives a requests session whose connections the watchdog can
reach; with any other session (keystoneauth's) the deadline is checked
between the chunks of the answer only.
"""

import contextlib
import heapq
import itertools
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NameResolutionError

from logsvc.exceptions import BadAnswer, LogsvcError, ServerTimeout, ServerUnreachable
from logsvc.safetext import printable

#: Bytes of a JSON answer read at most.
MAX_ANSWER = 8 * 1024 * 1024
#: Seconds to wait for a connection at most (less when the whole call has less).
CONNECT_TIMEOUT = 10.0
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Answer:
    """A server's answer, read whole (and bounded)."""

    status: int
    reason: str
    headers: Mapping[str, str]
    body: bytes


class _Watchdog:
    """One thread per process that ends the calls whose deadline has come.

    (A ``threading.Timer`` per call started a thread per call: on two busy
    cores bench/load.py saw the API spend most of a log-show in
    ``Thread.start``, waiting for the new thread to run.) Deadlines wait in a
    heap; a call that ends first is only marked, and dropped when its time
    comes or when such marks are most of the heap.
    """

    def __init__(self) -> None:
        self._reset()
        os.register_at_fork(after_in_child=self._reset)  # the thread stays in the parent

    def _reset(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, _Deadline]] = []
        self._order = itertools.count()
        self._ended = 0
        self._thread: threading.Thread | None = None

    def add(self, deadline: "_Deadline") -> None:
        with self._cond:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="deadlines", daemon=True)
                self._thread.start()
            heapq.heappush(self._heap, (deadline.ends, next(self._order), deadline))
            if self._heap[0][2] is deadline:
                self._cond.notify()

    def ended(self, deadline: "_Deadline") -> None:
        with self._cond:
            deadline.ended = True
            self._ended += 1
            if self._ended > 64 and self._ended * 2 > len(self._heap):
                self._heap = [entry for entry in self._heap if not entry[2].ended]
                heapq.heapify(self._heap)
                self._ended = 0

    def _run(self) -> None:
        while True:
            with self._cond:
                while True:
                    while self._heap and self._heap[0][2].ended:
                        heapq.heappop(self._heap)
                        self._ended -= 1
                    now = time.monotonic()
                    if self._heap and self._heap[0][0] <= now:
                        deadline = heapq.heappop(self._heap)[2]
                        break
                    self._cond.wait(self._heap[0][0] - now if self._heap else None)
            deadline.expire()


_watchdog = _Watchdog()


class _Deadline:
    """The end of one call: at that moment, the sockets of the call are shut down."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.ends = time.monotonic() + seconds
        self.expired = False
        self.ended = False  # the call ended first (the watchdog's to change)
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []

    def __enter__(self) -> "_Deadline":
        _current.deadline = self
        _watchdog.add(self)
        return self

    def __exit__(self, *exc_info: object) -> None:
        _current.deadline = None
        _watchdog.ended(self)
        with self._lock:
            for sock in self._sockets:
                sock.close()  # our duplicate only; the connection may go back to its pool
            self._sockets.clear()

    def passed(self) -> bool:
        return self.expired or time.monotonic() >= self.ends

    def watch(self, sock: socket.socket | None) -> None:
        if sock is None or sock.fileno() < 0:
            return
        # A duplicate of the descriptor: TLS wraps (and detaches) the socket
        # it was given, and shutdown(2) acts on the connection whichever
        # descriptor names it.
        dup = socket.fromfd(sock.fileno(), sock.family, sock.type, sock.proto)
        with self._lock:
            self._sockets.append(dup)
            if self.expired:
                _shutdown(dup)

    def expire(self) -> None:
        with self._lock:
            if self.ended:  # between the watchdog's look and now
                return
            self.expired = True
            for sock in self._sockets:
                _shutdown(sock)


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


_current = threading.local()


def _watch(sock: socket.socket | None) -> None:
    deadline = getattr(_current, "deadline", None)
    if deadline is not None:
        deadline.watch(sock)


class _WatchedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _watch(sock)
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:
        _watch(self.sock)  # a connection kept alive since an earlier call
        super().request(*args, **kwargs)


class _WatchedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _watch(sock)  # the TLS handshake is part of the call
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:
        _watch(self.sock)
        super().request(*args, **kwargs)


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


class _WatchedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **kwargs)
        if not proxy.lower().startswith("socks"):  # SOCKS pools are their own
            manager.pool_classes_by_scheme = _POOLS
        return manager


def new_session() -> requests.Session:
    """A requests session whose calls `call` can cut short at their deadline."""
    session = requests.Session()
    adapter = _WatchedAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def call(
    session: requests.Session,
    method: str,
    url: str,
    *,
    what: str,
    timeout: float,
    max_bytes: int = MAX_ANSWER,
    **kwargs: Any,
) -> Answer:
    """`method` `url` through `session` (see `new_session`), within `timeout` seconds in all.

    `what` names the server in errors ("the API at http://..."). ServerTimeout
    when there is no answer in time, ServerUnreachable without a connection,
    BadAnswer for a redirect or an answer larger than `max_bytes`.
    """

    def send(seconds: float) -> requests.Response:
        return session.request(
            method,
            url,
            stream=True,
            allow_redirects=False,
            timeout=(min(seconds, CONNECT_TIMEOUT), seconds),
            **kwargs,
        )

    return call_with(send, what=what, timeout=timeout, max_bytes=max_bytes)


def call_with(
    send: Callable[[float], requests.Response],
    *,
    what: str,
    timeout: float,
    max_bytes: int = MAX_ANSWER,
) -> Answer:
    """Like `call`, with `send(timeout)` making the request (streamed, redirects not followed).

    For a keystoneauth session: ``redirect=False, stream=True, log=False``.
    """
    with _Deadline(timeout) as deadline:
        try:
            resp = send(timeout)
            try:
                if 300 <= resp.status_code < 400:
                    raise _redirect_error(resp, what)
                body = _read(resp, max_bytes, what, deadline)
            finally:
                resp.close()
        except Exception as exc:
            error = _call_error(exc, what, timeout, deadline)
            if error is exc:
                raise
            raise error from None
    return Answer(resp.status_code, printable(resp.reason or "", 100), resp.headers, body)


@dataclass
class Streamed:
    """A successful answer whose body is read as it is consumed (see `stream_with`)."""

    status: int
    headers: Mapping[str, str]
    response: requests.Response
    what: str
    chunk_size: int = 1 << 20

    def chunks(self) -> Iterator[bytes]:
        """The body, chunk by chunk; ServerUnreachable or ServerTimeout when it breaks off."""
        try:
            yield from self.response.iter_content(self.chunk_size)
        except (requests.RequestException, OSError) as exc:
            if isinstance(exc, requests.Timeout | TimeoutError) or "timed out" in str(exc):
                raise ServerTimeout(f"{self.what} stopped sending") from None
            raise ServerUnreachable(f"{self.what} broke off its answer") from None
        finally:
            self.close()

    def close(self) -> None:
        self.response.close()


def stream_with(
    send: Callable[[float], requests.Response],
    *,
    what: str,
    timeout: float,
    max_bytes: int = MAX_ANSWER,
) -> "Answer | Streamed":
    """A call whose successful body may be of any size: its headers within `timeout`.

    `send(timeout)` makes the request (streamed, redirects not followed, the
    read timeout `timeout`, which then bounds each wait for the body). An
    answer of 300 or more is read whole and bounded, as `call_with` reads
    it (a redirect is refused); a 2xx is handed back unread, as a Streamed.
    """
    with _Deadline(timeout) as deadline:
        try:
            resp = send(timeout)
        except Exception as exc:
            raise _call_error(exc, what, timeout, deadline) from None
    if resp.status_code < 300:
        return Streamed(resp.status_code, resp.headers, resp, what)
    with _Deadline(timeout) as deadline:
        try:
            try:
                if resp.status_code < 400:
                    raise _redirect_error(resp, what)
                body = _read(resp, max_bytes, what, deadline)
            finally:
                resp.close()
        except Exception as exc:
            raise _call_error(exc, what, timeout, deadline) from None
    return Answer(resp.status_code, printable(resp.reason or "", 100), resp.headers, body)


def _call_error(exc: Exception, what: str, timeout: float, deadline: _Deadline) -> Exception:
    """The error a failed call raises (as `call_with` words it)."""
    if isinstance(exc, LogsvcError):
        return exc
    if isinstance(exc, requests.ConnectTimeout):
        return ServerUnreachable(f"cannot reach {what}: no connection in time")
    if deadline.passed() or isinstance(exc, requests.Timeout | TimeoutError):
        return ServerTimeout(f"{what} did not answer within {timeout:g} s")
    if _unresolved(exc):
        return ServerUnreachable(f"cannot reach {what}: its host name does not resolve")
    if isinstance(exc, requests.ConnectionError):
        return ServerUnreachable(f"cannot reach {what} (is it running?)")
    if isinstance(exc, requests.RequestException | OSError):
        return ServerUnreachable(f"cannot reach {what}: {type(exc).__name__}")
    if type(exc).__module__.startswith("keystoneauth1"):
        return ServerUnreachable(f"cannot reach {what}: {printable(exc)}")
    return exc


def _unresolved(exc: BaseException) -> bool:
    """Whether the call failed on its host's name, which does not resolve (DNS).

    requests wraps urllib3's error, which wraps the resolver's: look through
    the causes and the errors carried as arguments or as a reason.
    """
    todo, seen = [exc], set()
    while todo:
        error = todo.pop()
        if id(error) in seen:
            continue
        seen.add(id(error))
        if isinstance(error, socket.gaierror | NameResolutionError):
            return True
        inner = (error.__cause__, error.__context__, getattr(error, "reason", None), *error.args)
        todo += [e for e in inner if isinstance(e, BaseException)]
    return False


def _redirect_error(resp: requests.Response, what: str) -> BadAnswer:
    location = resp.headers.get("Location")
    where = printable(urljoin(resp.url, location), 200) if location else "nowhere"
    return BadAnswer(
        f"{what} answered {resp.status_code}, a redirect to {where}: not followed, "
        "as it would take your credentials there (use that address directly if you trust it)"
    )


def _read(resp: requests.Response, max_bytes: int, what: str, deadline: _Deadline) -> bytes:
    length = resp.headers.get("Content-Length", "")
    if length.isdigit() and int(length) > max_bytes:
        raise _too_large(what, max_bytes)
    body = bytearray()
    for chunk in resp.iter_content(_CHUNK):
        body += chunk
        if len(body) > max_bytes:
            raise _too_large(what, max_bytes)
        if deadline.passed():
            raise TimeoutError
    return bytes(body)


def _too_large(what: str, max_bytes: int) -> BadAnswer:
    return BadAnswer(f"{what} answered more than {max_bytes / 2**20:g} MiB: not read")
