"""The storage collector: can we reach the object store, and is there disk left?

Two checks, one status (the worst): the object store answers our credentials
(``ObjectStore.check()``, timed), and each watched directory's filesystem has
free space above the thresholds. Watched are directories a daemon must have
(its state, the local object store's root: one missing is status 4) and the
directories of the log files it reads (one missing is no fault of the
storage, since a datastore creates its logs when it starts: the space of the
filesystem it would be on is reported). The object store's errors are reported by
their message, which logsvc's storage backends write without credentials;
any other exception is reported by its type alone, since its text is not
ours to vouch for.
"""

import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from logsvc.exceptions import StorageAuthError, StorageError
from logsvc.status.collector import Collector
from logsvc.status.report import Category, Kind, Status, StatusCode, status_data, worst
from logsvc.status.units import human_size
from logsvc.storage.base import ObjectStore
from logsvc.storage.file import FileStore


@dataclass(frozen=True)
class FreeSpaceThresholds:
    """Free space, in percent of a filesystem, below which a directory is in trouble."""

    #: Below this: status 1 (expiry and rotation usually bring space back).
    warning_percent: float = 10.0
    #: Below this: status 4 (a person must make room).
    critical_percent: float = 5.0

    def __post_init__(self) -> None:
        if not 0 <= self.critical_percent <= self.warning_percent <= 100:
            raise ValueError("free-space thresholds need 0 <= critical <= warning <= 100 (percent)")


class StorageCollector(Collector):
    """Object-store reachability and latency, and free space of some directories."""

    def __init__(
        self,
        store: ObjectStore | None,
        directories: Sequence[str | os.PathLike[str]] = (),
        *,
        files: Sequence[str | os.PathLike[str]] = (),
        thresholds: FreeSpaceThresholds | None = None,
        name: str = "storage",
        interval: float = 60.0,
    ):
        """`directories` must exist, and so must a local store's root (watched too);
        `files` (log files) are watched by their directory, which may not exist.
        """
        super().__init__(name, category=Category.STORAGE, kind=Kind.STATUS, interval=interval)
        self.store = store
        local_root = [store.root] if isinstance(store, FileStore) else []
        # Each directory once, in the order given.
        self.directories = list(dict.fromkeys(os.fspath(d) for d in [*directories, *local_root]))
        self.file_directories = [
            d
            for d in dict.fromkeys(os.path.dirname(os.path.abspath(f)) for f in files if f)
            if d not in self.directories
        ]
        self.thresholds = thresholds or FreeSpaceThresholds()

    def collect(self) -> dict[str, Any]:
        statuses: list[Status] = []
        details: dict[str, Any] = {}
        if self.store is not None:
            details["object_store"], status = self._check_store(self.store)
            statuses.append(status)
        details["directories"] = []
        for directory in self.directories:
            entry, status = self._check_directory(directory)
            details["directories"].append(entry)
            statuses.append(status)
        for directory in self.file_directories:
            entry, status = self._check_directory(directory, may_be_missing=True)
            details["directories"].append(entry)
            statuses.append(status)
        return status_data(worst(statuses, ok_message=self._ok_message()), details)

    def _ok_message(self) -> str:
        parts = []
        if self.store is not None:
            parts.append("object store reachable")
        if self.directories or self.file_directories:
            parts.append("free space above thresholds")
        return ", ".join(parts) or "nothing to check"

    @staticmethod
    def _check_store(store: ObjectStore) -> tuple[dict[str, Any], Status]:
        entry: dict[str, Any] = {
            "description": store.description,
            "reachable": False,
            "latency_ms": None,
            "error": None,
        }
        started = time.monotonic()
        try:
            store.check()
        except StorageAuthError as exc:
            entry["error"] = exc.message
            return entry, Status(StatusCode.BAD, f"credentials refused: {exc.message}")
        except StorageError as exc:
            entry["error"] = exc.message
            return entry, Status(StatusCode.BAD, f"object store unreachable: {exc.message}")
        except Exception as exc:
            entry["error"] = f"unexpected {type(exc).__name__}"
            return entry, Status(
                StatusCode.BAD,
                f"checking {store.description} failed: unexpected {type(exc).__name__}",
            )
        entry["reachable"] = True
        entry["latency_ms"] = round((time.monotonic() - started) * 1000.0, 1)
        return entry, Status(StatusCode.OK)

    def _check_directory(
        self, directory: str, may_be_missing: bool = False
    ) -> tuple[dict[str, Any], Status]:
        entry: dict[str, Any] = {"path": directory}
        measured = directory
        if may_be_missing and not os.path.isdir(directory):
            measured = _existing_ancestor(directory)
            entry.update(exists=False, measured=measured)
        try:
            usage = shutil.disk_usage(measured)
        except OSError as exc:
            entry["error"] = exc.strerror or type(exc).__name__
            return entry, Status(StatusCode.BAD, f"{directory}: {entry['error']}")
        free_percent = 100.0 * usage.free / usage.total if usage.total else 100.0
        entry.update(
            total=usage.total,
            used=usage.used,
            free=usage.free,
            free_percent=round(free_percent, 1),
        )
        t = self.thresholds
        if free_percent < t.critical_percent:
            code = StatusCode.BAD
        elif free_percent < t.warning_percent:
            code = StatusCode.TEMP_BAD
        else:
            return entry, Status(StatusCode.OK)
        return entry, Status(
            code,
            f"{directory}: only {free_percent:.1f} % free "
            f"({human_size(usage.free)} of {human_size(usage.total)})",
        )


def _existing_ancestor(path: str) -> str:
    """The nearest directory above `path` that exists (``/`` at worst)."""
    path = os.path.abspath(path)
    while not os.path.isdir(path) and os.path.dirname(path) != path:
        path = os.path.dirname(path)
    return path
