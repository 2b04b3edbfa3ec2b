"""Fixtures of the end-to-end tests: the real clients against running daemons."""

import pytest

from tests.apistack import Stack


@pytest.fixture
def stack(tmp_path, devswift):
    s = Stack(tmp_path, devswift).start()
    yield s
    s.stop()
