"""api.logstate: what a show writes (a log not stored yet, and its exposure)."""

import dataclasses

import pytest

from api import logstate, migrate
from api.db import Database
from api.models import Instance
from logsvc.logmodel import LogStatus, LogType, LogView, PublishOutcome, PublishState

VIEW = LogView(
    name="general",
    type=LogType.USER,
    status=LogStatus.PUBLISHED,
    published=100,
    pending=0,
    container="database_logs",
    prefix="i1/general/",
    metafile="i1/general_metafile",
    publish=PublishOutcome("p1", PublishState.PUBLISHED, "2026-12-03T10:00:00Z"),
)


@pytest.fixture
def session(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'state.sqlite'}")
    migrate.upgrade(database.engine)
    with database.sessions() as session:
        instance = Instance(id="i1", tenant_id="t", name="i1", datastore="file", agent_url="h")
        session.add(instance)
        session.commit()
        logstate.record(session, instance, [VIEW], complete=False, exposed=True)
        yield session
    database.dispose()


@pytest.mark.parametrize(
    "change",
    [
        {"pending": 5_000},  # new bytes
        {"status": LogStatus.PARTIAL, "pending": 5_000},
        {"published": 200},  # published meanwhile
        {"status": LogStatus.DISABLED},  # switched by an action, which stored it
        {"follow": True},
        {"publish": PublishOutcome("p2", PublishState.RUNNING, "2026-12-03T10:05:00Z")},
    ],
)
@pytest.mark.parametrize("exposed", [True, None])  # a user's show, an admin's
def test_a_show_of_a_stored_log_writes_nothing(session, change, exposed):
    view = dataclasses.replace(VIEW, **change)
    assert logstate.says_nothing_new(session, "i1", view, exposed)
    assert not session.dirty and not session.new  # the look changed nothing


def test_a_show_of_a_log_not_stored_yet_is_written(session):
    assert not logstate.says_nothing_new(
        session, "i1", dataclasses.replace(VIEW, name="slow_query"), None
    )


def test_a_show_that_tells_the_exposure_is_written(session):
    (row,) = logstate.known(session, "i1")
    row.exposed = None
    session.commit()
    assert not logstate.says_nothing_new(session, "i1", VIEW, True)
    assert logstate.says_nothing_new(session, "i1", VIEW, None)
