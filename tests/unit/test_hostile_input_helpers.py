"""The pieces under the HTTP servers' defences: log escaping and the read deadline."""

import logging
import socket
import sys
import threading

import pytest

from logsvc.logescape import EscapeControlCharacters, escape
from logsvc.readdeadline import DeadlineSocket, ReadDeadline


def test_escape_writes_control_characters_as_escapes():
    assert escape("a\nb\rc\x1b[2J\x00\x7f\x85\u2028") == "a\\nb\\rc\\x1b[2J\\x00\\x7f\\x85\\u2028"
    assert escape("tab\tand été") == "tab\tand été"
    assert escape(escape("a\nb")) == "a\\nb"  # idempotent: several handlers share a record


def record(msg, *args, **extra):
    rec = logging.LogRecord("x", logging.WARNING, __file__, 1, msg, args, None)
    rec.__dict__.update(extra)
    return rec


def test_the_filter_escapes_interpolated_arguments_and_keeps_tracebacks():
    rec = record("%s %s failed", "POST", "/v1/logs/x\n2026 CRITICAL forged")
    try:
        raise ValueError("boom")
    except ValueError:
        rec.exc_info = sys.exc_info()
    assert EscapeControlCharacters().filter(rec)
    text = logging.Formatter("%(message)s").format(rec)
    first, *rest = text.splitlines()
    assert first == "POST /v1/logs/x\\n2026 CRITICAL forged failed"
    assert rest[0] == "Traceback (most recent call last):"


def test_a_verbatim_record_keeps_its_lines():
    rec = record("stacks:%s", "\nthread a\nthread b", verbatim=True)
    EscapeControlCharacters().filter(rec)
    assert rec.getMessage() == "stacks:\nthread a\nthread b"


@pytest.fixture
def pair():
    a, b = socket.socketpair()
    yield DeadlineSocket(a), b
    a.close()
    b.close()


def test_a_trickle_is_cut_off_by_the_deadline_in_all(pair):
    server, client = pair
    server.settimeout(5)  # a timeout per read that the trickle always beats
    server.arm("headers", 0.5)
    stop = threading.Event()

    def trickle():
        while not stop.wait(0.05):
            client.send(b"x")

    thread = threading.Thread(target=trickle)
    thread.start()
    try:
        with pytest.raises(ReadDeadline) as caught:
            while True:
                assert server.recv(1)
    finally:
        stop.set()
        thread.join()
    assert caught.value.args[0] == "timed out"  # read as a socket timeout by servers
    assert "headers did not arrive within 0.5 s" in caught.value.message
    assert server.gettimeout() == 5  # the server's own setting is left as it was


def test_what_has_arrived_is_still_read_after_the_deadline(pair):
    server, client = pair
    server.arm("body", 0.0)
    client.send(b"late but here")
    assert server.recv(100) == b"late but here"
    with pytest.raises(ReadDeadline):
        server.recv(100)
