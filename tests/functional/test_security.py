"""Who gets in where, on real processes: tenants, unexposed logs, hostile ids and names,
forged trace headers, body sizes, and secrets in the daemons' log files.

One API and one agent serve the whole module (the `file` datastore: logs
big, small and hidden, hidden not exposed), with secrets of their own, debug
logging and tracing on; the last test reads the log files they wrote.

Covered elsewhere, not repeated here: the agent refusing unsigned, wrong-key,
stale, tampered and replayed requests (test_agent_service.py
::test_refused_requests); no secret in Guru Meditation Reports, status
reports and traces (test_agent_operations.py, test_api_operations.py,
test_status.py); a trace signed with no key or the wrong key through the
CLI (test_api_operations.py::test_no_trace_without_the_key).
"""

import base64
import http.client
import json
import re
import secrets
import time
import uuid

import pytest
import requests
from osprofiler import _utils as osprofiler_utils

from logsvc.signing import sign
from tests.apistack import INSTANCE, OTHER_TENANT, TENANT, Stack
from tests.processes import ApiProcess

MISSING = "inst-nope"
SHARED_SECRET = f"shared-{secrets.token_hex(8)}"
TRACE_KEY = f"trace-{secrets.token_hex(8)}"
LOGS = ("big", "small", "hidden", "guest")


@pytest.fixture(scope="module")
def stack(tmp_path_factory, devswift):
    home = tmp_path_factory.mktemp("security")
    profiler = {
        "enabled": "true",
        "hmac_keys": TRACE_KEY,
        "trace_requests": "true",
        "connection_string": f"file://{home / 'traces'}",
    }
    s = Stack(
        home,
        devswift,
        api_sections={
            "DEFAULT": {"debug": "true"},
            "agent": {"shared_secret": SHARED_SECRET},
            "profiler": profiler,
        },
        agent_sections={
            "DEFAULT": {"debug": "true"},
            "agent": {"shared_secret": SHARED_SECRET},
            "profiler": profiler,
        },
    )
    s.agent.secret = SHARED_SECRET  # the test signs its own requests to the agent with it
    s.start()
    s.paths["small"].write_bytes(b"alice's data\n")
    s.paths["hidden"].write_bytes(b"hidden data\n")
    s.swift_key = devswift.credentials()["key"]
    yield s
    s.stop()


def raw(stack: Stack, method: str, path: str, token: str | None = None, body=None, headers=None):
    """A request sent as written: no client-side normalisation of the path.

    Returns (status, headers, body bytes).
    """
    conn = http.client.HTTPConnection("127.0.0.1", stack.api.port, timeout=60)
    try:
        sent = dict(headers or {})
        if token:
            sent["X-Auth-Token"] = token
        data = body
        if body is not None and not isinstance(body, bytes):
            data = json.dumps(body).encode()
            sent.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=data, headers=sent)
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


# --- tenants ---------------------------------------------------------------------------

# (method, URL template, body); {id} is the instance, {tenant} the tenant in Trove's URLs.
ROUTES = [
    ("GET", "/v1/instance/{id}", None),
    (
        "PUT",
        "/v1/instance/{id}",
        {"tenant_id": OTHER_TENANT, "datastore": "file", "agent_url": "http://127.0.0.1:9"},
    ),
    ("DELETE", "/v1/instance/{id}", None),
    ("GET", "/v1/instance/{id}/log", None),
    ("POST", "/v1/instance/{id}/log", {"name": "small"}),
    ("POST", "/v1/instance/{id}/log", {"name": "small", "publish": True}),
    ("POST", "/v1/instance/{id}/log", {"name": "small", "enable": True}),
    ("POST", "/v1/instance/{id}/log", {"name": "small", "disable": True}),
    ("POST", "/v1/instance/{id}/log", {"name": "small", "discard": True}),
    ("POST", "/v1/instance/{id}/log", {"name": "nope"}),
    ("POST", "/v1/instance/{id}/log", {"name": "Bad..Name"}),
    ("GET", "/v1.0/{tenant}/instances/{id}", None),
    ("GET", "/v1.0/{tenant}/instances/{id}/log", None),
    ("POST", "/v1.0/{tenant}/instances/{id}/log", {"name": "small"}),
    ("POST", "/v1.0/{tenant}/instances/{id}/log", {"name": "small", "publish": 1}),
    ("POST", "/v1.0/{tenant}/instances/{id}/log", {"name": "hidden", "discard": "true"}),
    ("GET", "/v1/instance/{id}/log/small/data?lines=5", None),
    ("GET", "/v1.0/{tenant}/instances/{id}/log/hidden/data", None),
]


@pytest.mark.parametrize("tenant", [OTHER_TENANT, TENANT])
@pytest.mark.parametrize(("method", "template", "body"), ROUTES)
def test_another_tenants_instance_answers_exactly_like_a_missing_one(
    stack, method, template, body, tenant
):
    """Bob (OTHER_TENANT) asks about alice's inst-1, and about an instance that does not exist.

    `tenant` is the tenant in Trove's URLs: bob's own, or alice's.
    """
    answers = []
    for instance_id in (INSTANCE, MISSING):
        path = template.format(id=instance_id, tenant=tenant)
        status, _, data = raw(stack, method, path, stack.bob, body)
        answers.append((status, data.decode().replace(instance_id, "<id>")))
    assert answers[0] == answers[1]
    status, text = answers[0]
    assert status in (400, 403, 404), text
    for leak in (TENANT, "db-one", stack.agent.url, "alice"):
        assert leak not in text
    assert stack.published("small") == b""  # and bob's actions did nothing


def test_a_trove_listing_of_another_tenant_answers_like_one_of_no_tenant(stack):
    answers = []
    for tenant in (TENANT, "tenant-that-does-not-exist"):
        status, _, data = raw(stack, "GET", f"/v1.0/{tenant}/instances", stack.bob)
        answers.append((status, data.decode().replace(tenant, "<tenant>")))
    assert answers[0] == answers[1] and answers[0][0] == 403


def test_listings_show_only_the_callers_instances(stack):
    assert stack.api.request("GET", "/v1/instance", stack.bob).json() == {"instances": []}
    filtered = stack.api.request("GET", f"/v1/instance?tenant_id={TENANT}", stack.bob)
    assert filtered.status_code == 200 and filtered.json() == {"instances": []}
    trove = stack.api.request("GET", f"/v1.0/{OTHER_TENANT}/instances", stack.bob).json()
    assert trove["instances"] == []
    mine = stack.api.request("GET", "/v1/instance", stack.alice).json()["instances"]
    assert [i["id"] for i in mine] == [INSTANCE]
    everyone = stack.api.request("GET", "/v1/instance", stack.admin).json()["instances"]
    assert INSTANCE in {i["id"] for i in everyone}


@pytest.mark.parametrize("how", ["unsigned", "wrong key", "a tenant's token as the key"])
def test_a_heartbeat_tells_nothing_of_which_instances_exist(stack, how):
    answers = []
    for instance_id in (INSTANCE, MISSING):
        path = f"/v1/instance/{instance_id}/heartbeat"
        body = json.dumps(
            {"instance_id": instance_id, "datastore": "file", "version": "1", "logs": []}
        ).encode()
        headers = {"Content-Type": "application/json"}
        if how == "wrong key":
            headers.update(sign("not-the-secret", "POST", path, body, instance=instance_id))
        elif how == "a tenant's token as the key":
            headers.update(sign(stack.bob, "POST", path, body, instance=instance_id))
        status, _, data = raw(stack, "POST", path, body=body, headers=headers)
        answers.append((status, data.decode().replace(instance_id, "<id>")))
    assert answers[0] == answers[1]
    assert answers[0][0] == 401


def test_without_a_default_secret_a_heartbeat_tells_nothing_either(tmp_path):
    api = ApiProcess(tmp_path, agent_secret="").start()
    try:
        admin = api.token("admin-project", "admin")
        registration = {
            "tenant_id": "tenant-a",
            "datastore": "file",
            "agent_url": "http://127.0.0.1:9",
            "shared_secret": "its-own-secret",
        }
        assert api.request("PUT", "/v1/instance/inst-own", admin, registration).ok
        answers = []
        for instance_id in ("inst-own", "inst-nope"):
            path = f"/v1/instance/{instance_id}/heartbeat"
            body = {"instance_id": instance_id, "datastore": "file", "version": "1", "logs": []}
            resp = api.request("POST", path, body=body)
            answers.append((resp.status_code, resp.text.replace(instance_id, "<id>")))
        assert answers[0] == answers[1] and answers[0][0] == 401
    finally:
        api.stop()
    assert not api.openapi_problems()


# --- unexposed logs --------------------------------------------------------------------


@pytest.mark.parametrize(
    "flags", [{}, {"publish": True}, {"enable": True}, {"disable": True}, {"discard": True}]
)
@pytest.mark.parametrize("route", ["spec", "trove"])
def test_an_unexposed_log_answers_the_owner_like_a_missing_one(stack, flags, route):
    path = (
        f"/v1/instance/{INSTANCE}/log"
        if route == "spec"
        else f"/v1.0/{TENANT}/instances/{INSTANCE}/log"
    )
    answers = []
    for name in ("hidden", "nope"):
        status, _, data = raw(stack, "POST", path, stack.alice, {"name": name, **flags})
        answers.append((status, data.decode().replace(name, "<log>")))
    assert answers[0] == answers[1] and answers[0][0] == 404
    listed = stack.api.request("GET", path, stack.alice).json()["logs"]
    assert "hidden" not in {e["name"] for e in listed}
    hidden_prefix = f"{INSTANCE}/file-hidden/"
    assert list(stack.store.list_objects(stack.container, hidden_prefix)) == []


def test_an_admin_sees_and_acts_on_the_unexposed_log(stack):
    listed = stack.logs(stack.admin).json()["logs"]
    assert "hidden" in {e["name"] for e in listed}
    resp = stack.post(stack.admin, {"name": "hidden", "publish": True})
    assert resp.status_code == 200 and resp.json()["log"]["published"] == len(b"hidden data\n")
    # what an admin did is not shown to the owner afterwards either
    assert "hidden" not in {e["name"] for e in stack.logs(stack.alice).json()["logs"]}
    assert stack.post(stack.alice, {"name": "hidden"}).status_code == 404
    assert stack.post(stack.admin, {"name": "hidden", "discard": True}).status_code == 200


# --- hostile ids and names ---------------------------------------------------------------

HOSTILE_IDS = [
    "..",
    "%2E%2E",
    "..%2F..%2Fetc",
    "inst-1%2F..%2Finst-2",
    "inst-1%2Ffile-small",
    "a" * 129,
    "a" * 3000,
    "%C3%AFnst",  # unicode
    "%E6%97%A5%E6%9C%AC",
    "inst-1%00",
    "%00",
    "%0A",
    "inst%0D%0AX-Injected:%201",
    "%09inst",
    ".inst",
    "-inst",
    "inst%20one",
    "inst-1%25",
]


def object_names(stack: Stack) -> list[str]:
    return [o.name for o in stack.store.list_objects(stack.container)]


OBJECT_NAME = re.compile(rf"^{INSTANCE}/file-({'|'.join(LOGS)})(/log-\d{{8}}-\d{{20}}|_metafile)$")


def assert_everything_in_its_place(stack: Stack) -> None:
    for name in object_names(stack):
        assert OBJECT_NAME.match(name), name
    state = stack.agent.dir / "state"
    # nonces: replays; <log>.publish: the outcome of its last publish
    own = re.compile(rf"^(\.?({'|'.join(LOGS)})\.(state|lock|publish)|nonces)$")
    for entry in state.iterdir():
        assert own.match(entry.name), entry.name
    admin_view = stack.api.request("GET", "/v1/instance", stack.admin).json()["instances"]
    assert {i["id"] for i in admin_view} <= {INSTANCE, "inst-fuzz"}


@pytest.mark.parametrize("hostile", HOSTILE_IDS)
def test_hostile_instance_ids_steer_nothing(stack, hostile):
    registration = {"tenant_id": TENANT, "datastore": "file", "agent_url": stack.agent.url}
    asked = [
        ("PUT", f"/v1/instance/{hostile}", stack.admin, registration),
        ("GET", f"/v1/instance/{hostile}", stack.admin, None),
        ("DELETE", f"/v1/instance/{hostile}", stack.admin, None),
        ("GET", f"/v1/instance/{hostile}/log", stack.alice, None),
        ("POST", f"/v1/instance/{hostile}/log", stack.alice, {"name": "small", "publish": 1}),
        ("POST", f"/v1/instance/{hostile}/heartbeat", None, {"instance_id": "x"}),
        ("GET", f"/v1.0/{TENANT}/instances/{hostile}/log", stack.alice, None),
        ("POST", f"/v1.0/{hostile}/instances/{INSTANCE}/log", stack.alice, {"name": "small"}),
        ("GET", f"/v1.0/{hostile}/instances", stack.alice, None),
    ]
    for method, path, token, body in asked:
        status, headers, data = raw(stack, method, path, token, body)
        assert status in (400, 401, 403, 404, 405, 414), (method, path, status, data)
        assert "X-Injected" not in headers
        if status != 414:  # the HTTP server's own refusal of a line too long
            assert headers["Content-Type"].startswith("application/json"), (path, data)
            assert b"Traceback" not in data
    assert_everything_in_its_place(stack)


HOSTILE_NAMES = [
    "..",
    "../small",
    "small/../big",
    "/etc/passwd",
    "a/b",
    "small%2F..%2Fbig",
    "small\x00",
    "\x00",
    "\r\nX-Injected: 1",
    "x" * 65,
    "x" * 20000,
    "sm\u00e4ll",
    "\u65e5\u672c",
    "SMALL",
    "",
    " ",
    "small ",
    "_metafile",
]


@pytest.mark.parametrize("hostile", HOSTILE_NAMES)
def test_hostile_log_names_through_the_api_steer_nothing(stack, hostile):
    for path in (f"/v1/instance/{INSTANCE}/log", f"/v1.0/{TENANT}/instances/{INSTANCE}/log"):
        for token in (stack.alice, stack.admin):
            resp = stack.api.request("POST", path, token, {"name": hostile, "publish": True})
            assert resp.status_code == 400, (hostile, resp.text)
            assert "not a log name" in resp.text
    assert_everything_in_its_place(stack)


AGENT_PATHS = [
    "/v1/logs/..",
    "/v1/logs/..%2F..%2Fetc%2Fpasswd",
    "/v1/logs/%2E%2E",
    "/v1/logs/small%2F..%2Fbig",
    "/v1/logs/small%00",
    "/v1/logs/%0A",
    "/v1/logs/sm%C3%A4ll",
    "/v1/logs/" + "x" * 65,
    "/v1/logs/" + "x" * 3000,
    "/v1/logs/_metafile",
    "/v1/logs/SMALL",
    "/v1/logs/small/..",
]


@pytest.mark.parametrize("path", AGENT_PATHS)
def test_hostile_log_names_sent_to_the_agent_steer_nothing(stack, path):
    """Signed as the API signs, so that only the name can be wrong."""
    body = json.dumps({"admin": True, "publish": True}).encode()
    for method, data in (("GET", b""), ("POST", body)):
        headers = sign(SHARED_SECRET, method, path, data, instance=INSTANCE)
        if data:
            headers["Content-Type"] = "application/json"
        conn = http.client.HTTPConnection("127.0.0.1", stack.agent.port, timeout=60)
        try:
            conn.request(method, path, body=data or None, headers=headers)
            resp = conn.getresponse()
            status, answer = resp.status, resp.read()
        finally:
            conn.close()
        # 401: the agent signs the decoded path, so an encoded one no longer matches
        assert status in (400, 401, 404, 405, 414), (method, path, status, answer)
        assert b"Traceback" not in answer
    assert_everything_in_its_place(stack)


# --- forged trace headers ------------------------------------------------------------------


def trace_headers(key: str | None) -> dict[str, str]:
    info = {"base_id": str(uuid.uuid4()), "parent_id": str(uuid.uuid4())}
    packed, hmac = osprofiler_utils.signed_pack(info, key)
    headers = {"X-Trace-Info": packed.decode()}
    if hmac:
        headers["X-Trace-HMAC"] = hmac
    return headers


def traces(stack: Stack) -> list:
    store = stack.dir / "traces"
    return sorted(store.iterdir()) if store.exists() else []


@pytest.mark.parametrize(
    "forgery", ["no HMAC", "garbage HMAC", "wrong key", "HMAC of other data", "bad base64"]
)
def test_forged_trace_headers_trace_nothing(stack, forgery):
    before = traces(stack)
    if forgery == "no HMAC":
        headers = trace_headers(None)
    elif forgery == "garbage HMAC":
        headers = {**trace_headers(None), "X-Trace-HMAC": "0" * 40}
    elif forgery == "wrong key":
        headers = trace_headers("not-the-key")
    elif forgery == "HMAC of other data":
        headers = {**trace_headers(None), "X-Trace-HMAC": trace_headers(TRACE_KEY)["X-Trace-HMAC"]}
    else:
        headers = {"X-Trace-Info": "!!not base64!!", "X-Trace-HMAC": "00"}
    resp = stack.api.request(
        "POST", f"/v1/instance/{INSTANCE}/log", stack.alice, {"name": "small"}, headers=headers
    )
    assert resp.status_code == 200
    path = "/v1/logs"
    agent_headers = {**sign(SHARED_SECRET, "GET", path, b"", instance=INSTANCE), **headers}
    assert requests.get(stack.agent.url + path, headers=agent_headers).status_code == 200
    time.sleep(0.5)  # traces are written as the request ends
    assert traces(stack) == before


def test_a_trace_signed_with_the_key_is_recorded(stack):
    """The counterpart of the forgeries: the setup does trace what it should."""
    before = traces(stack)
    resp = stack.api.request(
        "GET", f"/v1/instance/{INSTANCE}/log", stack.alice, headers=trace_headers(TRACE_KEY)
    )
    assert resp.status_code == 200
    deadline = time.monotonic() + 10
    while traces(stack) == before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert traces(stack) != before


# --- body sizes ----------------------------------------------------------------------------

LIMIT = 64 * 1024  # [api] max_body_size's default, and the agent's limit


def padded(size: int) -> bytes:
    """A valid log-show body of exactly `size` bytes (JSON padded with spaces)."""
    head = b'{"name": "small"'
    return head + b" " * (size - len(head) - 1) + b"}"


def chunked(conn: http.client.HTTPConnection, method: str, path: str, headers, data: bytes):
    conn.putrequest(method, path)
    for key, value in {**headers, "Transfer-Encoding": "chunked"}.items():
        conn.putheader(key, value)
    conn.endheaders()
    try:
        for i in range(0, len(data), 8192):
            piece = data[i : i + 8192]
            conn.send(b"%x\r\n%s\r\n" % (len(piece), piece))
        conn.send(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server refused the body before its end, as it may: its answer is read
    resp = conn.getresponse()
    return resp.status, resp.read()


@pytest.mark.parametrize(
    "path",
    [
        f"/v1/instance/{INSTANCE}/log",
        f"/v1.0/{TENANT}/instances/{INSTANCE}/log",
        f"/v1/instance/{INSTANCE}",
        f"/v1/instance/{INSTANCE}/heartbeat",
    ],
)
def test_the_api_refuses_bodies_over_its_limit(stack, path):
    json_type = {"Content-Type": "application/json"}
    method = "PUT" if path == f"/v1/instance/{INSTANCE}" else "POST"
    token = stack.admin if method == "PUT" else stack.alice
    if path.endswith("/heartbeat"):  # unsigned, it is refused before its body is read
        json_type.update(sign(SHARED_SECRET, method, path, padded(LIMIT + 1), instance=INSTANCE))
    status, _, data = raw(stack, method, path, token, padded(LIMIT + 1), json_type)
    assert status == 413 and json.loads(data), data
    # a Content-Length far over the limit is refused at once, without reading a body
    conn = http.client.HTTPConnection("127.0.0.1", stack.api.port, timeout=30)
    try:
        conn.putrequest(method, path)
        conn.putheader("X-Auth-Token", token)
        for name, value in json_type.items():
            conn.putheader(name, value)
        conn.putheader("Content-Length", str(10**9))
        conn.endheaders()
        conn.send(b"{}")
        resp = conn.getresponse()
        assert resp.status == 413 and json.loads(resp.read())
    finally:
        conn.close()


def test_the_api_accepts_a_body_at_its_limit(stack):
    status, _, data = raw(
        stack,
        "POST",
        f"/v1/instance/{INSTANCE}/log",
        stack.alice,
        padded(LIMIT),
        {"Content-Type": "application/json"},
    )
    assert status == 200, data
    conn = http.client.HTTPConnection("127.0.0.1", stack.api.port, timeout=30)
    try:
        status, data = chunked(
            conn,
            "POST",
            f"/v1/instance/{INSTANCE}/log",
            {"X-Auth-Token": stack.alice, "Content-Type": "application/json"},
            padded(1000),
        )
        assert status == 200, data
    finally:
        conn.close()


def test_the_agent_refuses_bodies_over_its_limit(stack):
    path = "/v1/logs/small"

    def body(size: int) -> bytes:
        return b'{"admin": true' + b" " * (size - 15) + b"}"

    for size, status in ((LIMIT, 200), (LIMIT + 1, 413)):
        data = body(size)
        assert len(data) == size
        headers = {
            **sign(SHARED_SECRET, "POST", path, data, instance=INSTANCE),
            "Content-Type": "application/json",
        }
        resp = requests.post(stack.agent.url + path, data=data, headers=headers)
        assert resp.status_code == status, resp.text


# --- secrets in log files (last: it reads what the whole module's requests left) -----------


def test_no_configured_secret_in_the_daemons_log_files(stack):
    stack.paths["small"].write_bytes(b"alice's data\nmore\n")
    for body in (
        {"name": "small", "enable": True},
        {"name": "small", "publish": True},
        {"name": "small", "discard": True},
        {"name": "small", "disable": True},
        {"name": "small"},
    ):
        assert stack.post(stack.alice, body).status_code == 200
    stack.logs(stack.alice)
    stack.api.request("GET", "/v1/instance", "lsv_wrong-token")
    stack.api.request("GET", "/v1/instance", stack.alice + "x")
    stack.wait_for_heartbeat()
    time.sleep(1)

    files = [
        stack.api.dir / name for name in ("api.log", "api.stderr", "agent.log", "agent.stderr")
    ]
    text = {f.name: f.read_text(errors="replace") for f in files if f.exists()}
    assert {"api.log", "agent.log"} <= set(text)
    assert "agent" in text["agent.log"] and "logsvc-api" in text["api.log"] + text["api.stderr"]
    forbidden = {
        "the agents' shared secret": SHARED_SECRET,
        "the trace key": TRACE_KEY,
        "alice's token": stack.alice,
        "bob's token": stack.bob,
        "the admin's token": stack.admin,
        "the Swift key": f"X-Auth-Key: {stack.swift_key}",
    }
    for name, content in text.items():
        for what, secret in forbidden.items():
            assert secret not in content, f"{what} in {name}"
        # python-swiftclient logs its requests with the token cut short: never whole
        for token in re.findall(r"X-Auth-Token: (\S+)", content):
            assert token.endswith("...") or token.endswith('..."'), f"a whole token in {name}"
    # The tokens' secret part (after the prefix) is in no log either.
    for token in (stack.alice, stack.bob, stack.admin):
        tail = token.split("_", 1)[-1]
        assert all(tail not in content for content in text.values())
    assert base64.b64encode(SHARED_SECRET.encode()).decode() not in "".join(text.values())


def test_a_trailing_newline_is_no_part_of_a_name_or_an_id(stack):
    resp = stack.post(stack.alice, {"name": "small\n"})
    assert resp.status_code == 400, resp.text
    registration = {"tenant_id": "tenant-a", "datastore": "file", "agent_url": stack.agent.url}
    status, _, data = raw(stack, "PUT", "/v1/instance/inst-2%0A", stack.admin, registration)
    assert status == 400, data
    status, _, data = raw(stack, "GET", f"/v1/instance/{INSTANCE}%0A/log", stack.alice)
    assert status == 400, data


def test_an_empty_path_segment_is_a_json_404_not_a_redirect(stack):
    for path in ("/v1/instance/%2F/log", "/v1//instance", f"/v1/instance//{INSTANCE}/log"):
        status, headers, data = raw(stack, "GET", path, stack.alice)
        assert status in (400, 404), (path, status, data)
        assert headers["Content-Type"].startswith("application/json"), (path, data)


def test_a_chunked_body_over_the_limit_is_refused_not_cut(stack):
    path = f"/v1/instance/{INSTANCE}/log"
    headers = {"X-Auth-Token": stack.alice, "Content-Type": "application/json"}
    for body in (padded(4 * LIMIT), padded(LIMIT) + b" " * 10 + b"and more"):
        conn = http.client.HTTPConnection("127.0.0.1", stack.api.port, timeout=30)
        try:
            status, data = chunked(conn, "POST", path, headers, body)
        finally:
            conn.close()
        assert status == 413, data
    body = b'{"admin": true' + b" " * (4 * LIMIT) + b"}"
    signed = {
        **sign(SHARED_SECRET, "POST", "/v1/logs/small", body, instance=INSTANCE),
        "Content-Type": "application/json",
    }
    conn = http.client.HTTPConnection("127.0.0.1", stack.agent.port, timeout=30)
    try:
        status, data = chunked(conn, "POST", "/v1/logs/small", signed, body)
    finally:
        conn.close()
    assert status == 413, data
    assert json.loads(data)
