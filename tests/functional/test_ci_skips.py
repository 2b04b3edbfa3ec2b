"""Under CI=true a skip is a failure naming what was missing; elsewhere it stays a skip.

A real pytest run, in a child process, of a few tests that skip the ways the
suite's tests do, with the suite's plugin (tests/ci_skips.py).
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SKIPPING = """
import pytest

from tests.ci_skips import server_absent


@pytest.fixture
def postgres():
    server_absent("PostgreSQL", "127.0.0.1:5432 does not answer")


def test_needs_postgres(postgres):
    pass


def test_needs_redis():
    server_absent("Redis", "nothing answers on 127.0.0.1:6379")


@pytest.mark.skipif(True, reason="no systemd-analyze on this machine")
def test_any_other_skip():
    pass


@pytest.mark.xfail(reason="expected to fail", strict=True)
def test_an_expected_failure_is_left_alone():
    raise AssertionError


def test_runs():
    pass
"""


def run_pytest(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess:
    (tmp_path / "test_skipping.py").write_text(SKIPPING)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["PYTHONPATH"] = str(ROOT)
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # the suite's plugins only: faster
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "-p", "tests.ci_skips", "-p", "no:cacheprovider"),
            *("-rA", "--rootdir", str(tmp_path), str(tmp_path / "test_skipping.py")),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_under_ci_every_skip_fails_naming_what_is_missing(tmp_path):
    run = run_pytest(tmp_path, "true")
    assert run.returncode == 1, run.stdout
    # a skip in a fixture fails the setup: an error
    assert "1 failed, 1 passed, 1 xfailed, 2 errors" in run.stdout, run.stdout
    assert "PostgreSQL is not here: 127.0.0.1:5432 does not answer" in run.stdout
    assert "Redis is not here" in run.stdout
    assert "no systemd-analyze on this machine" in run.stdout
    assert "skipped under CI=true" in run.stdout


def test_outside_ci_a_missing_server_is_a_skip_with_its_reason(tmp_path):
    run = run_pytest(tmp_path, None)
    assert run.returncode == 0, run.stdout
    assert "1 passed, 3 skipped, 1 xfailed" in run.stdout, run.stdout
    assert "PostgreSQL is not here: 127.0.0.1:5432 does not answer" in run.stdout
    assert "Redis is not here" in run.stdout
