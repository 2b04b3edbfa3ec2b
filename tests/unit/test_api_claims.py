"""One action per log at a time, in the database; LOGGING while a publish runs."""

import datetime as dt

import pytest
from sqlalchemy import update

from api import claims, migrate
from api.db import Database
from api.models import Instance, LogAction
from logsvc.exceptions import Conflict


@pytest.fixture
def db(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'claims.sqlite'}")
    migrate.upgrade(database.engine)
    with database.sessions() as session:
        for iid in ("i1", "i2"):
            session.add(
                Instance(id=iid, tenant_id="t", name=iid, datastore="file", agent_url="http://h")
            )
        session.commit()
    yield database
    database.dispose()


def test_a_second_claim_on_a_log_is_refused_until_the_first_is_released(db):
    token = claims.claim(db, "i1", "general", "publish", 60)
    with pytest.raises(Conflict, match="busy: a publish started at"):
        claims.claim(db, "i1", "general", "enable", 60)
    other = claims.claim(db, "i1", "slow_query", "publish", 60)  # another log: free
    claims.release(db, "i1", "general", token)
    claims.release(db, "i1", "slow_query", other)
    claims.release(db, "i1", "general", claims.claim(db, "i1", "general", "enable", 60))


def test_an_expired_claim_is_taken_over_and_its_release_leaves_the_new_one(db):
    old = claims.claim(db, "i1", "general", "publish", 60)
    with db.sessions() as session:
        past = dt.datetime(2000, 1, 1)
        session.execute(update(LogAction).values(expires_at=past))
        session.commit()
    new = claims.claim(db, "i1", "general", "publish", 60)
    claims.release(db, "i1", "general", old)  # the dead worker's late release
    with pytest.raises(Conflict):
        claims.claim(db, "i1", "general", "publish", 60)
    claims.release(db, "i1", "general", new)


def test_logging_while_any_publish_of_the_instance_runs(db):
    def publishing(iid):
        with db.sessions() as session:
            return claims.publishing(session, iid)

    a = claims.claim(db, "i1", "general", "publish", 60)
    b = claims.claim(db, "i1", "slow_query", "publish", 60)
    e = claims.claim(db, "i2", "general", "enable", 60)
    assert publishing("i1") and not publishing("i2")
    claims.release(db, "i1", "general", a)
    assert publishing("i1")  # the other publish still runs
    claims.release(db, "i1", "slow_query", b)
    assert not publishing("i1")
    claims.release(db, "i2", "general", e)
