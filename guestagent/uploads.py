"""The uploads of a publish: several in flight, stored in log order, at a bounded rate.

Order holds by construction, for the names (they carry the offset) and for
the last-modified times that python-troveclient sorts by. Each upload has a
turn (``logsvc.storage.base.UploadTurn``) that the store tells how it goes:

- an upload starts only once the store has *taken* the one before it: Swift
  gives an object its timestamp when its proxy takes the request, and says
  so with ``100 Continue`` before it reads the body (or with its final
  answer). So each object's timestamp is later than the one's before it,
  however the bodies race;
- an upload's last bytes go only once the one before it is *stored* (Swift
  answered 201), so an object never becomes visible before the one before
  it: a reader, or a crash, finds the objects of a publish as a prefix of
  it, never with a hole;
- an upload that started after an attempt of the one before it that failed
  (a retry gets a new timestamp) starts over, after the retry was taken.

An upload that fails makes every later one in flight give up before its
last bytes (so none of them is stored), and the publish fails with the
first error. `Uploader` keeps a log's upload threads and its rate between
publishes.
"""

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from logsvc.storage import ObjectStore


class _Superseded(Exception):
    """The upload before this one was tried again after this one started: start over."""


class _GivenUp(Exception):
    """An upload before this one failed, or the publish ended: this one stores nothing."""


class _Turn:
    """One upload's place in line (``UploadTurn``), behind `before`'s."""

    def __init__(self, line: "OrderedUploads", before: "_Turn | None"):
        self.line, self.before = line, before
        self.attempts = 0  # attempts started
        self.taken_attempt = 0  # the attempt the store took last
        self.after = 0  # the attempt of `before` that this attempt started after
        self.finished = False
        self.ok = False

    def _ready(self) -> bool:
        """Whether an attempt may start: the one before ended, or its latest attempt was taken."""
        b = self.before
        if self.line.given_up or b is None or b.finished:
            return True
        return b.attempts > 0 and b.taken_attempt == b.attempts

    def start(self) -> None:
        with self.line.cond:
            self.attempts += 1
            self.line.cond.wait_for(self._ready)
            if self.line.given_up:
                raise _GivenUp()
            self.after = self.before.attempts if self.before else 0

    def taken(self) -> None:
        with self.line.cond:
            self.taken_attempt = self.attempts
            self.line.cond.notify_all()

    def release(self) -> None:
        b = self.before
        with self.line.cond:
            self.line.cond.wait_for(lambda: self.line.given_up or b is None or b.finished)
            if self.line.given_up or (b is not None and not b.ok):
                raise _GivenUp()
            if b is not None and b.attempts != self.after:
                raise _Superseded()

    def end(self, error: BaseException | None) -> None:
        with self.line.cond:
            self.finished, self.ok = True, error is None
            if error is not None and not isinstance(error, _GivenUp):
                self.line.given_up = True
                if self.line.failure is None:
                    self.line.failure = error
            self.line.cond.notify_all()


class Pacer:
    """A rate in bytes per second: each upload starts no sooner than the rate allows.

    An upload of n bytes moves the next start n / rate seconds on; an idle
    time is not saved up. So over any stretch the uploads started hold at
    most rate x its length plus one object.
    """

    def __init__(
        self,
        rate: int,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.rate, self.clock, self.sleep = rate, clock, sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self, size: int) -> None:
        if not self.rate:
            return
        with self._lock:
            now = self.clock()
            start = max(now, self._next)
            self._next = start + size / self.rate
        if start > now:
            self.sleep(start - now)


class Uploader:
    """A log's upload threads and rate, kept from one publish to the next."""

    def __init__(self, concurrency: int, rate: int):
        self.concurrency = concurrency
        self.pacer = Pacer(rate)
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def line(self, store: ObjectStore, container: str) -> "OrderedUploads":
        """The uploads of one publish into `container`."""
        pool = None
        if self.concurrency > 1:
            with self._lock:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="upload")
                pool = self._pool
        return OrderedUploads(store, container, self.concurrency, self.pacer, pool)


class OrderedUploads:
    """The uploads of one publish, at most `concurrency` in flight, stored in order.

    `submit` an upload, then ask `room` (which waits until another may start)
    for the uploads stored meanwhile, in order; `finish` waits for the rest;
    `give_up` (on any error) stops those not yet stored and waits for every
    thread to end. With a concurrency of 1 each upload is made by `submit`
    itself, as one plain request.
    """

    def __init__(
        self,
        store: ObjectStore,
        container: str,
        concurrency: int,
        pacer: Pacer,
        pool: ThreadPoolExecutor | None,
    ):
        self.store, self.container = store, container
        self.concurrency, self.pacer, self.pool = concurrency, pacer, pool
        self.cond = threading.Condition()
        self.given_up = False
        #: The first error of an upload (those that gave up after it say nothing).
        self.failure: BaseException | None = None
        self._last: _Turn | None = None
        self._flight: list[tuple[Future, Any]] = []
        self._stored: list[Any] = []

    def submit(self, name: str, data: bytes, headers: dict[str, str], tag: Any) -> None:
        """Upload `data` to `name`; `tag` comes back from `room` or `finish` once stored."""
        self.pacer.wait(len(data))
        if self.pool is None:
            self.store.put_object(self.container, name, data, headers)
            self._stored.append(tag)
            return
        turn = _Turn(self, self._last)
        self._last = turn
        future = self.pool.submit(self._upload, turn, name, data, headers)
        self._flight.append((future, tag))

    def _upload(self, turn: _Turn, name: str, data: bytes, headers: dict[str, str]) -> None:
        while True:
            try:
                self.store.put_object(self.container, name, data, headers, turn=turn)
            except _Superseded:
                continue
            except BaseException as exc:
                turn.end(exc)
                raise
            turn.end(None)
            return

    def room(self) -> list[Any]:
        """Wait until fewer than `concurrency` uploads are in flight; the tags stored."""
        while len(self._flight) >= self.concurrency:
            self._collect(self._flight[0][0])
        self._collect(None)
        stored, self._stored = self._stored, []
        return stored

    def finish(self) -> list[Any]:
        """Wait for every upload; the tags stored since `room` was last asked."""
        while self._flight:
            self._collect(self._flight[0][0])
        stored, self._stored = self._stored, []
        return stored

    def _collect(self, wait_for: Future | None) -> None:
        """Take the finished uploads at the head of the line (waiting for `wait_for`)."""
        if wait_for is not None:
            wait_for.exception()
        while self._flight and self._flight[0][0].done():
            future, tag = self._flight.pop(0)
            error = future.exception()
            if error is not None:
                raise self.failure or error
            self._stored.append(tag)

    def give_up(self) -> None:
        """Stop the uploads not yet stored; return once no thread works for this publish."""
        with self.cond:
            self.given_up = True
            self.cond.notify_all()
        for future, _ in self._flight:
            future.exception()
        self._flight.clear()
