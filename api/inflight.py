"""The calls to agents that one API worker has under way (its Guru Meditation
Report's "Dispatches In Flight" section)."""

import contextlib
import itertools
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Dispatch:
    """One call to an agent, from when it was sent."""

    instance_id: str
    method: str
    path: str
    started: float


class InFlight:
    """The calls to agents that this process has under way."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: dict[int, Dispatch] = {}
        self._ids = itertools.count()

    @contextlib.contextmanager
    def track(self, instance_id: str, method: str, path: str) -> Iterator[None]:
        key = next(self._ids)
        with self._lock:
            self._calls[key] = Dispatch(instance_id, method, path, time.time())
        try:
            yield
        finally:
            with self._lock:
                del self._calls[key]

    def snapshot(self) -> list[Dispatch]:
        with self._lock:
            return sorted(self._calls.values(), key=lambda d: d.started)
