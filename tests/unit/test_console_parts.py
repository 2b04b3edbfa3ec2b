"""The web console's parts that need no browser: log bytes made text, sessions, and
what the Flask test client can tell (where a sign-in leads, error pages)."""

import datetime as dt
import html
import re

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from api.auth import Caller, hash_token
from api.console import sessions
from api.console.text import LINE_LIMIT, human_bytes, news_lines, show_line, show_lines
from api.models import Base, ConsoleSession, Token, utcnow
from logsvc.client.cursor import Notice
from tests.unit.conftest import register


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


# --- through the test client (tests/unit/conftest.py's app, noauth) -------------------------


def sign_in(client, next_path: str | None = None, token: str = "tenant-a:member"):
    """The sign-in form filled in and sent: the answer (a 303 when the token is good)."""
    form = client.get("/console/sign-in").get_data(as_text=True)
    signin_token = re.search(r'name="signin_token" value="([^"]+)"', form)[1]
    fields = {"signin_token": signin_token, "token": token}
    if next_path is not None:
        fields["next"] = next_path
    return client.post("/console/sign-in", data=fields)


@pytest.mark.parametrize(
    "hostile",
    [
        "/console/../../x",
        "/console/../x",
        "/console/..",
        "/console/instances/../../x",
        "/console/%2e%2e/x",
        "/console/%2E%2E/%2e%2E/x",
        "/console/.%2e/x",
        "/console/..\\x",
        "/console\\..\\x",
        "/console/..\\..\\evil.example",
        "/console/.\t./x",
        "/console/%2e%2e",
        "/console/x/..//evil.example",
        "//evil.example/console/",
        "https://evil.example/console/",
        "/consolex/",
        "/x",
    ],
)
def test_a_sign_in_goes_back_only_to_a_page_inside_the_console(client, hostile):
    resp = sign_in(client, hostile)
    assert resp.status_code == 303
    assert resp.headers["Location"] == "/console/instances", hostile


@pytest.mark.parametrize(
    ("asked", "landing"),
    [
        ("/console/instances/inst-1?done=publish", "/console/instances/inst-1?done=publish"),
        ("/console/instances/x/../inst-1", "/console/instances/inst-1"),
        ("/console/instances/./inst-1/", "/console/instances/inst-1/"),
        ("/console/status?", "/console/status"),
        (None, "/console/instances"),
    ],
)
def test_a_sign_in_goes_back_to_the_console_page_asked_for(client, asked, landing):
    resp = sign_in(client, asked)
    assert (resp.status_code, resp.headers["Location"]) == (303, landing)


@pytest.mark.parametrize("signed_in", [False, True])
@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_an_unknown_console_page_is_the_consoles_html_404(client, signed_in, method):
    if signed_in:
        assert sign_in(client).status_code == 303
    for path in ("/console/nonexistent", "/console/instances/inst-1/nothing/here"):
        resp = client.open(path, method=method)
        assert resp.status_code == 404, (path, resp.get_data(as_text=True))
        assert resp.mimetype == "text/html"
        assert "<h1>404</h1>" in resp.get_data(as_text=True)
        assert resp.headers["Content-Security-Policy"]  # the console's headers


def test_a_console_page_asked_with_a_method_it_does_not_take_is_an_html_405(client):
    for path, allowed in (("/console/sign-out", "POST"), ("/console/sign-in", "GET, HEAD, POST")):
        resp = client.open(path, method="PUT")
        assert resp.status_code == 405, (path, resp.get_data(as_text=True))
        assert resp.mimetype == "text/html"
        assert resp.headers["Allow"] == allowed


def test_lines_of_the_viewer_out_of_bounds_say_the_limits(client):
    register(client)
    assert sign_in(client).status_code == 303
    for asked, words in (
        ("abc", "lines must be a whole number from 1 to 5000, not 'abc'"),
        ("0", "lines must be at least 1, not '0'"),
        ("99999999999999999999999", "lines must be at most 5000, not '99999999999999999999999'"),
    ):
        resp = client.get(f"/console/instances/inst-1/logs/general/view?lines={asked}")
        assert resp.status_code == 400, resp.get_data(as_text=True)
        assert words in html.unescape(resp.get_data(as_text=True))
