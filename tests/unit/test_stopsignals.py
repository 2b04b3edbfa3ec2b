"""logsvc.stopsignals: a daemon's stop on SIGTERM, whatever its main thread holds."""

import os
import signal
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
