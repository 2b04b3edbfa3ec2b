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
    assert trove.headers["Allow"] == "GET, HEAD"


@pytest.mark.parametrize(
    ("text", "low", "high", "expected"),
    [("0", 0, 5, 0), (" 5 ", 0, 5, 5), ("+3", 0, 5, 3), ("-7", -9, 9, -7), ("007", 0, 9, 7)],
)
def test_whole_numbers(text, low, high, expected):
    assert bodies.whole_number("n", text, low, high) == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("abc", "n must be a whole number from -10 to 10, not 'abc'"),
        ("1.5", "n must be a whole number from -10 to 10, not '1.5'"),
        ("", "n must be a whole number from -10 to 10, not ''"),
        ("- 1", "n must be a whole number from -10 to 10, not '- 1'"),
        ("\u0661", "n must be a whole number from -10 to 10"),  # a digit, not an ASCII one
        ("\u00b2", "n must be a whole number from -10 to 10"),  # int() refuses it: no 500
        ("11", "n must be at most 10, not '11'"),
        ("-11", "n must be at least -10, not '-11'"),
        ("9" * 23, "n must be at most 10, not '99999999999999999999999'"),
        ("-" + "9" * 5000, "n must be at least -10, not '-99999999999999999999999999999999999"),
    ],
)
def test_whole_numbers_refused_say_why_and_the_limits(text, words):
    with pytest.raises(BadRequest) as caught:
        bodies.whole_number("n", text, -10, 10)
    assert caught.value.message.startswith(words), caught.value.message


GOOD_TENANTS = [
    "tenant-a",
    "t",
    "admin-project",
    "4c2b8f6a0d9e4f7bb1e2c3d4e5f60718",  # a Keystone project id
    "My_Project.v2",
    "x" * 64,
    "...",
]
BAD_TENANTS = ["../x", "..", ".", "a/b", "a b", "é", "x" * 65, "", " ", "t\n", "a%2Fb", "a\\b"]


@pytest.mark.parametrize("tenant", GOOD_TENANTS)
def test_tenant_ids_that_projects_have_are_registered(client, tenant):
    register(client, tenant=tenant)
    listed = client.get("/v1/instance", query_string={"tenant_id": tenant}, headers=ADMIN)
    assert [i["tenant_id"] for i in listed.get_json()["instances"]] == [tenant]


@pytest.mark.parametrize("tenant", BAD_TENANTS)
def test_tenant_ids_that_cannot_be_a_projects_are_400_naming_the_field(client, tenant):
    body = {"tenant_id": tenant, "datastore": "mysql", "agent_url": "http://h:1"}
    resp = client.put("/v1/instance/inst-1", json=body, headers=ADMIN)
    assert resp.status_code == 400, resp.get_data(as_text=True)
    assert "tenant_id" in resp.get_json()["error"]["message"]
    listed = client.get("/v1/instance", query_string={"tenant_id": tenant}, headers=ADMIN)
    assert listed.status_code == 400, listed.get_data(as_text=True)
    assert "tenant_id" in listed.get_json()["error"]["message"]
    assert client.get("/v1/instance", headers=ADMIN).get_json() == {"instances": []}


@pytest.mark.parametrize("tenant", ["..", ".", "x" * 65, "a b", "a%5Cb"])
def test_a_trove_url_whose_tenant_id_cannot_be_one_is_400(client, tenant):
    for path in (f"/v1.0/{tenant}/instances", f"/v1.0/{tenant}/instances/inst-1/log"):
        resp = client.get(path, headers=ADMIN)
        assert resp.status_code == 400, (path, resp.get_data(as_text=True))
        assert "tenant_id" in resp.get_json()["badRequest"]["message"]


def test_the_read_route_says_the_limit_of_lines(client):
    register(client)
    path = "/v1/instance/inst-1/log/general/data?lines=99999999999999999999999"
    resp = client.get(path, headers=ALICE)
    assert resp.status_code == 400
    message = resp.get_json()["error"]["message"]
    assert message.startswith(f"lines must be at most {2**63 - 1} "), message
