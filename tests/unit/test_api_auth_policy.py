"""Who the caller is (each strategy), what the policy lets them do, tenants kept apart."""

import pytest
import requests_mock
from oslo_policy import policy as oslo_policy
from sqlalchemy.orm import Session

from api import auth, policies
from api.models import Token
from logsvc.exceptions import Unauthorized
from tests.unit.conftest import ADMIN, ALICE, BOB, checked_app, make_conf, register


def test_noauth_takes_the_headers_or_a_project_roles_token():
    strategy = auth.NoauthStrategy()
    caller = strategy.authenticate({"X-Project-Id": "p", "X-Roles": "a, b"}, None)
    assert (caller.project_id, caller.roles) == ("p", frozenset({"a", "b"}))
    caller = strategy.authenticate({"X-Auth-Token": "p2:admin"}, None)
    assert (caller.project_id, caller.roles) == ("p2", frozenset({"admin"}))
    with pytest.raises(Unauthorized):
        strategy.authenticate({}, None)


def test_keystone_trusts_only_a_confirmed_identity_scoped_to_a_project(tmp_path):
    strategy = auth.KeystoneStrategy(make_conf(tmp_path))
    confirmed = {"X-Identity-Status": "Confirmed", "X-Project-Id": "p", "X-Roles": "member"}
    assert strategy.authenticate(confirmed, None).project_id == "p"
    for headers in (
        {**confirmed, "X-Identity-Status": "Invalid"},
        {"X-Project-Id": "p", "X-Roles": "admin"},
        {"X-Identity-Status": "Confirmed", "X-Roles": "admin"},
    ):
        with pytest.raises(Unauthorized):
            strategy.authenticate(headers, None)


def test_keystone_mode_strips_forged_identity_headers(tmp_path):
    """keystonemiddleware runs in front: identity headers a client sends never arrive.

    No Keystone runs here: a request without a token is decided by the API
    (delay_auth_decision), which sees X-Identity-Status: Invalid whatever the
    client claimed.
    """
    conf = make_conf(
        tmp_path,
        "[keystone_authtoken]\nwww_authenticate_uri = http://127.0.0.1:9/v3\n",
        api__auth_strategy="keystone",
    )
    app, checker = checked_app(conf)
    client = app.test_client()
    forged = {"X-Identity-Status": "Confirmed", "X-Project-Id": "tenant-a", "X-Roles": "admin"}
    resp = client.get("/v1/instance", headers=forged)
    assert resp.status_code == 401
    assert "Keystone token" in resp.get_json()["error"]["message"]
    assert "http://127.0.0.1:9/v3" in resp.headers.get("WWW-Authenticate", "")
    assert client.get("/").status_code == 200  # what needs no token still answers
    app.extensions["logsvc"].db.dispose()
    assert not checker.problems


def test_tokens_are_stored_hashed_and_map_to_a_project_and_roles(app):
    token = auth.new_token()
    db = app.extensions["logsvc"].db
    with Session(db.engine) as session:
        session.add(Token(token_hash=auth.hash_token(token), project_id="p", roles="admin,x"))
        session.commit()
        stored = session.query(Token).one()
        assert token not in (stored.token_hash, stored.roles) and len(stored.token_hash) == 64
        caller = auth.TokenStrategy().authenticate({"X-Auth-Token": token}, session)
        assert (caller.project_id, caller.roles) == ("p", frozenset({"admin", "x"}))
        with pytest.raises(Unauthorized):
            auth.TokenStrategy().authenticate({"X-Auth-Token": token + "x"}, session)


def test_a_tenant_gets_the_same_404_for_another_tenants_instance_as_for_none(client):
    register(client)
    routes = [
        ("get", "/v1/instance/{}"),
        ("delete", "/v1/instance/{}"),
        ("get", "/v1/instance/{}/log"),
        ("post", "/v1/instance/{}/log"),
        ("get", "/v1.0/tenant-b/instances/{}"),
        ("get", "/v1.0/tenant-b/instances/{}/log"),
        ("post", "/v1.0/tenant-b/instances/{}/log"),
        ("get", "/v1.0/tenant-a/instances/{}/log"),
    ]
    for method, url in routes:
        kwargs = {"json": {"name": "general"}} if method == "post" else {}
        theirs = getattr(client, method)(url.format("inst-1"), headers=BOB, **kwargs)
        missing = getattr(client, method)(url.format("inst-0"), headers=BOB, **kwargs)
        assert theirs.status_code == missing.status_code == 404, url
        assert theirs.get_data().replace(b"inst-1", b"inst-0") == missing.get_data(), url
    assert client.get("/v1/instance", headers=BOB).get_json() == {"instances": []}
    assert client.get("/v1.0/tenant-b/instances", headers=BOB).get_json()["instances"] == []
    assert client.get("/v1.0/tenant-a/instances", headers=BOB).status_code == 403


def test_admins_see_every_project_and_the_agent_address(client):
    register(client, "inst-1", "tenant-a")
    register(client, "inst-2", "tenant-b")
    everything = client.get("/v1/instance", headers=ADMIN).get_json()["instances"]
    assert {i["id"] for i in everything} == {"inst-1", "inst-2"}
    assert all("agent_url" in i for i in everything)
    only_b = client.get("/v1/instance?tenant_id=tenant-b", headers=ADMIN).get_json()
    assert [i["id"] for i in only_b["instances"]] == ["inst-2"]
    mine = client.get("/v1/instance", headers=ALICE).get_json()["instances"]
    assert [i["id"] for i in mine] == ["inst-1"] and "agent_url" not in mine[0]


def test_a_policy_file_overrides_the_defaults(tmp_path):
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text('"logsvc:log:publish": "rule:context_is_admin"\n')
    conf = make_conf(tmp_path)
    conf.set_override("policy_file", str(policy_file), "oslo_policy")
    app, checker = checked_app(conf)
    client = app.test_client()
    register(client)
    resp = client.post("/v1/instance/inst-1/log", json={"name": "g", "publish": 1}, headers=ALICE)
    assert resp.status_code == 403
    assert "logsvc:log:publish" in resp.get_json()["error"]["message"]
    # Still allowed (and so dispatched: the agent is unreachable here).
    resp = client.post("/v1/instance/inst-1/log", json={"name": "g", "enable": 1}, headers=ALICE)
    assert resp.status_code == 503
    app.extensions["logsvc"].db.dispose()
    assert not checker.problems


def test_seeing_unexposed_logs_is_judged_on_the_instances_project(tmp_path):
    """An owner-style rule for unexposed logs means the instance's owner, not any caller
    (each caller owns their own project): an auditor allowed to see every instance
    still gets only the exposed logs of another project's instance."""
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(
        '"logsvc:instance:show": "rule:admin_or_owner or role:auditor"\n'
        '"logsvc:log:list": "rule:admin_or_owner or role:auditor"\n'
        '"logsvc:log:see_unexposed": "rule:admin_or_owner"\n'
    )
    conf = make_conf(tmp_path)
    conf.set_override("policy_file", str(policy_file), "oslo_policy")
    app, checker = checked_app(conf)
    client = app.test_client()
    agent_url = "http://agent.invalid:8790"
    register(client, "inst-1", "tenant-a", agent_url=agent_url)
    auditor = {"X-Project-Id": "audit", "X-Roles": "auditor"}
    with requests_mock.Mocker(session=app.extensions["logsvc"].http) as agent:
        agent.get(f"{agent_url}/v1/logs", json={"logs": []})
        for headers, admin in ((auditor, "false"), (ALICE, "true")):
            resp = client.get("/v1/instance/inst-1/log", headers=headers)
            assert resp.status_code == 200, resp.get_data(as_text=True)
            assert agent.last_request.qs["admin"] == [admin]
    app.extensions["logsvc"].db.dispose()
    assert not checker.problems


def test_a_changed_policy_file_takes_effect_without_a_look_at_every_check(tmp_path, monkeypatch):
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text('"logsvc:log:publish": "rule:context_is_admin"\n')
    conf = make_conf(tmp_path)
    conf.set_override("policy_file", str(policy_file), "oslo_policy")
    enforcer = policies.make_enforcer(conf)
    alice = auth.Caller(project_id="tenant-a", roles=frozenset({"member"}))
    clock = [1000.0]
    enforcer.clock = lambda: clock[0]
    looks = []
    real = oslo_policy.Enforcer.load_rules
    monkeypatch.setattr(
        oslo_policy.Enforcer, "load_rules", lambda self, *a: looks.append(1) or real(self, *a)
    )
    checks = [
        policies.allowed(enforcer, alice, policies.LOG_PUBLISH, "tenant-a") for _ in range(50)
    ]
    assert checks == [False] * 50 and len(looks) == 1
    policy_file.write_text('"logsvc:log:publish": "rule:admin_or_owner"\n')
    clock[0] += policies.POLICY_CHECK_INTERVAL
    assert policies.allowed(enforcer, alice, policies.LOG_PUBLISH, "tenant-a")
    assert len(looks) == 2
