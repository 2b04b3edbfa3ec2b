"""The swift backend with Keystone v3: a real Keystone, a real Swift that trusts it.

The storage contract (test_storage_contract.py) runs here once more, as is,
on SwiftStore authenticated with auth_version 3, by password and by
application credential; the storage URL comes from Keystone's catalog.
"""

import inspect
import json
import subprocess
import sys

import pytest
import requests

from logsvc.exceptions import StorageAuthError, StorageUnavailable
from logsvc.storage.swift import SwiftAuth, SwiftRetry, SwiftStore
from tests.conftest import swift_store
from tests.functional import test_storage_contract as contract
from tests.processes import free_port

# The fixtures of the real Keystone (a no-op once tests/conftest.py names them too).

# Every contract test: those that take the `store` fixture, which this module
# gives its own values.
for _name, _test in vars(contract).items():
    if _name.startswith("test_") and "store" in inspect.signature(_test).parameters:
        globals()[_name] = _test

# swiftclient authenticates by password through keystoneclient's deprecated API.
pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning:keystoneclient"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:debtcollector"),
]

_RETRY = SwiftRetry(retries=2, starting_backoff=0.05, max_backoff=0.2)


def password_auth(devkeystone, user, password=None) -> SwiftAuth:
    return SwiftAuth(
        auth_url=devkeystone.url,
        auth_version="3",
        user=user.name,
        key=password or user.password,
        project_name=user.project_name,
        user_domain_name="Default",
        project_domain_name="Default",
    )


def application_credential_auth(devkeystone, member, secret=None) -> SwiftAuth:
    return SwiftAuth(
        auth_url=devkeystone.url,
        auth_version="3",
        application_credential_id=member.application_credential_id,
        application_credential_secret=secret or member.application_credential_secret,
    )


@pytest.fixture(scope="module", params=["v3-password", "v3-application-credential"])
def store(request, devkeystone, keystone_swift, keystone_member):
    """One store for each way in, as an agent holds one: it authenticates once."""
    if request.param == "v3-password":
        auth = password_auth(devkeystone, keystone_member.user)
    else:
        auth = application_credential_auth(devkeystone, keystone_member)
    s = SwiftStore(auth, _RETRY)
    yield s
    s.close()


def test_objects_land_in_the_projects_account(
    container, devkeystone, keystone_swift, keystone_member
):
    """The catalog's object-store endpoint is the account of the project; no other sees it."""
    user = keystone_member.user
    store = SwiftStore(password_auth(devkeystone, user), _RETRY)
    store.put_object(container, "where", b"here")
    store.close()
    url = f"{keystone_swift.keystone_storage_url(user.project_id)}/{container}/where"
    assert requests.get(url, headers={"X-Auth-Token": devkeystone.token(user)}).content == b"here"
    other = devkeystone.create_user(f"other-{container}", f"other-{container}")
    assert requests.get(url, headers={"X-Auth-Token": devkeystone.token(other)}).status_code == 403


@pytest.mark.parametrize("how", ["password", "application-credential"])
def test_wrong_credentials_are_an_auth_error(devkeystone, keystone_swift, keystone_member, how):
    if how == "password":
        auth = password_auth(devkeystone, keystone_member.user, "wrong-password-123")
    else:
        auth = application_credential_auth(devkeystone, keystone_member, "wrong-password-123")
    store = SwiftStore(auth, SwiftRetry(retries=0))
    with pytest.raises(StorageAuthError) as err:
        store.check()
    assert "wrong-password-123" not in str(err.value)
    assert devkeystone.url in str(err.value)


@pytest.mark.parametrize(
    "how",
    [
        "password",
        "application-credential",
    ],
)
def test_keystone_unreachable_is_unavailable(how):
    """No Keystone at all: needs none to run."""
    closed = f"http://127.0.0.1:{free_port()}/v3"
    if how == "password":
        creds = {"user": "someone", "key": "pw", "project_name": "some-project"}
    else:
        creds = {"application_credential_id": "ac", "application_credential_secret": "s"}
    store = SwiftStore(
        SwiftAuth(auth_url=closed, auth_version="3", **creds),
        SwiftRetry(retries=1, starting_backoff=0.01, timeout=5),
    )
    with pytest.raises(StorageUnavailable):
        store.check()


@pytest.mark.parametrize("how", ["password", "application-credential"])
def test_the_agent_publishes_with_keystone_v3(
    tmp_path, devkeystone, keystone_swift, keystone_member, how
):
    """One publish by a real `logsvc-guestagent` process configured for Keystone v3."""
    member = keystone_member
    if how == "password":
        swift = (
            f"user = {member.user.name}\nkey = {member.user.password}\n"
            f"project_name = {member.user.project_name}\n"
        )
    else:
        swift = (
            f"application_credential_id = {member.application_credential_id}\n"
            f"application_credential_secret = {member.application_credential_secret}\n"
        )
    data = b"first line\n\xff\xfe not UTF-8\r\n\x00 a NUL\nlast\n"
    (tmp_path / "app.log").write_bytes(data)
    container = f"logs-ks-{how}"
    conf = tmp_path / "agent.conf"
    conf.write_text(
        f"[DEFAULT]\nguest_log_limit = 16\nguest_log_container_name = {container}\n"
        f"log_file = {tmp_path / 'agent.log'}\n"
        f"[agent]\ninstance_id = inst-ks\nstate_dir = {tmp_path / 'state'}\n"
        "[storage]\nbackend = swift\n"
        f"[swift]\nauth_url = {devkeystone.url}\nauth_version = 3\n{swift}"
        "retries = 1\nstarting_backoff = 0.1\n"
        f"[file_datastore]\nlogs = app:USER:{tmp_path / 'app.log'}\n"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "guestagent.cmd", "--config-file", str(conf), "publish", "app"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["log"]["published"] == len(data)

    store = SwiftStore(password_auth(devkeystone, member.user), _RETRY)
    objects = list(store.list_objects(container, "inst-ks/file-app/"))
    assert len(objects) > 1
    assert b"".join(store.get_object(container, o.name)[1] for o in objects) == data
    store.close()


def test_tempauth_still_works_beside_keystone(container, keystone_swift, keystone_member):
    """The Keystone-trusting Swift keeps its v1 accounts; their tokens open no project's."""
    store = swift_store(keystone_swift)
    store.put_object(container, "v1", b"tempauth")
    assert store.get_object(container, "v1")[1] == b"tempauth"
    store.close()
    creds = keystone_swift.credentials()
    v1_token = requests.get(
        creds["auth_url"], headers={"X-Auth-User": creds["user"], "X-Auth-Key": creds["key"]}
    ).headers["X-Auth-Token"]
    project = keystone_swift.keystone_storage_url(keystone_member.user.project_id)
    assert requests.get(project, headers={"X-Auth-Token": v1_token}).status_code == 403
