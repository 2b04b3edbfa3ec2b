"""The API's database on SQLite, and on the PostgreSQL and MariaDB servers of
127.0.0.1 where they answer (each test skips, saying why, where one does not).

Each server test works in a temporary database of its own, dropped after
(the `database_url` fixture of tests/conftest.py).
"""

import concurrent.futures
import subprocess
import sys
import time

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from api import claims, logstate, migrate
from api.db import Database
from api.models import Base, Instance
from logsvc.exceptions import Conflict
from logsvc.logmodel import LogStatus, LogType, LogView, PublishOutcome, PublishState
from tests.processes import ini


@pytest.fixture
def db(database_url):
    database = Database(database_url)
    migrate.upgrade(database.engine)
    yield database
    database.dispose()


def test_migrations_build_exactly_the_models(database_url):
    database = Database(database_url)
    try:
        assert migrate.current(database.engine) is None
        migrate.upgrade(database.engine)
        assert migrate.current(database.engine) == migrate.head()
        with database.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
        migrate.downgrade(database.engine, "base")
        assert set(inspect(database.engine).get_table_names()) <= {"alembic_version"}
        migrate.upgrade(database.engine)
        assert set(Base.metadata.tables) <= set(inspect(database.engine).get_table_names())
    finally:
        database.dispose()


def _instance(db: Database, instance_id: str = "i1") -> Instance:
    with db.sessions() as session:
        instance = Instance(
            id=instance_id, tenant_id="t", name="n", datastore="mysql", agent_url="http://h:1"
        )
        session.add(instance)
        session.commit()
        return instance


def test_log_states_round_trip_with_sizes_beyond_32_bits(db):
    _instance(db)
    view = LogView(
        "general", LogType.USER, LogStatus.PARTIAL, 5 * 2**32, 7, "c", "i1/mysql-general/", "m"
    )
    with db.sessions() as session:
        instance = session.get(Instance, "i1")
        logstate.record(session, instance, [view], complete=True)
    with db.sessions() as session:
        rows = logstate.known(session, "i1")
        assert [logstate.to_view(r) for r in rows] == [view]
        assert rows[0].exposed is None  # unknown: admins only until a user's list says
        assert session.get(Instance, "i1").logs_updated_at is not None


def test_claims_racing_from_many_threads_let_exactly_one_through(db):
    _instance(db)

    def try_claim(_):
        try:
            return claims.claim(db, "i1", "general", "publish", 60)
        except Conflict:
            return None

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(try_claim, range(16)))
    winners = [r for r in results if r]
    assert len(winners) == 1
    with db.sessions() as session:
        assert claims.publishing(session, "i1", 90)
    claims.release(db, "i1", "general", winners[0])
    with db.sessions() as session:
        assert not claims.publishing(session, "i1", 90)


def test_a_publish_outcome_is_kept_and_a_late_running_does_not_undo_its_end(db):
    _instance(db)

    def view(state, ended=None, error=None, pid="p1"):
        outcome = PublishOutcome(pid, state, "2026-12-02T12:00:00Z", ended, error)
        return LogView("general", LogType.USER, LogStatus.READY, 0, 9, None, None, "m", outcome)

    def stored():
        with db.sessions() as session:
            return logstate.to_view(logstate.known(session, "i1")[0]).publish

    def record(v):
        with db.sessions() as session:
            logstate.record(session, session.get(Instance, "i1"), [v], complete=False)

    def logging(silence=90):
        with db.sessions() as session:
            return claims.publishing(session, "i1", silence)

    record(view(PublishState.RUNNING))
    assert stored().running and logging()
    assert not logging(silence=-1)  # an agent not heard from within the silence: ACTIVE
    failed = view(PublishState.FAILED, "2026-12-02T12:09:00Z", "x" * 1024)
    record(failed)
    record(view(PublishState.RUNNING))  # the same publish's 202, arriving late
    assert stored() == failed.publish and not logging()
    record(view(PublishState.RUNNING, pid="p2"))  # a new publish
    assert stored().id == "p2" and logging()


def manage(conf_path, *args):
    return subprocess.run(
        [sys.executable, "-m", "api.manage", "--config-file", str(conf_path), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_logsvc_manage_db_and_tokens(database_url, tmp_path):
    conf = tmp_path / "manage.conf"
    conf.write_text(ini({"database": {"connection": database_url}}))
    assert manage(conf, "db", "current").stdout.strip() == "base (no schema)"
    upgraded = manage(conf, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert manage(conf, "db", "current").stdout.strip() == migrate.head()

    refused = manage(conf, "token", "create", "--project-id", "../p1")
    assert refused.returncode == 2, refused.stderr
    assert "--project-id '../p1' is not a project's id" in refused.stderr
    assert "Traceback" not in refused.stderr
    created = manage(conf, "token", "create", "--project-id", "p1", "--role", "admin")
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert token.startswith("lsv_") and len(token) > 40
    listing = manage(conf, "token", "list")
    assert '"project_id": "p1"' in listing.stdout and token not in listing.stdout
    engine = create_engine(database_url)
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT token_hash FROM tokens")).scalar_one()
    engine.dispose()
    assert stored != token and token not in stored

    assert manage(conf, "token", "revoke", "1").returncode == 0
    assert manage(conf, "token", "revoke", "1").returncode == 1
    assert manage(conf, "db", "downgrade", "base").returncode == 0
    assert manage(conf, "db", "current").stdout.strip() == "base (no schema)"


def test_heartbeats_a_moment_apart_are_all_accepted(database_url, tmp_path):
    from tests.unit.conftest import ADMIN, checked_app, make_conf
    from tests.unit.test_api_heartbeat import beat

    application, checker = checked_app(make_conf(tmp_path, database__connection=database_url))
    client = application.test_client()
    try:
        resp = client.put(
            "/v1/instance/inst-1",
            json={"tenant_id": "t", "datastore": "mysql", "agent_url": "http://127.0.0.1:9"},
            headers=ADMIN,
        )
        assert resp.status_code == 201
        start = time.time() - 5
        codes = [beat(client, now=start + i * 0.01)[0].status_code for i in range(20)]
        assert codes == [204] * 20  # each newer than the last, however close
        assert beat(client, now=start)[0].status_code == 401  # an old one is a replay
    finally:
        application.extensions["logsvc"].db.dispose()
    assert not checker.problems
