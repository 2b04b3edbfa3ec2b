"""Fixtures of a real Keystone (dev/devkeystone.py) and a Swift that trusts it.

A pytest plugin (named in tests/conftest.py's ``pytest_plugins``). Where
Keystone cannot be installed or started, the tests that ask for it skip (fail
under CI), saying which step failed.
"""

import os
import shutil
import tempfile
from dataclasses import dataclass

import pytest

from dev.devkeystone import DevKeystone, KeystoneUnavailable, KeystoneUser
from dev.devswift import DevSwift
from tests.ci_skips import server_absent


def _workdir(prefix: str) -> str:
    # tmpfs where it has user xattrs (Swift needs them; SQLite is faster there)
    if os.path.isdir("/dev/shm"):
        path = tempfile.mkdtemp(prefix=prefix, dir="/dev/shm")
        try:
            os.setxattr(path, "user.logsvc", b"1")
            return path
        except OSError:
            shutil.rmtree(path)
    return tempfile.mkdtemp(prefix=prefix)


@pytest.fixture(scope="session")
def devkeystone():
    """The real Keystone of the whole session."""
    workdir = _workdir("logsvc-keystone-")
    keystone = DevKeystone(workdir)
    try:
        keystone.start()
    except KeystoneUnavailable as exc:
        shutil.rmtree(workdir, ignore_errors=True)
        server_absent("Keystone", str(exc))
    yield keystone
    keystone.stop()
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def keystone_swift(devkeystone):
    """A Swift whose proxy validates `devkeystone`'s tokens, its object-store in the catalog.

    tempauth works there too; Keystone projects have the accounts ``KEY_<project id>``.
    """
    workdir = _workdir("logsvc-swift-ks-")
    swift = DevSwift(workdir, keystone=devkeystone.authtoken_settings()).start()
    try:
        devkeystone.add_endpoint("object-store", "swift", swift.keystone_storage_url())
        yield swift
    finally:
        swift.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@dataclass(frozen=True)
class KeystoneMember:
    """A user with the member role in a project, and an application credential of theirs."""

    user: KeystoneUser
    application_credential_id: str
    application_credential_secret: str


@pytest.fixture(scope="session")
def keystone_member(devkeystone) -> KeystoneMember:
    """The user of the storage tests: member of project ``logsvc-storage``."""
    user = devkeystone.create_user("logsvc-storage", "logsvc-storage")
    return KeystoneMember(user, *devkeystone.application_credential(user))
