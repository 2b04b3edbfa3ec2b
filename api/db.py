"""The database: one engine per process, one session per request."""

import contextlib
import os

from flask import g
from oslo_config import cfg
from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker

from api.state import app_state


def make_engine(url: str, pool_size: int = 10) -> Engine:
    """An engine for `url`; SQLite waits for locks and uses WAL, as several workers write."""
    if url.startswith("sqlite"):
        _create_private(make_url(url).database)
        engine = create_engine(
            url, connect_args={"timeout": 30}, pool_size=pool_size, max_overflow=pool_size
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=pool_size, max_overflow=pool_size)


def _create_private(path: str | None) -> None:
    """Create the SQLite file 0600 before SQLite does, if it does not exist yet.

    It holds each instance's agent secret (docs/deployment.md says why in
    plain text) and the tokens' hashes. SQLite gives its -wal and -shm files
    the database file's mode, so they are 0600 too; left to SQLite, all three
    would follow the umask (world-readable under the usual 022).
    """
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    # An existing file keeps its mode (the operator's); one that cannot be made, SQLite explains.
    with contextlib.suppress(OSError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class Database:
    """The engine and session factory of one process."""

    def __init__(self, url: str, pool_size: int = 10):
        self.engine = make_engine(url, pool_size)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        #: How many sessions can hold a connection at once (the pool and its overflow).
        self.connections = 2 * pool_size

    @classmethod
    def from_conf(cls, conf: cfg.ConfigOpts) -> "Database":
        return cls(conf.database.connection, conf.database.pool_size)

    def dispose(self) -> None:
        self.engine.dispose()


def session() -> Session:
    """The current request's session, opened on first use and closed at teardown."""
    if "db_session" not in g:
        g.db_session = app_state().db.sessions()
    return g.db_session


def close_session(_error: BaseException | None = None) -> None:
    """Teardown: roll back what the request did not commit, and give the connection back."""
    db_session = g.pop("db_session", None)
    if db_session is not None:
        db_session.close()
