"""Fixtures of the functional tests: the API stack (real processes, real Swift)."""

import pytest

from tests.apistack import Stack


@pytest.fixture
def stack(tmp_path, devswift):
    """logsvc-api and an agent, an instance registered, tokens made."""
    s = Stack(tmp_path, devswift).start()
    yield s
    s.stop()


@pytest.fixture
def db_stack(tmp_path, devswift, database_url):
    """The same, the API on each kind of database (SQLite, PostgreSQL, MariaDB)."""
    s = Stack(tmp_path, devswift, api_sections={"database": {"connection": database_url}}).start()
    yield s
    s.stop()


def _stack(request, tmp_path, devswift, transport: str, **kwargs) -> Stack:
    broker = request.getfixturevalue("broker") if transport == "rpc" else None
    return Stack(tmp_path, devswift, transport=transport, broker=broker, **kwargs)


@pytest.fixture(params=["http", "rpc"])
def both_stack(request, tmp_path, devswift):
    """The same stack, the API calling its agent over HTTP, then over the message bus."""
    s = _stack(request, tmp_path, devswift, request.param).start()
    yield s
    s.stop()


@pytest.fixture
def bus_stack(request, tmp_path, devswift):
    """The stack over the message bus only: the agent listens on no port."""
    s = _stack(request, tmp_path, devswift, "rpc").start()
    yield s
    s.stop()


@pytest.fixture
def make_stack(request, tmp_path, devswift):
    """make_stack(transport, **Stack options): a stack, not started (the test starts it)."""
    made = []

    def make(transport: str, **kwargs) -> Stack:
        made.append(_stack(request, tmp_path, devswift, transport, **kwargs))
        return made[-1]

    return make
