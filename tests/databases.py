"""Databases for the API's tests: a SQLite file, or a temporary database of its
own on the PostgreSQL or MariaDB server of 127.0.0.1, dropped afterwards."""

import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from tests.ci_skips import server_absent

KINDS = ("sqlite", "postgresql", "mariadb")
NAMES = {"postgresql": "PostgreSQL", "mariadb": "MariaDB"}
SERVERS = {
    "postgresql": ("postgresql+psycopg://postgres@127.0.0.1:5432/", "postgres"),
    "mariadb": ("mysql+pymysql://root@127.0.0.1:3306/", ""),
}


@contextlib.contextmanager
def temporary_database(kind: str, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database of `kind`; where its server fails, skips saying why."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'api.sqlite'}"
        return
    base, admin_db = SERVERS[kind]
    name = f"logsvc_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base + admin_db, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {name}"))
    except OperationalError as exc:
        admin.dispose()
        first = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        server_absent(NAMES[kind], f"{base.split('@')[-1]} cannot be used: {first}")
    try:
        yield base + name
    finally:
        with admin.connect() as connection:
            force = " WITH (FORCE)" if kind == "postgresql" else ""
            connection.execute(text(f"DROP DATABASE IF EXISTS {name}{force}"))
        admin.dispose()
