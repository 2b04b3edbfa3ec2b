"""Requests ahead of need, answered in order, with memory bounded.

A request to an object store costs a round trip before the first byte, and a
loop that asks for one object after the other waits for each. Here the next
objects are already being fetched (each into a small queue of chunks) while
the current one is consumed, and the line counts of the next objects are
already asked while the current one is looked at. Results come out in the
order asked; what was asked ahead and is not wanted any more is cancelled.
"""

import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

_DONE = object()


class _Failed:
    def __init__(self, error: BaseException):
        self.error = error


def ordered_chunks(
    pool: ThreadPoolExecutor,
    sources: Iterable[Callable[[], Iterator[bytes]]],
    ahead: int = 2,
    queued: int = 4,
) -> Iterator[bytes]:
    """The chunks of each source in turn, with up to `ahead` later sources already running.

    Each source is a function returning an iterator of chunks. Each running
    source holds at most `queued` chunks that are not consumed yet, so memory
    stays within ``(ahead + 1) * queued`` chunks. An error of a source is
    raised when its turn comes. `pool` needs more than `ahead` workers.
    """
    stop = threading.Event()
    running: deque[queue.Queue] = deque()
    todo = iter(sources)

    def fill(chunks: queue.Queue, source: Callable[[], Iterator[bytes]]) -> None:
        if stop.is_set():
            return
        iterator = None
        try:
            iterator = source()
            for chunk in iterator:
                chunks.put(chunk)  # waits while the queue is full
                if stop.is_set():
                    return
            chunks.put(_DONE)
        except BaseException as exc:  # handed to the consumer, who raises it
            chunks.put(_Failed(exc))
        finally:
            close = getattr(iterator, "close", None)
            if close:
                close()

    def start_next() -> None:
        source = next(todo, None)
        if source is not None:
            chunks: queue.Queue = queue.Queue(maxsize=queued)
            running.append(chunks)
            pool.submit(fill, chunks, source)

    try:
        for _ in range(ahead + 1):
            start_next()
        while running:
            current = running[0]
            while (item := current.get()) is not _DONE:
                if isinstance(item, _Failed):
                    raise item.error
                yield item
            running.popleft()
            start_next()
    finally:
        stop.set()
        for chunks in running:  # a source waiting to put sees `stop` once there is room
            while not chunks.empty():
                chunks.get_nowait()


def ordered_results(
    pool: ThreadPoolExecutor, function: Callable[[T], R], items: Iterable[T], most: int = 8
) -> Iterator[tuple[T, "Future[R]"]]:
    """Each item with the future of ``function(item)``, in order, asked ahead of need.

    How far ahead grows from one to `most` as items are consumed, so that a
    walk that stops at the first or second item asks for little more.
    """
    pending: deque[tuple[T, Future[R]]] = deque()
    todo = iter(items)
    window = 1
    try:
        while True:
            while len(pending) < window:
                item = next(todo, _DONE)
                if item is _DONE:
                    break
                pending.append((item, pool.submit(function, item)))  # type: ignore[arg-type]
            if not pending:
                return
            yield pending.popleft()
            window = min(window * 2, most)
    finally:
        for _, future in pending:
            future.cancel()
