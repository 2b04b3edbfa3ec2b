"""A log as users see it: its type, its status and its wire shape."""

import enum
from dataclasses import dataclass
from typing import Any


class LogType(enum.StrEnum):
    """SYS logs are always on; USER logs are switched by the user."""

    SYS = "SYS"
    USER = "USER"


class LogStatus(enum.StrEnum):
    """The statuses of Trove's guest-log specification."""

    DISABLED = "Disabled"
    ENABLED = "Enabled"
    UNAVAILABLE = "Unavailable"
    READY = "Ready"
    PUBLISHED = "Published"
    PARTIAL = "Partial"
    ROTATED = "Rotated"
    RESTART_REQUIRED = "Restart Required"
    RESTART_COMPLETED = "Restart Completed"


class RestartState(enum.Enum):
    """Where a log whose switch needs a datastore restart stands."""

    NONE = "none"
    REQUIRED = "required"
    COMPLETED = "completed"


def derive_status(
    log_type: LogType,
    *,
    enabled: bool,
    published: int,
    pending: int,
    rotated: bool,
    restart: RestartState = RestartState.NONE,
) -> LogStatus:
    """The one place where a log's figures become its status.

    The spec's table says both "Enabled: initial state of a SYS log" and
    "Unavailable: SYS log that has no data"; a SYS log with no data is
    Unavailable here, a USER log that is on but has no data is Enabled.
    """
    if restart is RestartState.REQUIRED:
        return LogStatus.RESTART_REQUIRED
    if restart is RestartState.COMPLETED:
        return LogStatus.RESTART_COMPLETED
    if log_type is LogType.USER and not enabled:
        return LogStatus.DISABLED
    if rotated:
        return LogStatus.ROTATED
    if published == 0 and pending == 0:
        return LogStatus.UNAVAILABLE if log_type is LogType.SYS else LogStatus.ENABLED
    if published == 0:
        return LogStatus.READY
    if pending == 0:
        return LogStatus.PUBLISHED
    return LogStatus.PARTIAL


@dataclass(frozen=True)
class LogView:
    """A log's public view; `to_dict` is its wire shape everywhere."""

    name: str
    type: LogType
    status: LogStatus
    published: int
    pending: int
    container: str | None
    prefix: str | None
    metafile: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": str(self.type),
            "status": str(self.status),
            "published": self.published,
            "pending": self.pending,
            "container": self.container,
            "prefix": self.prefix,
            "metafile": self.metafile,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "LogView":
        return cls(
            name=data["name"],
            type=LogType(data["type"]),
            status=LogStatus(data["status"]),
            published=int(data["published"]),
            pending=int(data["pending"]),
            container=data.get("container"),
            prefix=data.get("prefix"),
            metafile=data["metafile"],
        )
