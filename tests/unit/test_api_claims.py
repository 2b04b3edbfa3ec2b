"""One action per log at a time, in the database; LOGGING while a publish runs."""

import datetime as dt
import json
import os
import socket
import subprocess
import sys

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


@pytest.mark.parametrize("join", [False, True])
def test_a_claim_released_between_the_insert_and_the_read_is_taken(db, monkeypatch, join):
    """The holder ended in between (PostgreSQL's bench/load.py saw it as 409s): the log is
    free, so the action runs; a publish that would have joined runs on its own."""
    insert, calls = claims._insert, []

    def held_then_released(*args):  # the first insert met the holder's row, gone since
        calls.append(args)
        return len(calls) > 1 and insert(*args)

    monkeypatch.setattr(claims, "_insert", held_then_released)
    token = claims.claim(db, "i1", "general", "publish", 60, join=join)
    assert token is not None and len(calls) == 2
    with pytest.raises(Conflict, match="busy: a publish started at"):
        claims.claim(db, "i1", "general", "enable", 60)
    claims.release(db, "i1", "general", token)


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
            return claims.publishing(session, iid, 90)

    a = claims.claim(db, "i1", "general", "publish", 60)
    b = claims.claim(db, "i1", "slow_query", "publish", 60)
    e = claims.claim(db, "i2", "general", "enable", 60)
    assert publishing("i1") and not publishing("i2")
    claims.release(db, "i1", "general", a)
    assert publishing("i1")  # the other publish still runs
    claims.release(db, "i1", "slow_query", b)
    assert not publishing("i1")
    claims.release(db, "i2", "general", e)


def _hold_as(db, who):
    with db.sessions() as session:
        session.execute(update(LogAction).values(holder=who))
        session.commit()


def _exited_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_claim_whose_holder_exited_is_taken_over_at_once(db):
    claims.claim(db, "i1", "general", "publish", 3600)
    _hold_as(db, f"{socket.gethostname()} {_exited_pid()} boot:1")
    with db.sessions() as session:
        assert not claims.publishing(session, "i1", 90)  # no longer LOGGING
    token = claims.claim(db, "i1", "general", "publish", 3600)  # no 409
    with db.sessions() as session:
        assert claims.publishing(session, "i1", 90)
    claims.release(db, "i1", "general", token)


def test_a_reused_pid_is_not_taken_for_the_holder(db):
    claims.claim(db, "i1", "general", "publish", 3600)
    # Our own pid, but started at another time: the holder was another process.
    _hold_as(db, f"{socket.gethostname()} {os.getpid()} boot:1")
    claims.claim(db, "i1", "general", "publish", 3600)


@pytest.mark.parametrize(
    "who",
    [
        None,  # a claim made before holders were recorded: its TTL decides
        "another-host 1 boot:1",  # another host's process: cannot be seen from here
        "garbage",
    ],
)
def test_a_holder_that_cannot_be_seen_keeps_its_claim(db, who):
    claims.claim(db, "i1", "general", "publish", 3600)
    _hold_as(db, who)
    with pytest.raises(Conflict):
        claims.claim(db, "i1", "general", "publish", 3600)
    with db.sessions() as session:
        assert claims.publishing(session, "i1", 90)


def test_a_live_holder_keeps_its_claim_and_an_admin_can_clear_it(db):
    claims.claim(db, "i1", "general", "publish", 3600)
    claims.claim(db, "i1", "slow_query", "enable", 3600)
    with pytest.raises(Conflict):  # held by this very process, alive
        claims.claim(db, "i1", "general", "publish", 3600)
    with db.sessions() as session:
        assert [c.holder for c in claims.listing(session)] == [claims.holder()] * 2
    assert claims.clear(db, "i1", "general") == 1
    assert claims.clear(db, "i1") == 1
    claims.claim(db, "i1", "general", "publish", 3600)


def test_logsvc_manage_lists_and_clears_claims(db, tmp_path):
    claims.claim(db, "i1", "general", "publish", 3600)
    conf = tmp_path / "api.conf"
    conf.write_text(f"[database]\nconnection = {db.engine.url}\n")

    def manage(*args: str) -> str:
        command = [sys.executable, "-m", "api.manage", "--config-file", str(conf), *args]
        return subprocess.run(command, capture_output=True, text=True, check=True).stdout

    (listed,) = json.loads(manage("claim", "list"))
    assert (listed["instance_id"], listed["log"], listed["action"]) == ("i1", "general", "publish")
    assert listed["holder"] == claims.holder()
    assert manage("claim", "clear", "i1", "general") == "1 claim(s) removed\n"
    claims.release(db, "i1", "general", claims.claim(db, "i1", "general", "publish", 60))
