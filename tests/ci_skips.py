"""Under CI, a skipped test is a failure: CI must prove every path every time.

A test that needs a server (MariaDB, PostgreSQL, Redis, Keystone, a tmpfs)
skips where it is not here, which is right on a laptop (``./test.sh``) and
would hide a broken path in CI (``.ci/run``, with ``CI=true``). There, this
plugin (named in tests/conftest.py's ``pytest_plugins``) turns every skip,
whatever raised it, into a failure that keeps the skip's reason; a server's
absence says which server through `server_absent`.

Modules of the suite import it before pytest loads it as a plugin, hence
PYTEST_DONT_REWRITE (it asserts nothing).
"""

import os
from typing import NoReturn

import pytest


def under_ci() -> bool:
    """Whether this run is CI's (``CI=true``, as CI services set it)."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def server_absent(server: str, why: str) -> NoReturn:
    """Skip the test because `server` is not here (a failure under CI)."""
    pytest.skip(f"{server} is not here: {why}")


def _fail_under_ci(report, what: str) -> None:
    if not (under_ci() and report.skipped) or hasattr(report, "wasxfail"):
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    reason = reason.removeprefix("Skipped: ")
    report.outcome = "failed"
    report.longrepr = f"{what} skipped under CI=true, where nothing may be: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    _fail_under_ci(outcome.get_result(), item.nodeid)


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    _fail_under_ci(outcome.get_result(), collector.nodeid)
