"""Heartbeats: signed with the instance's secret, never replayed, stored."""

import json
import time

import pytest

from logsvc.signing import sign
from tests.unit.conftest import ADMIN, ALICE, checked_app, make_conf, register

LOG = {
    "name": "general",
    "type": "USER",
    "status": "Ready",
    "published": 0,
    "pending": 10,
    "container": None,
    "prefix": None,
    "metafile": "inst-1/mysql-general_metafile",
    "publish": None,
}


def beat(client, secret="agent-secret", instance_id="inst-1", logs=None, now=None, **body):
    path = f"/v1/instance/{instance_id}/heartbeat"
    data = json.dumps(
        {"instance_id": instance_id, "datastore": "mysql", "version": "0.1.0", "logs": logs} | body
    ).encode()
    headers = sign(secret, "POST", path, data, now=now, instance=instance_id)
    return client.post(path, data=data, headers=headers, content_type="application/json"), headers


def test_a_heartbeat_records_the_agent_and_its_logs(client, app):
    register(client)
    app.extensions["logsvc"].conf.set_override("log_list_max_age", 60, "api")
    resp, _ = beat(client, logs=[LOG])
    assert resp.status_code == 204
    instance = client.get("/v1/instance/inst-1", headers=ADMIN).get_json()["instance"]
    assert instance["last_heartbeat"] and instance["agent_version"] == "0.1.0"
    # Fresh, and complete for an admin: answered from the database (no agent runs here).
    assert client.get("/v1/instance/inst-1/log", headers=ADMIN).get_json() == {
        "logs": [LOG | {"follow": False}]  # an agent that does not say: not followed
    }
    # A user: exposure is not known from heartbeats, so the agent must be asked;
    # it is unreachable, and the last known state shows no log of unknown exposure.
    stale = client.get("/v1/instance/inst-1/log", headers=ALICE).get_json()
    assert stale["stale"] is True and stale["logs"] == []


def test_heartbeats_with_a_wrong_secret_or_replayed_or_old_are_refused(client):
    register(client)
    assert beat(client, secret="wrong")[0].status_code == 401
    assert beat(client, now=time.time() - 3600)[0].status_code == 401
    resp, headers = beat(client)
    assert resp.status_code == 204
    path = "/v1/instance/inst-1/heartbeat"
    data = json.dumps(
        {"instance_id": "inst-1", "datastore": "mysql", "version": "0.1.0", "logs": None}
    ).encode()
    again = client.post(path, data=data, headers=headers, content_type="application/json")
    assert again.status_code == 401 and again.get_json()["error"]["code"] in (
        "replayed",
        "bad_signature",
    )


def test_a_heartbeat_older_than_the_last_recorded_is_superseded(client):
    # Over the bus, the consumer's threads may take an agent's heartbeats out of
    # order: the older one is refused as superseded (the newer said more), and
    # an exact replay of the newer is still a replay.
    register(client)
    now = time.time()
    newer, headers = beat(client, now=now)
    assert newer.status_code == 204
    older, _ = beat(client, now=now - 5)
    assert older.status_code == 401 and older.get_json()["error"]["code"] == "superseded"
    path = "/v1/instance/inst-1/heartbeat"
    data = json.dumps(
        {"instance_id": "inst-1", "datastore": "mysql", "version": "0.1.0", "logs": None}
    ).encode()
    again = client.post(path, data=data, headers=headers, content_type="application/json")
    assert again.get_json()["error"]["code"] == "replayed"


def test_an_instance_with_its_own_secret_is_checked_with_it(client):
    register(client)
    client.put(
        "/v1/instance/inst-1",
        json={
            "tenant_id": "tenant-a",
            "datastore": "mysql",
            "agent_url": "http://127.0.0.1:9",
            "shared_secret": "own",
        },
        headers=ADMIN,
    )
    assert beat(client)[0].status_code == 401
    assert beat(client, secret="own")[0].status_code == 204


def test_bad_heartbeats(client):
    register(client)
    assert beat(client, instance_id="inst-0")[0].status_code == 404
    # Unsigned, or signed wrong: the same 401 whether the instance exists or not.
    assert beat(client, secret="wrong", instance_id="inst-0")[0].status_code == 401
    assert beat(client, logs=[{"name": "x"}])[0].status_code == 400
    assert beat(client, logs="all")[0].status_code == 400
    assert beat(client, instance_id="inst-1", extra=1)[0].status_code == 400
    resp = client.post("/v1/instance/inst-1/heartbeat", json={})
    assert resp.status_code == 401 and resp.get_json()["error"]["code"] == "unsigned"


def test_without_a_default_secret_unknown_ids_answer_as_known_ones(tmp_path):
    conf = make_conf(tmp_path, agent__shared_secret=None)
    application, checker = checked_app(conf)
    client = application.test_client()
    client.put(
        "/v1/instance/inst-1",
        json={
            "tenant_id": "tenant-a",
            "datastore": "mysql",
            "agent_url": "http://127.0.0.1:9",
            "shared_secret": "own",
        },
        headers=ADMIN,
    )
    for instance_id in ("inst-1", "inst-0"):
        unsigned = client.post(f"/v1/instance/{instance_id}/heartbeat", json={})
        wrong = beat(client, secret="guess", instance_id=instance_id)[0]
        assert (unsigned.status_code, unsigned.get_json()) == (
            401,
            {"error": {"code": "unsigned", "message": "the request is not signed", "status": 401}},
        )
        assert (wrong.status_code, wrong.get_json()["error"]["code"]) == (401, "bad_signature")
    assert beat(client, secret="own")[0].status_code == 204
    application.extensions["logsvc"].db.dispose()
    assert not checker.problems


@pytest.mark.parametrize(
    "change",
    [
        {"published": 2**70},
        {"published": -5},
        {"pending": 1.5},
        {"published": True},
        {"container": {"a": 1}},
        {"container": "c" * 300},
        {"metafile": None},
        {"name": "../etc"},
        {"status": "Sleeping"},
        {"prefix": "inst-2/mysql-general/"},  # another instance's objects
        {"metafile": "inst-2/mysql-general_metafile"},
    ],
)
def test_heartbeat_logs_that_do_not_fit_are_refused(client, change):
    register(client)
    resp, _ = beat(client, logs=[{**LOG, **change}])
    assert resp.status_code == 400, resp.get_data(as_text=True)
    assert "not a log" in resp.get_json()["error"]["message"]


def test_logs_stored_by_racers_meanwhile_are_merged_over(client, app, monkeypatch):
    """Each new log another request stores first costs one more try, never a 500."""
    from api import logstate

    register(client)
    logs = [
        LOG | {"name": name, "metafile": f"inst-1/mysql-{name}_metafile"}
        for name in ("general", "slow_query", "error")
    ]
    now = time.time()
    first = beat(client, logs=logs, now=now)[0]
    assert first.status_code == 204, first.get_json()  # all three stored
    # Seen as stored by nobody, three times over: three racers, each a step ahead.
    real, lies = logstate.known, [[], [], []]
    monkeypatch.setattr(logstate, "known", lambda s, i: lies.pop() if lies else real(s, i))
    assert beat(client, logs=logs, now=now + 1)[0].status_code == 204
    rows = {row.name: row for row in real(app.extensions["logsvc"].db.sessions(), "inst-1")}
    assert set(rows) == {"general", "slow_query", "error"} and not lies
