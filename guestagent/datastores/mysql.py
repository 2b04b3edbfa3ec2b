"""MySQL and MariaDB: the general and slow-query logs, switched live.

USER logs ``general`` and ``slow_query`` are switched on the running server
with ``SET GLOBAL`` (their file, ``log_output = FILE``, ``long_query_time``),
no restart needed; whether one is on is asked of the server, so it is right
even after the agent restarts (or after someone switched it by hand). SYS
logs: ``guest`` (the agent's own) and ``error`` (the server's error log).

The agent needs an account with the SUPER (MySQL 5.7), SYSTEM_VARIABLES_ADMIN
(MySQL 8) or equivalent (MariaDB) privilege, and read access to the files.
The server must be able to write in `log_dir`.
"""

import logging
import os

import pymysql
from oslo_config import cfg

from guestagent.datastores.base import Datastore
from guestagent.publishmodel import LogSource
from guestagent.state import StateStore
from logsvc.exceptions import DatastoreError, DatastoreRefused
from logsvc.logmodel import LogType

LOG = logging.getLogger(__name__)

# log name -> (the server's switch variable, its file variable)
_SWITCHES = {
    "general": ("general_log", "general_log_file"),
    "slow_query": ("slow_query_log", "slow_query_log_file"),
}


# Client errors that mean the connection was lost, not that a statement was refused:
# CR_SERVER_GONE_ERROR, CR_SERVER_LOST.
_LOST = (2006, 2013)


class MySQLDatastore(Datastore):
    """A MySQL or MariaDB server on this instance."""

    name = "mysql"

    def __init__(
        self,
        connect_args: dict,
        log_dir: str,
        error_log: str | None,
        long_query_ms: int,
        states: StateStore,
        guest_log: str | None,
    ):
        super().__init__(states, guest_log)
        self.connect_args = connect_args
        self.long_query_seconds = long_query_ms / 1000.0
        self.paths = {name: os.path.join(log_dir, f"{name}.log") for name in _SWITCHES}
        self.error_log = error_log or self._ask_error_log()

    @classmethod
    def from_conf(cls, conf: cfg.ConfigOpts, states: StateStore, guest_log: str | None):
        m = conf.mysql
        args = {
            "user": m.user,
            "password": m.password,
            "connect_timeout": m.connect_timeout,
            "read_timeout": 30,
            "write_timeout": 30,
        }
        if m.unix_socket:
            args["unix_socket"] = m.unix_socket
        else:
            args.update(host=m.host, port=m.port)
        return cls(args, m.log_dir, m.error_log, conf.guest_log_long_query_time, states, guest_log)

    def own_logs(self) -> list[LogSource]:
        return [
            LogSource("error", LogType.SYS, self.error_log),
            LogSource("general", LogType.USER, self.paths["general"]),
            LogSource("slow_query", LogType.USER, self.paths["slow_query"]),
        ]

    # --- the server ------------------------------------------------------------------

    def _run(self, *statements: tuple[str, tuple]) -> list[tuple]:
        try:
            conn = pymysql.connect(**self.connect_args)
        except pymysql.MySQLError as exc:
            raise DatastoreError(f"the MySQL server cannot be reached: {_reason(exc)}") from None
        try:
            with conn.cursor() as cur:
                rows: list[tuple] = []
                for sql, params in statements:
                    cur.execute(sql, params)
                    rows = list(cur.fetchall())
                return rows
        except pymysql.OperationalError as exc:
            if exc.args and exc.args[0] in _LOST:
                raise DatastoreError(f"the MySQL server went away: {_reason(exc)}") from None
            raise DatastoreRefused(f"the MySQL server refused: {_reason(exc)}") from None
        except pymysql.MySQLError as exc:
            raise DatastoreRefused(f"the MySQL server refused: {_reason(exc)}") from None
        finally:
            conn.close()

    def _ask_error_log(self) -> str:
        try:
            ((path, datadir),) = self._run(("SELECT @@log_error, @@datadir", ()))
        except DatastoreError as exc:
            LOG.warning("cannot ask the server for its error log (%s)", exc.message)
            return "/var/log/mysql/error.log"
        if not path or path == "stderr":
            return "/var/log/mysql/error.log"
        return path if os.path.isabs(path) else os.path.join(datadir, path)

    def check(self) -> None:
        self._run(("SELECT 1", ()))

    def is_enabled(self, source: LogSource) -> bool:
        if source.name not in _SWITCHES:
            return super().is_enabled(source)
        switch_var, _ = _SWITCHES[source.name]
        try:
            ((value,),) = self._run((f"SELECT @@GLOBAL.{switch_var}", ()))
        except DatastoreError:
            return super().is_enabled(source)  # the last state we set, while it is down
        return bool(int(value))

    def switch(self, source: LogSource, on: bool) -> None:
        switch_var, file_var = _SWITCHES[source.name]
        statements: list[tuple[str, tuple]] = []
        if on:
            statements += [
                ("SET GLOBAL log_output = 'FILE'", ()),
                (f"SET GLOBAL {file_var} = %s", (self.paths[source.name],)),
            ]
            if source.name == "slow_query":
                statements.append(("SET GLOBAL long_query_time = %s", (self.long_query_seconds,)))
        statements.append((f"SET GLOBAL {switch_var} = %s", ("ON" if on else "OFF",)))
        self._run(*statements)
        super().switch(source, on)  # remembered for when the server cannot be asked


def _reason(exc: pymysql.MySQLError) -> str:
    if exc.args and len(exc.args) >= 2:
        return f"({exc.args[0]}) {exc.args[1]}"
    return str(exc)
