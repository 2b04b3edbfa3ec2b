"""auth_strategy = keystone: the real keystonemiddleware in front of a real API process.

No Keystone can run here. Tokens are validated by tests/keystone_stub.py, a
stand-in that answers Keystone v3's discovery and token validation for the
tokens it was given: what is tested is keystonemiddleware's real validation
path and the API's trust in the headers it sets, not Keystone itself.
"""

import pytest

from tests.keystone_stub import KeystoneStub
from tests.processes import AgentProcess, ApiProcess


@pytest.fixture
def keystone():
    stub = KeystoneStub(
        {
            "ks-admin": ("admin-project", ["admin"]),
            "ks-alice": ("tenant-a", ["member"]),
            "ks-bob": ("tenant-b", ["member"]),
        },
        service_token="ks-service",
    ).start()
    yield stub
    stub.stop()


def test_keystone_tokens_are_validated_and_their_identity_trusted(tmp_path, keystone):
    (tmp_path / "app.log").write_bytes(b"a\nb\n")
    api = ApiProcess(
        tmp_path,
        {
            "api": {"auth_strategy": "keystone"},
            "keystone_authtoken": {
                "www_authenticate_uri": f"{keystone.url}/v3",
                "auth_type": "admin_token",
                "endpoint": f"{keystone.url}/v3",
                "token": "ks-service",
            },
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
        body = {"tenant_id": "tenant-a", "datastore": "file", "agent_url": agent.url}
        assert api.request("PUT", "/v1/instance/inst-1", "ks-alice", body).status_code == 403
        assert api.request("PUT", "/v1/instance/inst-1", "ks-admin", body).status_code == 201

        resp = api.request("GET", "/v1/instance/inst-1/log", "ks-alice")
        assert resp.status_code == 200
        assert {e["name"] for e in resp.json()["logs"]} == {"app", "guest"}
        published = api.request(
            "POST", "/v1/instance/inst-1/log", "ks-alice", {"name": "app", "publish": True}
        )
        assert published.json()["log"]["published"] == 4

        assert api.request("GET", "/v1/instance/inst-1/log", "ks-bob").status_code == 404
        trove = api.request("GET", "/v1.0/tenant-a/instances/inst-1/log", "ks-alice")
        assert trove.status_code == 200

        unknown = api.request("GET", "/v1/instance/inst-1/log", "not-a-keystone-token")
        assert unknown.status_code == 401
        forged = api.request(
            "GET",
            "/v1/instance/inst-1/log",
            headers={
                "X-Identity-Status": "Confirmed",
                "X-Project-Id": "tenant-a",
                "X-Roles": "admin",
            },
        )
        assert forged.status_code == 401
        assert keystone.validations >= 3
    finally:
        agent.stop()
        api.stop()
    assert not api.openapi_problems()
