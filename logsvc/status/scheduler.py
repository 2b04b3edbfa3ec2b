"""Refreshing each collector at its own interval, in the background.

One daemon thread per collector: a collector that hangs holds up its own
thread only, never another collector's refresh. A collector runs as soon as
it is scheduled, then every `interval` seconds from the start of one run to
the start of the next (later if a run takes longer than that; runs of one
collector never overlap). Ganeti's mond polls every collector on one shared
period; per-collector intervals are what its design asked for.
"""

import logging
import threading
import time

from logsvc.status.cache import ReportCache
from logsvc.status.collector import Collector

LOG = logging.getLogger(__name__)


class Scheduler:
    """Runs every collector of a cache at its interval until stopped."""

    def __init__(self, cache: ReportCache):
        self.cache = cache
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._collectors: list[Collector] = []
        self._lock = threading.Lock()
        self._started = False

    def start(self) -> None:
        """Start refreshing every collector that the cache holds."""
        with self._lock:
            if self._started:
                raise RuntimeError("the status scheduler was started already")
            self._started = True
        for collector in self.cache.collectors():
            self.schedule(collector)

    def schedule(self, collector: Collector) -> None:
        """Start refreshing `collector` (one added to the cache after start)."""
        thread = threading.Thread(
            target=self._loop, args=(collector,), name=f"status-{collector.name}", daemon=True
        )
        with self._lock:
            if self._stop.is_set():
                return
            self._collectors.append(collector)
            self._threads.append(thread)
        thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop every refresh, abandoning runs in progress; wait up to `timeout` seconds."""
        self._stop.set()
        with self._lock:
            collectors, threads = list(self._collectors), list(self._threads)
        for collector in collectors:
            try:
                collector.close()
            except Exception:
                LOG.exception("closing status collector %s failed", collector.name)
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                # A daemon thread: it cannot keep the process alive.
                LOG.warning("status collector thread %s did not stop in time", thread.name)

    def _loop(self, collector: Collector) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                self.cache.begin(collector.name)
                self.cache.put(collector.run())
            except Exception:
                # run() never raises; this guards the loop against our own bugs.
                LOG.exception("refreshing status collector %s failed", collector.name)
            elapsed = time.monotonic() - started
            if self._stop.wait(max(0.0, collector.interval - elapsed)):
                return
