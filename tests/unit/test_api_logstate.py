"""api.logstate: what a show writes (only what is new beyond its pending bytes)."""

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
    ("change", "exposed", "nothing_new"),
    [
        ({"pending": 5_000}, True, True),  # new bytes only: not written
        ({"pending": 5_000}, None, True),  # an admin's show
        ({"status": LogStatus.PARTIAL, "pending": 5_000}, True, False),
        ({"published": 200}, True, False),
        ({"follow": True}, True, False),
        (
            {"publish": PublishOutcome("p2", PublishState.RUNNING, "2026-12-03T10:05:00Z")},
            True,
            False,
        ),
        ({"name": "slow_query"}, True, False),  # not stored yet
    ],
)
def test_a_show_is_written_only_when_it_says_something_new(session, change, exposed, nothing_new):
    view = dataclasses.replace(VIEW, **change)
    assert logstate.says_nothing_new(session, "i1", view, exposed) is nothing_new
    assert not session.dirty and not session.new  # the look changed nothing


def test_a_show_that_tells_the_exposure_is_written(session):
    (row,) = logstate.known(session, "i1")
    row.exposed = None
    session.commit()
    assert not logstate.says_nothing_new(session, "i1", VIEW, True)
    assert logstate.says_nothing_new(session, "i1", VIEW, None)
