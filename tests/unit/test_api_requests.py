"""What the API makes of what clients send: flags, bodies, ids, content types, errors."""

import pytest

from api import bodies
from logsvc.exceptions import BadRequest
from tests.unit.conftest import ADMIN, ALICE, register


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        (False, False),
        (1, True),
        (0, False),
        (1.0, True),  # JSON (and the OpenAPI document) cannot tell 1.0 from 1
        ("true", True),
        ("False", False),
    ],
)
def test_flags_accept_booleans_0_1_and_true_false_strings(value, expected):
    assert bodies.flag("publish", value) is expected


@pytest.mark.parametrize("value", [2, -1, 0.5, "yes", "1", "", None, [], {}])
def test_other_flag_values_are_refused(value):
    with pytest.raises(BadRequest, match="publish must be true or false"):
        bodies.flag("publish", value)


def test_a_log_request_keeps_only_the_flags_that_are_set():
    assert bodies.log_request({"name": "general", "publish": 1, "discard": "false"}) == (
        "general",
        {"publish": True},
    )
    assert bodies.log_request({"name": "general"}) == ("general", {})


def test_unknown_routes_and_methods_answer_json(client):
    resp = client.get("/v1/nothing", headers=ALICE)
    assert resp.status_code == 404 and resp.get_json()["error"]["code"] == "route_not_found"
    resp = client.patch("/v1/instance/inst-1/log", headers=ALICE)
    assert resp.status_code == 405 and resp.get_json()["error"]["message"]
    resp = client.get("/v1.0/tenant-a/nothing", headers=ALICE)
    assert resp.status_code == 404 and set(resp.get_json()) == {"itemNotFound"}


def test_trove_routes_answer_trove_error_bodies(client):
    register(client)
    url = "/v1.0/tenant-a/instances/inst-1/log"
    resp = client.post(url, json={"name": "x", "publish": "maybe"}, headers=ALICE)
    assert resp.status_code == 400
    assert resp.get_json() == {
        "badRequest": {
            "code": 400,
            "message": 'publish must be true or false (a JSON boolean, 0, 1, "true" or '
            '"false"), not "maybe"',
        }
    }
    resp = client.post(url, data="name=x", headers=ALICE)
    assert resp.status_code == 415 and "badMediaType" in resp.get_json()
    resp = client.get(url)
    assert resp.status_code == 401 and "unauthorized" in resp.get_json()
    resp = client.get(url, headers=ALICE)
    assert resp.status_code == 503 and "serviceUnavailable" in resp.get_json()


@pytest.mark.parametrize(
    ("data", "content_type", "status", "words"),
    [
        (b'{"name": ', "application/json", 400, "not valid JSON"),
        (b'{"name": "x"} trailing', "application/json", 400, "not valid JSON"),
        (b"\xff\xfe\xfd", "application/json", 400, "not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", 413, "larger than"),
        (b"[" * 10_000 + b"]" * 10_000, "application/json", 400, "not valid JSON"),
        (b"[[[]]]", "application/json", 400, "JSON object"),
        (b"", "application/json", 400, "required"),
        (b"null", "application/json", 400, "JSON object"),
        (b'{"name": "x"}', "text/plain", 415, "application/json"),
        (b'{"name": "x"}', "application/json; charset=utf-8", 503, "unreachable"),
        (b'{"name": "x", "pad": "' + b"x" * 70_000 + b'"}', "application/json", 413, "larger"),
    ],
)
def test_bodies_are_checked(client, data, content_type, status, words):
    register(client)
    resp = client.post(
        "/v1/instance/inst-1/log", data=data, content_type=content_type, headers=ALICE
    )
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert words in resp.get_json()["error"]["message"]


@pytest.mark.parametrize("bad", ["..", "a" * 129, "-x", "in st", "é"])
def test_ids_that_cannot_be_instance_ids_are_400(client, bad):
    resp = client.get(f"/v1/instance/{bad}/log", headers=ALICE)
    assert resp.status_code == 400
    assert "not an instance id" in resp.get_json()["error"]["message"]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"datastore": "mysql", "agent_url": "http://h:1"}, "tenant_id is required"),
        ({"tenant_id": "t", "datastore": "My SQL", "agent_url": "http://h:1"}, "datastore"),
        ({"tenant_id": "t", "datastore": "mysql", "agent_url": "ftp://h"}, "agent_url"),
        ({"tenant_id": "t", "datastore": "mysql", "agent_url": "http://h:99999"}, "port"),
        ({"tenant_id": "t", "datastore": "mysql", "agent_url": "http://[::1"}, "well-formed"),
        ({"tenant_id": "t", "datastore": "mysql", "agent_url": "http://h:x1"}, "well-formed"),
        ({"tenant_id": 5, "datastore": "mysql", "agent_url": "http://h:1"}, "tenant_id"),
        ({"tenant_id": "t", "datastore": "mysql", "agent_url": "http://h", "x": 1}, "unknown"),
    ],
)
def test_registrations_are_checked(client, body, words):
    resp = client.put("/v1/instance/inst-1", json=body, headers=ADMIN)
    assert resp.status_code == 400
    assert words in resp.get_json()["error"]["message"]


def test_unknown_query_parameters_are_refused(client):
    resp = client.get("/v1/instance?color=blue", headers=ALICE)
    assert resp.status_code == 400


def test_an_instance_needs_a_secret_when_the_api_has_no_default(tmp_path):
    from tests.unit.conftest import ADMIN, checked_app, make_conf

    conf = make_conf(tmp_path, agent__shared_secret="")
    application, checker = checked_app(conf)
    client = application.test_client()
    body = {"tenant_id": "t", "datastore": "mysql", "agent_url": "http://127.0.0.1:9"}
    refused = client.put("/v1/instance/inst-9", json=body, headers=ADMIN)
    assert refused.status_code == 400
    assert "shared_secret" in refused.get_json()["error"]["message"]
    accepted = client.put(
        "/v1/instance/inst-9", json={**body, "shared_secret": "its-own"}, headers=ADMIN
    )
    assert accepted.status_code == 201
    application.extensions["logsvc"].db.dispose()
    assert not checker.problems


def test_options_is_a_method_like_any_other_not_allowed(client):
    for path in ("/v1/instance", "/v1/instance/inst-1/log"):
        resp = client.options(path, headers=ALICE)
        assert resp.status_code == 405, path
        assert resp.get_json()["error"]["code"] == "method_not_allowed"
    trove = client.options("/v1.0/tenant-a/instances", headers=ALICE)
    assert trove.status_code == 405 and trove.get_json()["badMethod"]["code"] == 405
