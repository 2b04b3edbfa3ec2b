"""The publish engine's values: a log to publish, how, what an action did, where it stands."""

from dataclasses import dataclass

from oslo_config import cfg

from logsvc.logmodel import LogType


@dataclass(frozen=True)
class PublishSettings:
    """How logs are published; `from_conf` reads the guest_log_* options."""

    container_pattern: str = "database_logs"
    limit: int = 1000000
    expiry: int = 0
    rotation_policy: str = "purge"
    lock_timeout: float = 60.0

    @classmethod
    def from_conf(cls, conf: cfg.ConfigOpts) -> "PublishSettings":
        return cls(
            container_pattern=conf.guest_log_container_name,
            limit=conf.guest_log_limit,
            expiry=conf.guest_log_expiry,
            rotation_policy=conf.guest_log_rotation_policy,
            lock_timeout=conf.guest_log_lock_timeout,
        )


@dataclass(frozen=True)
class LogSource:
    """A log a datastore offers: its name, type and file (None: no file here)."""

    name: str
    type: LogType
    path: str | None


@dataclass
class PublishReport:
    """What one publish did, for logs, reports and tests."""

    bytes_read: int = 0
    bytes_published: int = 0
    objects: int = 0
    rotation: str | None = None
    purged: int = 0
    cleaned: int = 0
    lost_tail: bool = False
    seconds: float = 0.0


@dataclass(frozen=True)
class Figures:
    """A log's numbers as of now: what is published and what is pending."""

    published: int
    pending: int
    rotated: bool
    last_publish: float | None
    last_error: str | None
