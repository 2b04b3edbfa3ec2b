"""The report model of Ganeti's monitoring daemon: what one collector says, on the wire.

A report is ``{name, version, format_version, timestamp, category, kind,
data}``: `timestamp` in nanoseconds since the epoch, `category` one of
:class:`Category` or null (the key is always there), `kind` 0 for
performance data and 1 for a status. A status report's `data` is an object
whose first member is ``status = {"code": 0|1|2|4, "message": str}``.
"""

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

#: Version of the `data` schema of our collectors.
FORMAT_VERSION = 1
#: The `version` Ganeti gives its built-in collectors.
BUILTIN_VERSION = "B"
#: The `version` of reports that come from plugins.
PLUGIN_VERSION = "P"
#: How the HTTP API and the collector list spell "no category".
DEFAULT_CATEGORY = "default"


class Category(enum.StrEnum):
    """What a collector reports on; a node-wide collector has none (null)."""

    INSTANCE = "instance"
    STORAGE = "storage"
    DAEMON = "daemon"
    HYPERVISOR = "hypervisor"


def category_path(category: Category | None) -> str:
    """A category as it appears in URLs and the collector list."""
    return DEFAULT_CATEGORY if category is None else category.value


def parse_category(text: str) -> Category | None:
    """The category that `text` names (``default`` for none); ValueError if none does."""
    if text == DEFAULT_CATEGORY:
        return None
    try:
        return Category(text)
    except ValueError:
        raise ValueError(f"unknown category {text!r}") from None


class Kind(enum.IntEnum):
    """Whether a report carries figures (performance) or a verdict (status)."""

    PERFORMANCE = 0
    STATUS = 1


class StatusCode(enum.IntEnum):
    """Ganeti's status codes. They are bits, so that a cluster can OR them."""

    OK = 0
    #: Bad for now, and something is fixing it without a person.
    TEMP_BAD = 1
    #: We could not tell.
    UNKNOWN = 2
    #: Bad, and a person has to act.
    BAD = 4

    @property
    def word(self) -> str:
        """The code for a person: OK, TEMP-BAD, UNKNOWN, BAD."""
        return self.name.replace("_", "-")


@dataclass(frozen=True)
class Status:
    """The verdict of a status collector."""

    code: StatusCode
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"code": int(self.code), "message": self.message}

    @classmethod
    def from_value(cls, value: object) -> "Status":
        """A Status from itself or from ``{"code", "message"}``; ValueError otherwise."""
        if isinstance(value, Status):
            return value
        if not isinstance(value, Mapping):
            raise ValueError("the status is not an object with code and message")
        code, message = value.get("code"), value.get("message", "")
        if isinstance(code, bool) or not isinstance(code, int) or code not in _CODES:
            raise ValueError(f"status code {code!r} is not one of 0, 1, 2, 4")
        if not isinstance(message, str):
            raise ValueError("the status message is not a string")
        return cls(StatusCode(code), message)


_CODES = frozenset(int(c) for c in StatusCode)


def worst(statuses: Iterable[Status], ok_message: str = "") -> Status:
    """The verdict of several checks of one collector: the worst code wins.

    The message gathers what every failing check said, the worst first, so
    that a person sees all that is wrong at once; when all is well it is
    `ok_message`.
    """
    failing = sorted(
        (s for s in statuses if s.code != StatusCode.OK), key=lambda s: s.code, reverse=True
    )
    if not failing:
        return Status(StatusCode.OK, ok_message)
    message = "; ".join(s.message for s in failing if s.message)
    return Status(failing[0].code, message)


def status_data(status: Status, details: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A status report's data: `status` first, then `details`."""
    data: dict[str, Any] = {"status": status.to_dict()}
    data.update((k, v) for k, v in (details or {}).items() if k != "status")
    return data


@dataclass(frozen=True)
class Report:
    """One collector's report, as the monitoring daemon serves it."""

    name: str
    category: Category | None
    kind: Kind
    data: Any
    timestamp: int
    version: str = BUILTIN_VERSION
    format_version: int = FORMAT_VERSION

    @property
    def status(self) -> Status | None:
        """The verdict of a status report; None for performance data."""
        if self.kind != Kind.STATUS or not isinstance(self.data, Mapping):
            return None
        try:
            return Status.from_value(self.data.get("status"))
        except ValueError:
            return None

    def to_dict(self) -> dict[str, Any]:
        """The report's JSON object, members in Ganeti's order."""
        return {
            "name": self.name,
            "version": self.version,
            "format_version": self.format_version,
            "timestamp": self.timestamp,
            "category": None if self.category is None else self.category.value,
            "kind": int(self.kind),
            "data": self.data,
        }

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> "Report":
        """A report read from the wire; ValueError when it is not one."""
        try:
            category = value["category"]
            return cls(
                name=str(value["name"]),
                category=None if category is None else Category(category),
                kind=Kind(value["kind"]),
                data=value["data"],
                timestamp=int(value["timestamp"]),
                version=str(value["version"]),
                format_version=int(value["format_version"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a status report: {exc}") from None
