"""The latest report of every collector: all that a query ever reads.

Collectors write here when they finish; queries read here and nothing else,
so a slow collector never slows a query. Until a collector's first run ends
its report says status 2, "not collected yet". A collector whose run has
gone on far longer than its interval has its report replaced by a status 2
saying so, rather than serving old figures as if they were fresh.
"""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from logsvc.redact import Redactor
from logsvc.status.collector import Collector
from logsvc.status.report import Kind, Report, Status, StatusCode, status_data

#: A run is stuck when it has lasted this many intervals, and at least STUCK_MIN_SECONDS.
STUCK_INTERVALS = 2
STUCK_MIN_SECONDS = 60.0


@dataclass
class _Entry:
    collector: Collector
    report: Report
    running_since: float | None = None


class ReportCache:
    """Collectors and their latest reports, safe to share between threads."""

    def __init__(
        self,
        redactor: Redactor | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self._redactor = redactor or Redactor()
        self._monotonic = monotonic
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def add(self, collector: Collector) -> None:
        """Hold a report for `collector` from now on; its name must be new."""
        placeholder = collector.report(
            Kind.STATUS, status_data(Status(StatusCode.UNKNOWN, "not collected yet"))
        )
        with self._lock:
            if collector.name in self._entries:
                raise ValueError(f"a status collector named {collector.name!r} exists already")
            self._entries[collector.name] = _Entry(collector, placeholder)

    def begin(self, name: str) -> None:
        """Note that a run of collector `name` starts."""
        with self._lock:
            self._entries[name].running_since = self._monotonic()

    def put(self, report: Report) -> None:
        """Keep `report`, with secrets masked, as its collector's latest."""
        if self._redactor:
            report = Report(
                name=report.name,
                category=report.category,
                kind=report.kind,
                data=self._redactor.value(report.data),
                timestamp=report.timestamp,
                version=report.version,
                format_version=report.format_version,
            )
        with self._lock:
            entry = self._entries[report.name]
            entry.report = report
            entry.running_since = None

    def collectors(self) -> list[Collector]:
        """Every collector, in the order they were added."""
        with self._lock:
            return [e.collector for e in self._entries.values()]

    def reports(self) -> list[Report]:
        """Every collector's latest report, in the order collectors were added."""
        now = self._monotonic()
        with self._lock:
            entries = list(self._entries.values())
        return [self._current(e, now) for e in entries]

    def get(self, name: str) -> Report | None:
        """The latest report of collector `name`, or None if there is no such collector."""
        with self._lock:
            entry = self._entries.get(name)
        return None if entry is None else self._current(entry, self._monotonic())

    @staticmethod
    def _current(entry: _Entry, now: float) -> Report:
        started = entry.running_since
        if started is None:
            return entry.report
        running = now - started
        limit = max(STUCK_INTERVALS * entry.collector.interval, STUCK_MIN_SECONDS)
        if running < limit:
            return entry.report
        return entry.collector.failure(
            StatusCode.UNKNOWN,
            f"no fresh data: the collection has been running for {running:.0f} s "
            f"(interval {entry.collector.interval:g} s)",
        )
