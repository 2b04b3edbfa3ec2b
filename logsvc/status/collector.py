"""What a data collector is, and how one collection becomes a report.

A collector has a name, a category, a kind and an interval, and a
``collect()`` that returns the `data` of its report. ``run()`` wraps one
collection: it never raises; whatever goes wrong becomes a status report
with code 2 (unknown) and the reason, so one broken collector cannot take
the others or the server down with it.
"""

import abc
import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from typing import Any

from logsvc.exceptions import LogsvcError
from logsvc.status.report import (
    BUILTIN_VERSION,
    FORMAT_VERSION,
    Category,
    Kind,
    Report,
    Status,
    StatusCode,
    status_data,
)

LOG = logging.getLogger(__name__)

# Names travel in URL paths (/1/report/<category>/<name>) unescaped.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def valid_name(name: str) -> bool:
    """Whether `name` can name a collector (letters, digits, '.', '_', '-')."""
    return bool(_NAME.fullmatch(name))


class Collector(abc.ABC):
    """A source of one report, refreshed every `interval` seconds."""

    #: The report's `version`: "B" for the collectors built into logsvc.
    version: str = BUILTIN_VERSION
    format_version: int = FORMAT_VERSION

    def __init__(
        self,
        name: str,
        *,
        category: Category | None,
        kind: Kind,
        interval: float,
    ):
        if not valid_name(name):
            raise ValueError(
                f"{name!r} cannot name a collector: use letters, digits, '.', '_', '-'"
            )
        if not interval > 0:
            raise ValueError(f"the interval of collector {name!r} must be positive")
        self.name = name
        self.category = category
        self.kind = kind
        self.interval = float(interval)

    @abc.abstractmethod
    def collect(self) -> Any:
        """The report's data: any JSON value.

        A status collector returns a mapping whose ``status`` is a
        :class:`Status` (or ``{"code", "message"}``). Raising is allowed: the
        report then says status 2 with the error.
        """

    def close(self) -> None:  # noqa: B027 - most collectors hold nothing
        """Abandon a collection in progress and release resources (service stop).

        Called from another thread than ``collect()``.
        """

    def run(self) -> Report:
        """Collect once; a report in every case, never an exception."""
        try:
            data = _as_json(self.collect())
            if self.kind == Kind.STATUS:
                data = _status_first(data)
        except Exception as exc:
            message = (
                exc.message if isinstance(exc, LogsvcError) else f"{type(exc).__name__}: {exc}"
            )
            LOG.warning("status collector %s failed: %s", self.name, message)
            LOG.debug("status collector %s failed", self.name, exc_info=True)
            return self.failure(StatusCode.UNKNOWN, f"collector failed: {message}")
        return self.report(self.kind, data)

    def report(self, kind: Kind, data: Any) -> Report:
        """A report of this collector, stamped now."""
        return Report(
            name=self.name,
            category=self.category,
            kind=kind,
            data=data,
            timestamp=time.time_ns(),
            version=self.version,
            format_version=self.format_version,
        )

    def failure(self, code: StatusCode, message: str) -> Report:
        """A status report saying this collector could not do its job."""
        return self.report(Kind.STATUS, status_data(Status(code, message)))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"


class FunctionCollector(Collector):
    """A collector whose data comes from a callable: the daemons' own collectors.

    For example the agent's datastore and log states::

        FunctionCollector("guest-logs", manager_status, category=Category.INSTANCE,
                          kind=Kind.STATUS, interval=30)

    where ``manager_status()`` returns ``{"status": Status(...), "logs": [...]}``.
    """

    def __init__(
        self,
        name: str,
        func: Callable[[], Any],
        *,
        category: Category | None = None,
        kind: Kind = Kind.STATUS,
        interval: float = 60.0,
        version: str = BUILTIN_VERSION,
    ):
        super().__init__(name, category=category, kind=kind, interval=interval)
        self.func = func
        self.version = version

    def collect(self) -> Any:
        return self.func()


def _as_json(data: Any) -> Any:
    """A deep JSON copy of `data`: what we serve may not change under us, nor fail to encode."""
    return json.loads(json.dumps(data, allow_nan=False, default=_encode))


def _encode(value: Any) -> Any:
    if isinstance(value, Status):
        return value.to_dict()
    raise TypeError(f"{type(value).__name__} is not JSON")


def _status_first(data: Any) -> dict[str, Any]:
    if not isinstance(data, Mapping) or "status" not in data:
        raise ValueError("a status collector returned no status")
    try:
        status = Status.from_value(data["status"])
    except ValueError as exc:
        raise ValueError(f"a status collector returned an invalid status: {exc}") from None
    return status_data(status, data)
