"""PostgreSQL: the general log, whose switch takes effect at the next restart.

``general`` is the server's own log written by its logging collector into
``<log_dir>/general.log``, with statements slower than
``guest_log_long_query_time`` in it. Turning the collector on or off needs a
restart of the server, so a switch is written with ``ALTER SYSTEM`` and the
log reports Restart Required until the agent sees the server started after
the switch (``pg_postmaster_start_time()`` moved); then Restart Completed,
until the next action on the log; then the usual statuses.

The agent needs a superuser account (ALTER SYSTEM) and read access to the file.
"""

import os

import psycopg
from oslo_config import cfg
from psycopg import sql

from guestagent.datastores.base import Datastore
from guestagent.publishmodel import LogSource
from guestagent.state import LogState, StateStore
from logsvc.exceptions import DatastoreError, DatastoreRefused
from logsvc.logmodel import LogType

_LOG_FILE = "general.log"


class PostgreSQLDatastore(Datastore):
    """A PostgreSQL server on this instance."""

    name = "postgresql"

    def __init__(
        self,
        conninfo: dict,
        log_dir: str,
        long_query_ms: int,
        states: StateStore,
        guest_log: str | None,
    ):
        super().__init__(states, guest_log)
        self.conninfo = conninfo
        self.log_dir = log_dir
        self.long_query_ms = long_query_ms

    @classmethod
    def from_conf(cls, conf: cfg.ConfigOpts, states: StateStore, guest_log: str | None):
        p = conf.postgresql
        conninfo = {
            "host": p.host,
            "port": p.port,
            "user": p.user,
            "dbname": p.dbname,
            "connect_timeout": max(1, int(p.connect_timeout)),
            "autocommit": True,  # ALTER SYSTEM cannot run in a transaction
        }
        if p.password:
            conninfo["password"] = p.password
        return cls(conninfo, p.log_dir, conf.guest_log_long_query_time, states, guest_log)

    def own_logs(self) -> list[LogSource]:
        return [LogSource("general", LogType.USER, os.path.join(self.log_dir, _LOG_FILE))]

    # --- the server ------------------------------------------------------------------

    def _run(self, *statements) -> list[tuple]:
        try:
            conn = psycopg.connect(**self.conninfo)
        except psycopg.Error as exc:
            raise DatastoreError(
                f"the PostgreSQL server cannot be reached: {_reason(exc)}"
            ) from None
        try:
            rows: list[tuple] = []
            with conn.cursor() as cur:
                for statement in statements:
                    cur.execute(statement)
                    rows = cur.fetchall() if cur.description else []
            return rows
        except psycopg.OperationalError as exc:
            raise DatastoreError(f"the PostgreSQL server went away: {_reason(exc)}") from None
        except psycopg.Error as exc:
            raise DatastoreRefused(f"the PostgreSQL server refused: {_reason(exc)}") from None
        finally:
            conn.close()

    def _server_state(self) -> tuple[bool, str]:
        """Is the collector writing our file, and when did the server start?"""
        ((collector, directory, filename, started),) = self._run(
            "SELECT current_setting('logging_collector'), current_setting('log_directory'),"
            " current_setting('log_filename'), pg_postmaster_start_time()::text"
        )
        ours = collector == "on" and filename == _LOG_FILE and directory == self.log_dir
        return ours, started

    def check(self) -> None:
        self._run("SELECT 1")

    def is_enabled(self, source: LogSource) -> bool:
        if source.type is LogType.SYS:
            return True
        try:
            return self._server_state()[0]
        except DatastoreError:
            return super().is_enabled(source)

    def switch(self, source: LogSource, on: bool) -> None:
        settings = (
            {
                "logging_collector": "on",
                "log_directory": self.log_dir,
                "log_filename": _LOG_FILE,
                "log_file_mode": "0640",
                "log_rotation_age": "0",
                "log_rotation_size": "0",
                "log_min_duration_statement": str(self.long_query_ms),
            }
            if on
            else {"logging_collector": "off"}
        )
        self._run(
            *(
                sql.SQL("ALTER SYSTEM SET {} = {}").format(sql.Identifier(k), sql.Literal(v))
                for k, v in settings.items()
            ),
            "SELECT pg_reload_conf()",
        )
        enabled, started = self._server_state()
        state = self.states.load(source.name) or LogState()
        # Nothing to wait for when the server already does what was asked.
        wait = self.restart_required and enabled != on
        switch = {"want": on, "started": started} if wait else {}
        self.states.save(source.name, state.replace(enabled=on, switch=switch))

    def started(self) -> str:
        return self._server_state()[1]


def _reason(exc: psycopg.Error) -> str:
    # The first line only: psycopg appends context that may name the connection.
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
