"""auth_strategy = keystone: a real Keystone, keystonemiddleware in front of a real API process.

The tokens are issued by the real Keystone of dev/devkeystone.py (its
bootstrap admin, and members of two projects) and validated by the real
auth_token middleware, which asks that Keystone as the ``service`` user.
"""

import uuid
from urllib.parse import urlsplit

import pytest
import requests

from tests.processes import AgentProcess, ApiProcess

# The fixtures of the real Keystone (a no-op once tests/conftest.py names them too).


@pytest.fixture
def users(devkeystone):
    """The admin, and alice and bob: members of a project each."""
    run = uuid.uuid4().hex[:8]
    return {
        "admin": devkeystone.admin(),
        "alice": devkeystone.create_user(f"tenant-a-{run}", f"alice-{run}"),
        "bob": devkeystone.create_user(f"tenant-b-{run}", f"bob-{run}"),
    }


def console_sign_in(url: str, token: str) -> requests.Session:
    """A browser's sign-in to the web console, by form; the signed-in session."""
    http = requests.Session()
    form = http.get(url + "/console/sign-in", timeout=60)
    signin = form.text.split('name="signin_token" value="', 1)[1].split('"', 1)[0]
    resp = http.post(
        url + "/console/sign-in",
        data={"token": token, "signin_token": signin, "next": "/console/instances"},
        allow_redirects=False,
        timeout=60,
    )
    assert resp.status_code == 303, f"sign-in answered {resp.status_code}"
    # (keystonemiddleware's webob makes the Location absolute)
    assert urlsplit(resp.headers["Location"]).path == "/console/instances"
    return http


def test_keystone_tokens_are_validated_and_their_identity_trusted(tmp_path, devkeystone, users):
    tokens = {name: devkeystone.token(user) for name, user in users.items()}
    tenant = users["alice"].project_id
    (tmp_path / "app.log").write_bytes(b"a\nb\n")
    api = ApiProcess(
        tmp_path,
        {
            "api": {"auth_strategy": "keystone"},
            "keystone_authtoken": devkeystone.authtoken_settings(),
        },
    ).start()
    agent = AgentProcess(
        tmp_path,
        {
            "storage": {"backend": "file", "file_root": tmp_path / "objects"},
            "file_datastore": {"logs": f"app:USER:{tmp_path / 'app.log'}"},
        },
    ).start()
    try:
        body = {"tenant_id": tenant, "datastore": "file", "agent_url": agent.url}
        assert api.request("PUT", "/v1/instance/inst-1", tokens["alice"], body).status_code == 403
        assert api.request("PUT", "/v1/instance/inst-1", tokens["admin"], body).status_code == 201

        resp = api.request("GET", "/v1/instance/inst-1/log", tokens["alice"])
        assert resp.status_code == 200
        assert {e["name"] for e in resp.json()["logs"]} == {"app", "guest"}
        published = api.request(
            "POST", "/v1/instance/inst-1/log", tokens["alice"], {"name": "app", "publish": True}
        )
        assert published.json()["log"]["published"] == 4

        assert api.request("GET", "/v1/instance/inst-1/log", tokens["bob"]).status_code == 404
        trove = api.request("GET", f"/v1.0/{tenant}/instances/inst-1/log", tokens["alice"])
        assert trove.status_code == 200

        unknown = api.request("GET", "/v1/instance/inst-1/log", "not-a-keystone-token")
        assert unknown.status_code == 401
        forged = api.request(
            "GET",
            "/v1/instance/inst-1/log",
            headers={
                "X-Identity-Status": "Confirmed",
                "X-Project-Id": tenant,
                "X-Roles": "admin",
            },
        )
        assert forged.status_code == 401
        # The client with a keystoneauth session: the API's endpoint from the catalog.
        from keystoneauth1 import session as ksa_session
        from keystoneauth1.identity import v3

        from logsvc.client.api import Client

        devkeystone.add_endpoint("database-logs", "logsvc", api.url)
        alice = users["alice"]
        auth = v3.Password(
            auth_url=devkeystone.url,
            username=alice.name,
            password=alice.password,
            project_name=alice.project_name,
            user_domain_name="Default",
            project_domain_name="Default",
        )
        client = Client(session=ksa_session.Session(auth=auth))
        assert {v.name for v in client.log_list("inst-1")} == {"app", "guest"}
        assert client.log_show("inst-1", "app").published == 4

        # A token that Keystone has revoked, first seen after the revocation.
        revoked = devkeystone.token(users["alice"])
        devkeystone.revoke(revoked)
        assert api.request("GET", "/v1/instance/inst-1/log", revoked).status_code == 401

        # The web console: a Keystone token signs in, through the same middleware.
        alice_console = console_sign_in(api.url, tokens["alice"])
        page = alice_console.get(api.url + "/console/instances/inst-1", allow_redirects=False)
        assert page.status_code == 200 and 'id="log-app"' in page.text
        bob_console = console_sign_in(api.url, tokens["bob"])
        assert "inst-1" not in bob_console.get(api.url + "/console/instances").text
        assert bob_console.get(api.url + "/console/instances/inst-1").status_code == 404
        with pytest.raises(AssertionError, match="401"):
            console_sign_in(api.url, "not-a-keystone-token")
        with pytest.raises(AssertionError, match="401"):
            console_sign_in(api.url, revoked)
    finally:
        agent.stop()
        api.stop()
    assert not api.openapi_problems()
