"""logsvc.http's watchdog: one thread ends every call whose deadline has come."""

import socket
import threading
import time

from logsvc import http


def test_one_thread_for_every_call_and_a_call_that_ended_is_left_alone():
    before = threading.active_count()
    ended = []
    for _ in range(500):
        with http._Deadline(30) as deadline:
            pass
        ended.append(deadline)
    assert threading.active_count() <= before + 1  # the watchdog's, once
    assert not any(d.expired for d in ended)
    assert len(http._watchdog._heap) <= 128  # ended deadlines do not pile up


def test_a_deadline_shuts_down_the_call_at_its_time_in_order():
    pairs = [socket.socketpair() for _ in range(3)]
    try:
        deadlines, started = [], time.monotonic()
        for seconds, (ours, _theirs) in zip((0.6, 0.2, 0.4), pairs, strict=True):
            deadline = http._Deadline(seconds)
            http._watchdog.add(deadline)
            deadline.watch(ours)
            deadlines.append(deadline)
        ours, _ = pairs[1]
        ours.settimeout(10)
        assert ours.recv(1) == b""  # shut down: the read ends at once
        assert 0.15 < time.monotonic() - started < 5
        assert deadlines[1].expired and not deadlines[2].expired
        for ours, _ in pairs:
            ours.settimeout(10)
            assert ours.recv(1) == b""
        assert all(d.expired and d.passed() for d in deadlines)
    finally:
        for deadline in deadlines:
            http._watchdog.ended(deadline)
        for a, b in pairs:
            a.close()
            b.close()
