"""Any service's log files, declared in the agent's configuration."""

from oslo_config import cfg

from guestagent.datastores.base import Datastore
from guestagent.publishmodel import LogSource
from guestagent.state import StateStore
from logsvc.exceptions import ConfigError
from logsvc.layout import valid_log_name
from logsvc.logmodel import LogType


def parse_entry(entry: str) -> LogSource:
    """``name:TYPE:/path`` as a LogSource; ConfigError with the reason otherwise."""
    parts = entry.split(":", 2)
    if len(parts) != 3:
        raise ConfigError(f"[file_datastore] logs entry {entry!r} is not name:SYS|USER:/path")
    name, kind, path = (p.strip() for p in parts)
    if not valid_log_name(name) or name == "guest":
        raise ConfigError(
            f"[file_datastore] logs entry {entry!r}: {name!r} is not a usable log name "
            "(lower-case letters, digits, '_'; not 'guest')"
        )
    if kind.upper() not in ("SYS", "USER"):
        raise ConfigError(f"[file_datastore] logs entry {entry!r}: type must be SYS or USER")
    if not path.startswith("/"):
        raise ConfigError(f"[file_datastore] logs entry {entry!r}: the path must be absolute")
    return LogSource(name, LogType(kind.upper()), path)


class FileDatastore(Datastore):
    """Log files of any service; switching a USER log on or off is ours to keep."""

    name = "file"

    def __init__(self, sources: list[LogSource], states: StateStore, guest_log: str | None):
        super().__init__(states, guest_log)
        names = [s.name for s in sources]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ConfigError(f"[file_datastore] logs names {', '.join(duplicated)} twice")
        self._sources = sources

    @classmethod
    def from_conf(cls, conf: cfg.ConfigOpts, states: StateStore, guest_log: str | None):
        return cls([parse_entry(e) for e in conf.file_datastore.logs], states, guest_log)

    def own_logs(self) -> list[LogSource]:
        return list(self._sources)
