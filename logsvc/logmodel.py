"""A log as users see it: its type, its status and its wire shape."""

import enum
from dataclasses import dataclass
from typing import Any

from logsvc.layout import valid_log_name


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


class PublishState(enum.StrEnum):
    """Where a log's last publish stands (`PublishOutcome.state`)."""

    RUNNING = "running"
    PUBLISHED = "published"
    FAILED = "failed"
    #: The API's word when the agent went silent while it published.
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class PublishOutcome:
    """A log's last publish as its agent reports it: running, or how it ended.

    `id` names one publish, so that a late answer that it runs never
    overwrites the news that it ended. Times are ISO 8601 UTC strings.
    """

    id: str
    state: PublishState
    started_at: str
    ended_at: str | None = None
    error: str | None = None

    @property
    def running(self) -> bool:
        return self.state is PublishState.RUNNING

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "state": str(self.state),
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "error": self.error,
        }

    @classmethod
    def from_dict(cls, data: Any) -> "PublishOutcome":
        """The outcome `data` describes; ValueError naming what does not fit."""
        if not isinstance(data, dict):
            raise ValueError("publish must be an object or null")
        try:
            state = PublishState(_text(data, "state", 16))
        except ValueError:
            raise ValueError(
                f"publish.state must be one of {', '.join(map(str, PublishState))}"
            ) from None
        return cls(
            id=_text(data, "id", 64),
            state=state,
            started_at=_text(data, "started_at", 40),
            ended_at=_text(data, "ended_at", 40, optional=True),
            error=_text(data, "error", MAX_ERROR, optional=True),
        )


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
    #: The log's last publish (None: none known, or an agent that does not say).
    publish: PublishOutcome | None = None
    #: Published continuously (``log-enable --follow``).
    follow: bool = False

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
            "publish": None if self.publish is None else self.publish.to_dict(),
            "follow": self.follow,
        }

    @classmethod
    def from_dict(cls, data: Any, instance_id: str | None = None) -> "LogView":
        """The view that `data` describes; ValueError naming what does not fit.

        Strict: what an agent reports is stored and shown to users as it is.
        With `instance_id`, the log's objects must be that instance's.
        """
        if not isinstance(data, dict):
            raise ValueError("a log must be an object")
        missing = sorted(_FIELDS - set(data))
        if missing:
            raise ValueError(f"a log needs {', '.join(missing)}")
        if not isinstance(data["name"], str) or not valid_log_name(data["name"]):
            raise ValueError("name must be a log name")
        if instance_id is not None:
            own = f"{instance_id}/"
            for key in ("prefix", "metafile"):
                if data.get(key) is not None and not str(data[key]).startswith(own):
                    raise ValueError(f"{key} is not under the instance's own {own}")
        return cls(
            name=data["name"],
            type=LogType(_text(data, "type", 8)),
            status=LogStatus(_text(data, "status", 32)),
            published=_size(data, "published"),
            pending=_size(data, "pending"),
            container=_text(data, "container", MAX_CONTAINER, optional=True),
            prefix=_text(data, "prefix", MAX_PATH, optional=True),
            metafile=_text(data, "metafile", MAX_PATH),
            publish=None
            if data.get("publish") is None
            else PublishOutcome.from_dict(data["publish"]),
            follow=_flag(data, "follow"),
        )


#: Longest values a log's fields may hold (the API's tables hold as much).
MAX_CONTAINER = 256
MAX_PATH = 512
MAX_ERROR = 1024
_FIELDS = frozenset(("name", "type", "status", "published", "pending", "metafile"))


def _text(data: dict[str, Any], key: str, most: int, optional: bool = False) -> Any:
    value = data.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value or len(value) > most:
        raise ValueError(f"{key} must be a string of 1 to {most} characters")
    return value


def _size(data: dict[str, Any], key: str) -> int:
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63:
        raise ValueError(f"{key} must be a whole number of bytes")
    return value


def _flag(data: dict[str, Any], key: str) -> bool:
    """An optional flag (an agent of an earlier version does not send it: False)."""
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise ValueError(f"{key} must be true or false")
    return value
