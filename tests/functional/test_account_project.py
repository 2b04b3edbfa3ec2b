"""``[storage] account = project``: logs in each project's own Swift account (the Trove model).

A real Keystone (dev/devkeystone.py) and a Swift that trusts it (the
session's fixtures), the API behind keystonemiddleware, one agent per
project. The API hands the caller's token and their catalog's object-store
endpoint to the agent with each publish and discard; the objects land in the
project's account, which the project reads with its own token (swiftclient,
python-troveclient, the read route), and nobody else can.
"""

import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import generic
from swiftclient import client as swift_client
from troveclient.v1 import client as trove_client

from tests.faultproxy import Exchange, FaultProxy
from tests.functional.test_ops_gmr import wait_reports
from tests.helpers import realistic_lines
from tests.processes import AgentProcess, ApiProcess, swift_settings

CONTAINER = "database_logs"

pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:.*[Ee]ventlet.*"),
]


@pytest.fixture
def projects(devkeystone):
    """The admin, and alice and bob: members of a project each."""
    run = uuid.uuid4().hex[:8]
    return {
        "admin": devkeystone.admin(),
        "alice": devkeystone.create_user(f"logs-a-{run}", f"alice-{run}"),
        "bob": devkeystone.create_user(f"logs-b-{run}", f"bob-{run}"),
    }


def _api(tmp_path, devkeystone, broker=None, **storage) -> ApiProcess:
    """The API; with `broker`, it calls its agents over the message bus."""
    (tmp_path / "api").mkdir()
    bus = {"DEFAULT": broker.settings(), "agent": {"dispatch": "rpc"}} if broker else {}
    return ApiProcess(
        tmp_path / "api",
        {
            "api": {"auth_strategy": "keystone", "publish_wait": 120},
            "keystone_authtoken": devkeystone.authtoken_settings(),
            "storage": {"backend": "swift", "account": "project", **storage},
            "swift": {"region_name": "RegionOne", "retries": 1, "starting_backoff": 0.1},
            **bus,
        },
    )


def _agent(tmp_path, swift, instance_id: str, log: bytes, broker=None, **defaults) -> AgentProcess:
    """An agent; with `broker`, it serves its actions on the message bus only."""
    work = tmp_path / instance_id
    (work / "reports").mkdir(parents=True)
    (work / "app.log").write_bytes(log)
    return AgentProcess(
        work,
        {
            "oslo_reports": {"log_dir": work / "reports"},
            "DEFAULT": {**defaults, **(broker.settings() if broker else {})},
            "agent": {"instance_id": instance_id},
            # The service's account (tempauth's "test"): where the logs would go with
            # account = service. With project the agent writes with its callers' tokens.
            "storage": {"backend": "swift", "account": "project"},
            "swift": swift_settings(swift),
            "file_datastore": {"logs": f"app:USER:{work / 'app.log'}"},
        },
    )


def _account_bytes(url: str, token: str, prefix: str) -> bytes:
    """The log's objects in the account at `url`, read with `token`, in name order."""
    conn = swift_client.Connection(preauthurl=url, preauthtoken=token, retries=0)
    _, listing = conn.get_container(CONTAINER, prefix=prefix, full_listing=True)
    return b"".join(conn.get_object(CONTAINER, o["name"])[1] for o in listing)


def _register(api, admin_token, instance_id, tenant, agent) -> None:
    body = {"tenant_id": tenant, "datastore": "file", "agent_url": agent.url}
    resp = api.request("PUT", f"/v1/instance/{instance_id}", admin_token, body)
    assert resp.status_code == 201, resp.text


def _troveclient(devkeystone, user, api) -> trove_client.Client:
    auth = generic.Password(
        auth_url=devkeystone.url,
        username=user.name,
        password=user.password,
        project_name=user.project_name,
        user_domain_name="Default",
        project_domain_name="Default",
    )
    return trove_client.Client(
        session=ks_session.Session(auth=auth),
        auth=auth,
        endpoint_override=f"{api.url}/v1.0/{user.project_id}",
    )


def openstack(devkeystone, user, *args: str) -> subprocess.CompletedProcess:
    """`openstack database log ARGS` as `user`, by password (python-openstackclient)."""
    cli = Path(sys.executable).with_name("openstack")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")} | {
        "OS_AUTH_URL": devkeystone.url,
        "OS_USERNAME": user.name,
        "OS_PASSWORD": user.password,
        "OS_PROJECT_NAME": user.project_name,
        "OS_USER_DOMAIN_NAME": "Default",
        "OS_PROJECT_DOMAIN_NAME": "Default",
        "OS_IDENTITY_API_VERSION": "3",
        "OS_REGION_NAME": "RegionOne",
    }
    return subprocess.run(
        [str(cli), "database", "log", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.mark.parametrize("transport", ["http", "rpc"])
def test_each_project_publishes_into_and_reads_from_its_own_account(
    request, tmp_path, devkeystone, keystone_swift, projects, transport
):
    """Over HTTP, and over the message bus (the token travels in the signed message)."""
    broker = request.getfixturevalue("broker") if transport == "rpc" else None
    alice, bob = projects["alice"], projects["bob"]
    tokens = {name: devkeystone.token(user) for name, user in projects.items()}
    logs = {"inst-a": realistic_lines(300), "inst-b": realistic_lines(200, 1000)}
    api = _api(tmp_path, devkeystone, broker).start()
    agents = {
        iid: _agent(tmp_path, keystone_swift, iid, data, broker, guest_log_limit=4096).start()
        for iid, data in logs.items()
    }
    try:
        _register(api, tokens["admin"], "inst-a", alice.project_id, agents["inst-a"])
        _register(api, tokens["admin"], "inst-b", bob.project_id, agents["inst-b"])
        for iid, who in (("inst-a", "alice"), ("inst-b", "bob")):
            resp = api.request(
                "POST", f"/v1/instance/{iid}/log", tokens[who], {"name": "app", "publish": True}
            )
            assert resp.status_code == 200, resp.text
            assert resp.json()["log"]["published"] == len(logs[iid])

        urls = {
            "alice": keystone_swift.keystone_storage_url(alice.project_id),
            "bob": keystone_swift.keystone_storage_url(bob.project_id),
        }
        # Each project reads its own log with its own token, byte-exact.
        assert _account_bytes(urls["alice"], tokens["alice"], "inst-a/file-app/") == logs["inst-a"]
        assert _account_bytes(urls["bob"], tokens["bob"], "inst-b/file-app/") == logs["inst-b"]
        # Neither reads the other's account.
        for reader, owner in (("alice", "bob"), ("bob", "alice")):
            with pytest.raises(swift_client.ClientException) as refused:
                _account_bytes(urls[owner], tokens[reader], "")
            assert refused.value.http_status == 403
        # The service's account holds none of them.
        creds = keystone_swift.credentials()
        service = swift_client.Connection(creds["auth_url"], creds["user"], creds["key"])
        try:
            _, listing = service.get_container(CONTAINER, full_listing=True)
        except swift_client.ClientException as exc:
            assert exc.http_status == 404
            listing = []
        assert not [o for o in listing if o["name"].startswith(("inst-a/", "inst-b/"))]

        # The read route reads the caller's account with the caller's token.
        read = api.request("GET", "/v1/instance/inst-a/log/app/data", tokens["alice"])
        assert read.status_code == 200 and read.content == logs["inst-a"]
        assert (
            api.request("GET", "/v1/instance/inst-a/log/app/data", tokens["bob"]).status_code == 404
        )
        ranged = api.request(
            "GET",
            "/v1/instance/inst-b/log/app/data",
            tokens["bob"],
            headers={"Range": "bytes=10-99"},
        )
        assert ranged.status_code == 206 and ranged.content == logs["inst-b"][10:100]

        # The clients read the account, whichever transport published: once is enough.
        if transport == "http":
            # python-troveclient, unmodified: the project's own Swift, found in its catalog.
            trove = _troveclient(devkeystone, alice, api)
            saved = trove.instances.log_save("inst-a", "app", filename=str(tmp_path / "saved.log"))
            assert Path(saved).read_bytes() == logs["inst-a"]
            tail = "".join(trove.instances.log_generator("inst-a", "app", lines=5)())
            assert tail.encode() == b"".join(logs["inst-a"].splitlines(keepends=True)[-5:])

            # `openstack database log save|tail`: the same, found in the catalog.
            devkeystone.add_endpoint("database", "trove", f"{api.url}/v1.0/$(project_id)s")
            saved_by_osc = tmp_path / "osc.log"
            osc = openstack(
                devkeystone, alice, "save", "inst-a", "app", "--file", str(saved_by_osc)
            )
            assert osc.returncode == 0, osc.stderr
            assert saved_by_osc.read_bytes() == logs["inst-a"]
            osc = openstack(devkeystone, alice, "tail", "inst-a", "app", "--lines", "3")
            assert osc.returncode == 0, osc.stderr
            assert osc.stdout.encode().endswith(b"".join(logs["inst-a"].splitlines(True)[-3:]))

        # No token between actions: follow is refused, and says why.
        follow = api.request(
            "POST", "/v1/instance/inst-a/log", tokens["alice"], {"name": "app", "follow": True}
        )
        assert (
            follow.status_code == 400 and "account = project" in follow.json()["error"]["message"]
        )
        # Temp URLs would need the project's own key.
        objects = api.request("GET", "/v1/instance/inst-a/log/app/objects", tokens["alice"])
        assert objects.status_code == 501

        # A discard deletes from the caller's account.
        resp = api.request(
            "POST", "/v1/instance/inst-b/log", tokens["bob"], {"name": "app", "discard": True}
        )
        assert resp.status_code == 200 and resp.json()["log"]["published"] == 0
        assert _account_bytes(urls["bob"], tokens["bob"], "inst-b/file-app/") == b""
    finally:
        for agent in agents.values():
            agent.stop()
        api.stop()
    # The tokens were used, never kept: not in a state file, an outcome, or a log.
    for path in tmp_path.rglob("*"):
        if path.is_file() and path.suffix != ".sqlite":
            data = path.read_bytes()
            for token in tokens.values():
                assert token.encode() not in data, f"a token in {path}"
    assert not api.openapi_problems()


@pytest.fixture(scope="module")
def validating_proxy(keystone_swift) -> str:
    """A second proxy of the session's Swift that validates every Keystone token anew.

    The main proxy caches a validated token for five minutes (as deployed
    proxies do), which would hide a revocation; this one only serves the test
    that revokes, so the others keep their cache.
    """
    return keystone_swift.add_proxy("no-token-cache", {"token_cache_time": "-1"})


def test_a_token_revoked_mid_publish_fails_it_and_a_fresh_token_finishes_it(
    tmp_path, devkeystone, keystone_swift, projects, validating_proxy
):
    alice = projects["alice"]
    data = realistic_lines(3000)
    token = devkeystone.token(alice)
    revoke_after = 100  # objects: past the first checkpoint (64), before the end (~190)
    stored: list[str] = []

    def revoke_mid_publish(stage: str, exchange: Exchange) -> None:
        if stage != "answered" or exchange.method != "PUT" or exchange.status != 201:
            return
        if "/file-app/log-" in exchange.path:
            stored.append(exchange.path)
            if len(stored) == revoke_after // 2:
                os.kill(agent.proc.pid, signal.SIGUSR1)  # a Guru Meditation Report, mid-publish
            if len(stored) == revoke_after:
                devkeystone.revoke(token)  # before the agent learns this object is stored

    proxy = FaultProxy(validating_proxy, revoke_mid_publish).start()
    api = _api(tmp_path, devkeystone, project_url=f"{proxy.url}/v1/KEY_%(project_id)s").start()
    agent = _agent(tmp_path, keystone_swift, "inst-r", data, guest_log_limit=1024).start()
    account = keystone_swift.keystone_storage_url(alice.project_id)
    try:
        _register(api, devkeystone.token(projects["admin"]), "inst-r", alice.project_id, agent)
        publish = {"name": "app", "publish": True}
        failed = api.request("POST", "/v1/instance/inst-r/log", token, publish)
        assert failed.status_code == 503, failed.text
        error = failed.json()["error"]
        assert error["code"] == "storage_auth_error"
        assert "token was refused" in error["message"] and "fresh token" in error["message"]
        assert token not in failed.text
        report = wait_reports(tmp_path / "inst-r" / "reports", "Guest Logs", 1, "the report")
        assert "publishrun" in "".join(report.values())  # taken while the publish ran

        fresh = devkeystone.token(alice)
        shown = api.request("POST", "/v1/instance/inst-r/log", fresh, {"name": "app"}).json()
        committed = shown["log"]["published"]
        assert 0 < committed < len(data)
        assert shown["log"]["publish"]["state"] == "failed"
        # The checkpoint is what the account's metafile says, and its objects hold it.
        conn = swift_client.Connection(preauthurl=account, preauthtoken=fresh, retries=0)
        meta = json.loads(conn.get_object(CONTAINER, "inst-r/file-app_metafile")[1])
        assert meta["log_size"] == committed
        assert _account_bytes(account, fresh, "inst-r/file-app/")[:committed] == data[:committed]

        again = api.request("POST", "/v1/instance/inst-r/log", fresh, publish)
        assert again.status_code == 200, again.text
        assert again.json()["log"]["published"] == len(data)
        assert _account_bytes(account, fresh, "inst-r/file-app/") == data
    finally:
        agent.stop()
        api.stop()
        proxy.stop()
    for path in tmp_path.rglob("*"):
        if path.is_file() and path.suffix != ".sqlite":
            assert token.encode() not in path.read_bytes(), f"the token in {path}"
    assert not api.openapi_problems()
