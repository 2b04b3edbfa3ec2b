"""The demo's ports (scripts/demo.py): the daemons' defaults wherever the daemons can bind them."""

import importlib.util
import socket
from pathlib import Path

import pytest

_SPEC = importlib.util.spec_from_file_location(
    "demo", Path(__file__).resolve().parents[2] / "scripts" / "demo.py"
)
demo = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(demo)


def _left_in_time_wait() -> int:
    """A loopback port whose last connection the server closed first: in TIME_WAIT.

    The server binds as the demo's daemons do (gunicorn, cheroot), with
    SO_REUSEADDR: Linux lets a port be bound again over its TIME_WAIT only
    where both sockets say so.
    """
    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        client = socket.create_connection(("127.0.0.1", port))
        accepted, _ = server.accept()
        accepted.close()  # the server's side closes first: its port lingers
        client.recv(1)
        client.close()
    return port


def test_a_port_left_in_time_wait_by_the_last_run_is_used_again():
    # As after Ctrl-C and ./start.sh again: the daemons bind with SO_REUSEADDR.
    lingering = _left_in_time_wait()
    assert demo.port(lingering) == lingering


def test_a_port_someone_listens_on_is_not_used():
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        taken = other.getsockname()[1]
        chosen = demo.port(taken)
    assert chosen != taken and chosen > 0


@pytest.mark.parametrize("avoid", [True, False])
def test_a_port_to_avoid_is_not_used(avoid):
    free = _left_in_time_wait()
    assert (demo.port(free, {free} if avoid else set()) == free) is not avoid
