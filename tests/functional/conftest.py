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
