"""Fixtures of the functional tests: the API stack (real processes, real Swift)."""

import pytest

from tests.apistack import Stack


@pytest.fixture
def stack(tmp_path, devswift):
    """logsvc-api and an agent, an instance registered, tokens made."""
    s = Stack(tmp_path, devswift).start()
    yield s
    s.stop()
