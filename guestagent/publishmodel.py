"""The publish engine's values: a log to publish, how, what an action did, where it stands."""

from dataclasses import dataclass

from oslo_config import cfg

from logsvc.exceptions import ConfigError
from logsvc.logmodel import LogType
from logsvc.storage import ObjectStore


@dataclass(frozen=True)
class PublishSettings:
    """How logs are published; `from_conf` reads the guest_log_* options."""

    container_pattern: str = "database_logs"
    limit: int = 1000000
    expiry: int = 0
    rotation_policy: str = "purge"
    lock_timeout: float = 60.0
    #: Followed logs: seconds between publishes; seconds an open object stays open.
    interval: float = 1.0
    object_age: float = 60.0
    #: Uploads in flight per publish; bytes per second a log's uploads may take (0: any).
    concurrency: int = 1
    max_rate: int = 0

    @classmethod
    def from_conf(cls, conf: cfg.ConfigOpts) -> "PublishSettings":
        return cls(
            container_pattern=conf.guest_log_container_name,
            limit=conf.guest_log_limit,
            expiry=conf.guest_log_expiry,
            rotation_policy=conf.guest_log_rotation_policy,
            lock_timeout=conf.guest_log_lock_timeout,
            interval=conf.guest_log_publish_interval,
            object_age=conf.guest_log_object_age,
            concurrency=conf.guest_log_upload_concurrency,
            max_rate=conf.guest_log_max_bytes_per_second,
        )

    def check(self, max_concurrency: int) -> None:
        """ConfigError, naming the option, for a value a publish or a follow cannot work with.

        `max_concurrency`: the most uploads in flight the object store takes.
        """
        for option, value in (
            ("guest_log_publish_interval", self.interval),
            ("guest_log_object_age", self.object_age),
        ):
            if not value > 0:
                raise ConfigError(f"[DEFAULT] {option} must be more than 0 (it is {value})")
        if not 1 <= self.concurrency <= max_concurrency:
            raise ConfigError(
                f"[DEFAULT] guest_log_upload_concurrency must be from 1 to {max_concurrency}, "
                f"the most this object store takes (it is {self.concurrency})"
            )
        if self.max_rate < 0 or 0 < self.max_rate * 60 < self.limit:
            raise ConfigError(
                "[DEFAULT] guest_log_max_bytes_per_second must be 0 (no limit) or at least "
                f"one object of guest_log_limit a minute, {-(-self.limit // 60)} "
                f"(it is {self.max_rate})"
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
    bytes_published: int = 0  # sent: an open object rewritten counts again, a manifest too
    bytes_new: int = 0  # of which bytes the store did not hold before
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
    follow: bool = False


@dataclass(frozen=True)
class Account:
    """Where one action writes: a store, and what the log's state records of it.

    `id` None is the service's account (the agent's own store); a project's
    own account (``[storage] account = project``) is a store built for the
    action from the caller's token, and ``CallerStorage.account_id``.
    """

    store: ObjectStore
    id: str | None = None
