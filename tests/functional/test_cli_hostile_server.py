"""The CLI and its client against an API (or status server) that is hostile or broken.

Real HTTP servers on 127.0.0.1 (tests/hostileserver.py) redirect the token
elsewhere, trickle their answer, stay silent, answer 300 MB, send escape
sequences and megabytes of error message, or answer JSON of the wrong shape.
The CLI runs as its own process, as a user runs it.
"""

import json
import logging
import os
import subprocess
import sys
import time

import pytest
from keystoneauth1 import session as ksa_session
from keystoneauth1 import token_endpoint

from logsvc.cli.app import main as cli_main
from logsvc.client.api import Client
from logsvc.exceptions import LogsvcError
from tests.hostileserver import (
    HostileServer,
    huge,
    json_answer,
    redirect,
    silent,
    trickle,
)

CLI = [sys.executable, "-m", "logsvc.cli.app"]
TOKEN = "the-users-token-3f9c"
LOGS = {
    "logs": [
        {
            "name": "general",
            "type": "USER",
            "status": "Published",
            "published": 10,
            "pending": 0,
            "container": "logs",
            "prefix": "inst/mysql-general/",
            "metafile": "inst/mysql-general.metafile",
        }
    ]
}
ESCAPES = "\x1b[2J\x1b]52;c;cHduZWQ=\x07\x1b]0;title\x07\x9b31m\u202e"


def environment(url: str, **env: str) -> dict[str, str]:
    return {
        "LOGSVC_URL": url,
        "LOGSVC_TOKEN": TOKEN,
        "LOGSVC_CONFIG": "/nonexistent/logsvc.conf",
        "LOGSVC_TIMEOUT": "",
        **env,
    }


def cli_process(url: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    """The CLI as its own process, as a user runs it."""
    environ = {**os.environ, **environment(url, **env)}
    return subprocess.run([*CLI, *args], env=environ, capture_output=True, timeout=300)


@pytest.fixture
def cli(monkeypatch, capfdbinary):
    """The same CLI in this process (an interpreter start costs seconds here)."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level

    def run(url: str, *args: str, **env: str) -> subprocess.CompletedProcess:
        for name, value in environment(url, **env).items():
            monkeypatch.setenv(name, value)
        try:
            code = cli_main(list(args))
        finally:
            root.handlers[:] = handlers  # cliff's, for this run only
            root.setLevel(level)
        out = capfdbinary.readouterr()
        return subprocess.CompletedProcess(args, code, out.out, out.err)

    return run


def one_error_line(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode != 0
    err = proc.stderr.decode()
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err[:2000]
    return err


# --- 12.2: redirects --------------------------------------------------------------


@pytest.mark.parametrize(
    "status", ["301 Moved", "302 Found", "303 See Other", "307 Temporary", "308 Permanent"]
)
@pytest.mark.parametrize("command", [("log-list", "inst"), ("log-publish", "inst", "general")])
def test_a_redirect_takes_the_token_nowhere(cli, status, command):
    with HostileServer(json_answer("200 OK", LOGS)) as elsewhere:
        target = f"{elsewhere.url}/v1/instance/inst/log"
        with HostileServer(redirect(status, target)) as api:
            err = one_error_line(cli(api.url, *command))
        assert api.requests[0].headers["x-auth-token"] == TOKEN  # it was asked with the token
    assert elsewhere.requests == []  # and nothing went where the redirect pointed
    assert f"a redirect to {target}: not followed" in err


def test_a_redirect_is_named_escaped(cli):
    with HostileServer(redirect("302 Found", "http://127.0.0.1:9/\x1b]0;pwned\x07")) as api:
        err = one_error_line(cli(api.url, "log-list", "inst"))
    assert "\x1b" not in err and "\x07" not in err
    assert "http://127.0.0.1:9/\\x1b]0;pwned\\x07" in err


def test_a_keystoneauth_session_does_not_follow_a_redirect_either():
    with HostileServer(json_answer("200 OK", LOGS)) as elsewhere:
        with HostileServer(redirect("307 Temporary", elsewhere.url + "/v1/instance/i/log")) as api:
            session = ksa_session.Session(auth=token_endpoint.Token(api.url, TOKEN))
            with pytest.raises(LogsvcError, match="not followed"):
                Client(api.url, session=session).log_publish("i", "general")
        assert api.requests[0].headers["x-auth-token"] == TOKEN
    assert elsewhere.requests == []


def test_status_does_not_follow_a_redirect(cli):
    elsewhere = HostileServer(json_answer("200 OK", []))
    with elsewhere, HostileServer(redirect("302 Found", elsewhere.url)) as status:
        err = one_error_line(cli("http://unused", "status", status.url))
    assert "not followed" in err and elsewhere.requests == []


def test_the_cli_process_itself_sends_its_token_nowhere_and_keeps_its_deadline():
    with HostileServer(json_answer("200 OK", LOGS)) as elsewhere:
        target = f"{elsewhere.url}/v1/instance/inst/log"
        with HostileServer(redirect("307 Temporary Redirect", target)) as api:
            err = one_error_line(cli_process(api.url, "log-publish", "inst", "general"))
        assert elsewhere.requests == [] and "not followed" in err
    with HostileServer(trickle(LOGS, every=0.5, in_headers=True)) as api:
        err = one_error_line(cli_process(api.url, "--timeout", "2", "log-list", "inst"))
    assert "did not answer within 2 s" in err


# --- 12.8: a deadline ------------------------------------------------------------------


SLOW = [
    pytest.param(trickle(LOGS, every=0.5), id="trickled-body"),
    pytest.param(trickle(LOGS, every=0.5, in_headers=True), id="trickled-headers"),
    pytest.param(silent, id="silent"),
]


@pytest.mark.parametrize("answer", SLOW)
def test_a_slow_server_meets_the_deadline_of_timeout(cli, answer):
    with HostileServer(answer) as api:
        err = one_error_line(cli(api.url, "--timeout", "2", "log-list", "inst"))
        assert f"the API at {api.url} did not answer within 2 s" in err
        # the same from the environment, and from the library
        err = one_error_line(cli(api.url, "log-list", "inst", LOGSVC_TIMEOUT="1.5"))
        assert "did not answer within 1.5 s" in err
        with pytest.raises(LogsvcError, match="did not answer within 2 s"):
            Client(api.url, TOKEN, timeout=2).log_list("inst")


@pytest.mark.parametrize("answer", SLOW)
def test_a_slow_status_server_meets_the_deadline(cli, answer):
    with HostileServer(answer) as status:
        err = one_error_line(cli("http://unused", "--timeout", "2", "status", status.url))
    assert "did not answer within 2 s" in err


def test_a_bad_timeout_is_one_clear_line(cli):
    for value in ("soon", "0", "-1", "nan", "inf"):
        err = one_error_line(cli("http://127.0.0.1:9", "--timeout", value, "log-list", "inst"))
        assert "the timeout is a number of seconds" in err, value


# --- 12.8: a bound on what is read ------------------------------------------------------


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "until-close"])
def test_a_huge_answer_is_not_read(declared):
    with HostileServer(huge(300 * 1024 * 1024, declared)) as api:
        proc = subprocess.Popen(
            [*CLI, "log-list", "inst"],
            env={**os.environ, "LOGSVC_URL": api.url, "LOGSVC_CONFIG": "/nonexistent"},
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
        )
        peak = 0
        while proc.poll() is None:
            # VmHWM, the peak of the CLI's own memory since its exec: wait4's
            # ru_maxrss would also count the memory of the test process it
            # was forked from (the kernel keeps the larger across exec).
            peak = max(peak, _peak_kib(proc.pid))
            time.sleep(0.01)
        err = proc.stderr.read().decode()
    assert proc.returncode != 0 and "answered more than 8 MiB: not read" in err
    assert 0 < peak < 150 * 1024, f"{peak} KiB"  # 925 MB before


def _peak_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return 0  # it has just exited


# --- 12.8: what is printed ---------------------------------------------------------------


def test_an_error_message_is_printed_escaped_and_cut(cli):
    message = ESCAPES + "A" * 5_000_000
    with HostileServer(
        json_answer("400 Bad Request", {"error": {"code": "bad_request", "message": message}})
    ) as api:
        err = one_error_line(cli(api.url, "log-list", "inst"))
    assert "\x1b" not in err and "\x07" not in err and "\x9b" not in err and "\u202e" not in err
    assert "\\x1b[2J\\x1b]52;c;cHduZWQ=\\x07" in err
    assert len(err) < 2000 and "more characters)" in err


def test_table_cells_from_the_server_are_escaped_and_json_keeps_them_exact(cli):
    logs = json.loads(json.dumps(LOGS))
    logs["logs"][0]["container"] = "logs" + ESCAPES
    logs["logs"][0]["prefix"] = "inst/" + ESCAPES + "/"
    logs["stale"], logs["reason"] = True, "agent gone" + ESCAPES
    with HostileServer(json_answer("200 OK", logs)) as api:
        for fmt in ("table", "value", "csv"):
            proc = cli(api.url, "log-list", "inst", "-f", fmt)
            assert proc.returncode == 0, proc.stderr
            for stream in (proc.stdout, proc.stderr):
                assert b"\x1b" not in stream and b"\x07" not in stream, fmt
            assert b"\\x1b[2J" in proc.stdout and b"agent gone\\x1b[2J" in proc.stderr
        rows = json.loads(cli(api.url, "log-list", "inst", "-f", "json").stdout)
    assert (rows[0]["Container"], rows[0]["Prefix"]) == (
        logs["logs"][0]["container"],
        logs["logs"][0]["prefix"],
    )


def test_a_status_report_is_printed_escaped(cli):
    report = {
        "name": "daemon" + ESCAPES,
        "version": "1",
        "format_version": 1,
        "timestamp": 1_700_000_000_000_000_000,
        "category": None,
        "kind": 1,
        "data": {"status": {"code": 4, "message": "down" + ESCAPES}, "text": ESCAPES},
    }
    with HostileServer(json_answer("200 OK", [report])) as status:
        proc = cli("http://unused", "status", status.url)
    assert proc.returncode == 1
    assert b"\x1b" not in proc.stdout and b"\x07" not in proc.stdout
    assert b"daemon\\x1b[2J" in proc.stdout and b"down\\x1b[2J" in proc.stdout
    error = {"error": {"code": "x", "message": ESCAPES + "B" * 5_000_000}}
    with HostileServer(json_answer("500 Internal Server Error", error)) as status:
        err = one_error_line(cli("http://unused", "status", status.url))
    assert "\x1b" not in err and len(err) < 2000


# --- 12.8: a malformed answer ------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "says"),
    [
        ({}, "it has no 'logs'"),
        ({"logs": "many"}, "it has an ill-typed 'logs'"),
        ({"logs": [{"name": 7}]}, "a log that is not valid"),
        ({"logs": [{**LOGS["logs"][0], "published": "lots"}]}, "published must be"),
        ([1, 2], "answered 200 without a JSON object"),
    ],
)
def test_a_malformed_answer_gets_a_clear_line(cli, document, says):
    with HostileServer(json_answer("200 OK", document)) as api:
        err = one_error_line(cli(api.url, "log-list", "inst"))
    assert says in err


def test_malformed_answers_to_the_other_commands(cli):
    with HostileServer(json_answer("200 OK", {"instance": "x", "log": None})) as api:
        for command, says in (
            (("log-show", "inst", "general"), "it has no 'log'"),
            (("instance-show", "inst"), "it has an ill-typed 'instance'"),
            (("instance-list",), "it has no 'instances'"),
        ):
            assert says in one_error_line(cli(api.url, *command)), command
