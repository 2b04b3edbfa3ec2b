"""The web console's parts that need no browser: log bytes made text, and sessions."""

import datetime as dt

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from api.auth import Caller, hash_token
from api.console import sessions
from api.console.text import LINE_LIMIT, human_bytes, news_lines, show_line, show_lines
from api.models import Base, ConsoleSession, Token, utcnow
from logsvc.client.cursor import Notice


def test_lines_are_text_whatever_the_bytes():
    assert show_line(b"<script>alert(1)</script>") == "<script>alert(1)</script>"  # HTML: Jinja's
    assert show_line(b"\x1b[31mred\x1b[0m") == "\\x1b[31mred\\x1b[0m"
    assert show_line(b"a\tb\rc") == "a\tb\\rc"
    assert show_line(b"\xff\xfe ok \xc3") == "\\xff\\xfe ok \\xc3"
    assert show_line("é \u202e".encode()) == "é \\u202e"  # a bidirectional override
    long = show_line(b"x" * (300 * 1024))
    assert long.startswith("x" * LINE_LIMIT)
    assert long.endswith(f"... ({300 * 1024 - LINE_LIMIT} more characters)")


def test_lines_are_counted_as_tail_counts_them():
    assert show_lines(b"") == []
    assert show_lines(b"a\nb\n") == ["a", "b"]
    assert show_lines(b"a\nb") == ["a", "b"]
    assert show_lines(b"\n\na\n") == ["", "", "a"]


def test_a_live_look_is_lines_with_its_notices_and_leaves_a_cut_line_for_the_next():
    rotated = Notice("rotated", "-- the log rotated: generation 4 --")
    assert news_lines([], False) == ([], 0)
    assert news_lines([b"a\nb\n", rotated, b"<c>\x1b\n"], False) == (
        ["a", "b", rotated.message, "<c>\\x1b"],
        0,
    )
    assert news_lines([b"a\nhalf a li"], True) == (["a"], 9)  # cut by the look's bound
    assert news_lines([b"a\nhalf a li"], False) == (["a", "half a li"], 0)  # the log's end
    assert news_lines([b"no newline at all"], True) == (["no newline at all"], 0)


def test_sizes_for_people():
    assert [human_bytes(n) for n in (0, 1023, 1536, 5 * 1024**3)] == [
        "0 B",
        "1023 B",
        "1.5 KiB",
        "5.0 GiB",
    ]


@pytest.fixture
def db(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        yield s
    engine.dispose()


def test_a_session_is_found_by_its_id_only_and_forgotten_at_sign_out(db):
    caller = Caller("p1", frozenset({"member", "reader"}), "u1")
    session_id, row = sessions.open_session(db, caller, 3600, None, None)
    # the database holds the id's hash, never the id
    assert row.id_hash != session_id and session_id not in row.id_hash
    assert sessions.find(db, session_id) is row
    assert sessions.caller_of(row) == caller
    assert sessions.find(db, session_id + "x") is None
    assert sessions.find(db, None) is None and sessions.find(db, "x" * 500) is None
    sessions.forget(db, session_id)
    assert sessions.find(db, session_id) is None


def test_a_session_ends_with_its_time_or_its_token(db):
    token = "lsv_secret"
    db.add(Token(token_hash=hash_token(token), project_id="p1", roles=""))
    db.commit()
    session_id, _ = sessions.open_session(db, Caller("p1"), 3600, hash_token(token), None)
    assert sessions.find(db, session_id) is not None
    db.query(Token).delete()  # logsvc-manage token revoke
    db.commit()
    assert sessions.find(db, session_id) is None

    # a Keystone token's expiry comes before the session's time to live
    soon = utcnow() + dt.timedelta(seconds=60)
    _, row = sessions.open_session(db, Caller("p1"), 3600, None, soon)
    assert row.expires_at == soon
    ended, row = sessions.open_session(db, Caller("p1"), 3600, None, None)
    row.expires_at = utcnow() - dt.timedelta(seconds=1)
    db.commit()
    assert sessions.find(db, ended) is None
    # sessions that ended are deleted as new ones begin
    sessions.open_session(db, Caller("p1"), 3600, None, None)
    assert db.get(ConsoleSession, row.id_hash) is None
