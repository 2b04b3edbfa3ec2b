"""Fixtures shared by every test: a real Swift, the two storage backends, and the
API's three kinds of database."""

import contextlib
import os
import shutil
import tempfile
import uuid

import pytest

from dev.devswift import DevSwift
from logsvc.storage.file import FileStore
from logsvc.storage.swift import SwiftAuth, SwiftRetry, SwiftStore
from tests.databases import KINDS, temporary_database

# devkeystone, keystone_swift, keystone_member: a real Keystone for any test;
# broker: a virtual host of the real RabbitMQ for the session;
# under CI=true, a skip is a failure.
pytest_plugins = ["tests.ci_skips", "tests.keystone_fixtures", "tests.broker", "tests.browser"]


def _swift_workdir() -> str:
    # Swift needs user xattrs; tmpfs has them on Linux 6.6+, and is faster.
    for base in ("/dev/shm", None):
        if base and not os.path.isdir(base):
            continue
        path = tempfile.mkdtemp(prefix="logsvc-swift-", dir=base)
        probe = os.path.join(path, "probe")
        open(probe, "w").close()
        try:
            os.setxattr(probe, "user.test", b"1")
            return path
        except OSError:
            shutil.rmtree(path)
        finally:
            if os.path.exists(probe):
                os.unlink(probe)
    return tempfile.mkdtemp(prefix="logsvc-swift-")


@contextlib.contextmanager
def running_swift():
    """A real single-node Swift from the PyPI package, stopped and removed afterwards."""
    workdir = _swift_workdir()
    swift = DevSwift(workdir).start()
    try:
        yield swift
    finally:
        swift.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def devswift():
    """The Swift of the whole session."""
    with running_swift() as swift:
        yield swift


def swift_store(swift: DevSwift, account: str = "test", **retry) -> SwiftStore:
    creds = swift.credentials(account)
    return SwiftStore(
        SwiftAuth(
            auth_url=creds["auth_url"], auth_version="1", user=creds["user"], key=creds["key"]
        ),
        SwiftRetry(**({"retries": 2, "starting_backoff": 0.05, "max_backoff": 0.2} | retry)),
    )


@pytest.fixture(params=["swift", "file"])
def store(request, tmp_path):
    """Each test that takes `store` runs on both backends."""
    if request.param == "swift":
        s = swift_store(request.getfixturevalue("devswift"))
    else:
        s = FileStore(tmp_path / "objects")
    yield s
    s.close()


@pytest.fixture
def container():
    """A container name no other test uses."""
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture(params=KINDS)
def database_url(request, tmp_path):
    """An empty database of each kind: SQLite, and the servers of 127.0.0.1."""
    with temporary_database(request.param, tmp_path) as url:
        yield url
