"""The status report of one daemon: its collectors, their cache, and the server.

A daemon builds one service, registers its own collectors beside the
built-in ones, starts it with the daemon and stops it on the way out::

    service = StatusService.from_conf(conf, daemon_name="logsvc-guestagent",
                                      store=store, directories=[state_dir])
    service.register(FunctionCollector("guest-logs", logs_status,
                                       category=Category.INSTANCE, interval=30))
    service.start()
    ...
    service.stop()
"""

import logging
import os
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any

from oslo_config import cfg

from logsvc.conf.status import AGENT_STATUS_PORT
from logsvc.exceptions import ConfigError
from logsvc.redact import Redactor
from logsvc.status.cache import ReportCache
from logsvc.status.collector import Collector, FunctionCollector
from logsvc.status.daemon import DaemonCollector
from logsvc.status.node import NodeCollector
from logsvc.status.plugins import discover_plugins
from logsvc.status.report import Category, Kind, Report
from logsvc.status.scheduler import Scheduler
from logsvc.status.server import StatusServer
from logsvc.status.storage import FreeSpaceThresholds, StorageCollector
from logsvc.status.wsgi import StatusApp
from logsvc.storage.base import ObjectStore

LOG = logging.getLogger(__name__)


class StatusService:
    """Collectors refreshed in the background, served read-only over HTTP."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = AGENT_STATUS_PORT,
        *,
        enabled: bool = True,
        secrets: Iterable[str] = (),
        intervals: Mapping[str, float] | None = None,
    ):
        """`port` 0 picks a free port. `secrets` are masked in every report;
        `intervals` override the interval of the collectors they name.
        """
        self.enabled = enabled
        self.cache = ReportCache(Redactor(secrets))
        self.intervals = dict(intervals or {})
        self._scheduler = Scheduler(self.cache)
        self._server = StatusServer(StatusApp(self.cache), host, port)
        # Registering and starting exclude each other: no collector scheduled twice.
        self._lock = threading.Lock()
        self._state = "new"  # then "running", then "stopped"

    @classmethod
    def from_conf(
        cls,
        conf: cfg.ConfigOpts,
        *,
        daemon_name: str,
        store: ObjectStore | None = None,
        directories: Sequence[str | os.PathLike[str]] = (),
        files: Sequence[str | os.PathLike[str]] = (),
        secrets: Iterable[str] = (),
        daemon_pid: int | None = None,
    ) -> "StatusService":
        """The service that ``[status]`` describes, with the built-in collectors.

        Built in: the daemon (named `daemon_name`), the node OS (``node``),
        storage (``storage``: `store` if given, and free space of
        `directories` and ``[status] watched_directories``, which must exist,
        and of the directories of `files`, the log files the daemon reads,
        which may not exist yet), and the plugins
        of ``[status] plugin_dir``. `secrets` are masked in every report
        (see ``logsvc.redact.secrets_in_conf``). ``[status]`` must be registered.
        `daemon_pid`: the daemon is another process (with its children), as
        when a pre-forking server's report is served by a process of its own.
        """
        s = conf.status
        try:
            thresholds = FreeSpaceThresholds(
                s.free_space_warning_percent, s.free_space_critical_percent
            )
        except ValueError as exc:
            raise ConfigError(f"[status] {exc}") from None
        service = cls(
            s.bind_host,
            s.bind_port,
            enabled=s.enabled,
            secrets=secrets,
            intervals=s.collector_intervals,
        )
        if not s.enabled:
            return service
        service.register(
            DaemonCollector(
                daemon_name,
                interval=s.daemon_interval,
                pid=daemon_pid,
                children=daemon_pid is not None,
            )
        )
        service.register(NodeCollector(interval=s.node_interval))
        watched = [*directories, *s.watched_directories]
        if store is not None or watched or files:
            service.register(
                StorageCollector(
                    store,
                    watched,
                    files=files,
                    thresholds=thresholds,
                    interval=s.storage_interval,
                )
            )
        if s.plugin_dir:
            for plugin in discover_plugins(
                s.plugin_dir, timeout=s.plugin_timeout, interval=s.plugin_interval
            ):
                if service.has(plugin.name):
                    LOG.warning(
                        "ignoring status plugin %s: a collector of that name exists", plugin.path
                    )
                    continue
                service.register(plugin)
        return service

    # --- collectors ---------------------------------------------------------

    def register(self, collector: Collector) -> Collector:
        """Add `collector` (its name must be new); refreshed at once if the service runs."""
        override = self.intervals.get(collector.name)
        if override is not None:
            collector.interval = float(override)
        with self._lock:
            self.cache.add(collector)
            if self._state == "running":
                self._scheduler.schedule(collector)
        return collector

    def add_callable(
        self,
        name: str,
        func: Callable[[], Any],
        *,
        category: Category | None,
        kind: Kind = Kind.STATUS,
        interval: float = 60.0,
    ) -> Collector:
        """Register a :class:`FunctionCollector` of `func`."""
        return self.register(
            FunctionCollector(name, func, category=category, kind=kind, interval=interval)
        )

    def has(self, name: str) -> bool:
        """Whether a collector of that name is registered."""
        return self.cache.get(name) is not None

    def reports(self) -> list[Report]:
        """Every collector's latest report, as ``/1/report/all`` serves them."""
        return self.cache.reports()

    # --- running ------------------------------------------------------------

    @property
    def url(self) -> str:
        """Where the report is served (with the real port once started)."""
        return self._server.url

    def start(self) -> None:
        """Serve, and refresh every collector at its interval; nothing if disabled.

        OSError when the port cannot be bound (then nothing keeps running).
        A service starts once: a stopped one does not start again.
        """
        with self._lock:
            if not self.enabled or self._state == "running":
                return
            if self._state == "stopped":
                raise RuntimeError("a stopped status service does not start again")
            self._server.start()
            self._scheduler.start()
            self._state = "running"

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving and refreshing; plugin runs in progress are killed. Idempotent."""
        with self._lock:
            if self._state != "running":
                return
            self._state = "stopped"
        self._server.stop(timeout)
        self._scheduler.stop(timeout)

    def __enter__(self) -> "StatusService":
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
