"""The API's master stops when its heartbeats' consumer (api/busd.py) stops on its own.

busd tells why it ends on a pipe: its exit status may be gone, as gunicorn's
master reaps every child that ends (``waitpid(-1)`` on SIGCHLD), and Popen then
reads 0. The API ran on, deaf, in CI that way.
"""

import os
import signal
import subprocess
import sys
from types import SimpleNamespace

import pytest

from api.server import ApiServer
from logsvc.stopsignals import STOPPED

SAYS = "import os, sys; os.write(int(sys.argv[1]), sys.argv[2].encode())"


def ended_consumer(*said: str) -> int:
    """The read end of the pipe of a consumer that ended, having written `said`, and
    was reaped before anybody waited for it (as gunicorn's master does)."""
    reports, end = os.pipe()
    code = SAYS if said else "import time; time.sleep(60)"
    child = subprocess.Popen([sys.executable, "-c", code, str(end), *said], pass_fds=(end,))
    os.close(end)
    if not said:  # killed before it said anything
        child.kill()
    os.waitpid(child.pid, 0)
    assert child.wait() == 0  # all Popen can tell now: the old watch took it for a clean stop
    return reports


@pytest.fixture
def master():
    """A process standing for the API's master: what the watch signals."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield proc
    proc.kill()
    proc.wait()


@pytest.mark.parametrize("said", [("the broker refused it",), ()])
def test_a_consumer_that_failed_or_was_killed_stops_the_api(master, said):
    state = SimpleNamespace(stopping=False, failed=False)
    ApiServer._watch_bus(state, master.pid, ended_consumer(*said))  # type: ignore[arg-type]
    assert state.failed
    assert master.wait(10) == -signal.SIGTERM


@pytest.mark.parametrize("stopping", [True, False])
def test_a_consumer_asked_to_stop_leaves_the_api_be(master, stopping):
    """Asked by the master as it stops, or by a signal of its own (Ctrl-C reaches
    the whole process group)."""
    state = SimpleNamespace(stopping=stopping, failed=False)
    reports = ended_consumer(STOPPED) if not stopping else ended_consumer("whatever")
    ApiServer._watch_bus(state, master.pid, reports)  # type: ignore[arg-type]
    assert not state.failed
    assert master.poll() is None
