"""api.logstate: what a read (a show, a user's list) writes: a new log, and exposure."""

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
    assert logstate.tells_nothing_new(logstate.known(session, "i1"), [view], exposed=exposed)
    assert not session.dirty and not session.new  # the look changed nothing


def test_a_show_of_a_log_not_stored_yet_is_written(session):
    view = dataclasses.replace(VIEW, name="slow_query")
    assert not logstate.tells_nothing_new(logstate.known(session, "i1"), [view])


def test_a_show_that_tells_the_exposure_is_written(session):
    (row,) = logstate.known(session, "i1")
    row.exposed = None
    session.commit()
    rows = logstate.known(session, "i1")
    assert not logstate.tells_nothing_new(rows, [VIEW], exposed=True)
    assert logstate.tells_nothing_new(rows, [VIEW])


def test_a_listing_writes_what_it_tells_of_exposure(session):
    slow = dataclasses.replace(VIEW, name="slow_query", published=0)
    instance = session.get(Instance, "i1")
    logstate.record(session, instance, [VIEW, slow], complete=True)  # a heartbeat: exposure unknown
    rows = logstate.known(session, "i1")
    assert [(r.name, r.exposed) for r in rows] == [("general", True), ("slow_query", None)]
    # A user's list that shows general only: slow_query is not exposed, news.
    assert not logstate.tells_nothing_new(rows, [VIEW], exposed_listing=True)
    logstate.record(session, instance, [VIEW], complete=False, exposed_listing=True)
    rows = logstate.known(session, "i1")
    moved = dataclasses.replace(VIEW, published=500, pending=20, status=LogStatus.PARTIAL)
    assert logstate.tells_nothing_new(rows, [moved], exposed_listing=True)  # progress only
    # The same list showing slow_query too, now exposed: news again.
    assert not logstate.tells_nothing_new(rows, [moved, slow], exposed_listing=True)
