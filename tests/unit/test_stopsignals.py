"""logsvc.stopsignals: a daemon's stop on SIGTERM, whatever its main thread holds."""

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from logsvc.stopsignals import StopSignals


@pytest.fixture
def usr2():
    before = signal.getsignal(signal.SIGUSR2)
    yield signal.SIGUSR2
    signal.signal(signal.SIGUSR2, before)


def test_a_signal_inside_the_events_own_wait_stops_the_daemon(usr2):
    """The handler runs where the main thread is: here inside the event's lock, as
    within ``stop.wait()``. One that set the event would wait for that lock for ever."""
    signals, stop = StopSignals((usr2,)), threading.Event()
    with stop._cond:  # held, as by the main thread inside stop.wait()
        os.kill(os.getpid(), usr2)
        time.sleep(0)  # a bytecode boundary: the handler runs here
        assert signals.received == usr2
    signals.wait(stop)
    assert stop.is_set()


def test_a_stop_from_another_thread_ends_the_wait(usr2):
    signals, stop = StopSignals((usr2,)), threading.Event()
    threading.Timer(0.1, stop.set).start()
    signals.wait(stop)
    assert stop.is_set() and signals.received is None


HUNG_EXIT = """
import logging, sys, threading
from logsvc.stopsignals import stop_watchdog
logging.basicConfig(stream=sys.stderr)
threading.Thread(target=threading.Event().wait, name="no-daemon").start()  # never ends
stop_watchdog(0.5, status=3)
sys.exit(0)  # the interpreter would wait for that thread for ever
"""


def test_a_stop_that_hangs_on_a_thread_that_is_no_daemon_ends_all_the_same():
    """As api/busd.py once did after the broker refused it: the process ends, its
    status the watchdog's, and its log says where each thread stood."""
    done = subprocess.run(
        [sys.executable, "-c", HUNG_EXIT], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 3, done.stderr
    assert "the stop took more than 0.5s; exiting now" in done.stderr
    assert "thread no-daemon:" in done.stderr
