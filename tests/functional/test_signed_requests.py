"""Hostile signing headers and heartbeats against the real agent and the real API.

Every one is refused with a 401 or a 400 and a JSON error: no 500, no
traceback in the answer or in the daemon's log.
"""

import hashlib
import hmac
import http.client
import json
import uuid

import pytest

from logsvc.signing import sign
from tests.processes import AgentProcess, ApiProcess, swift_settings

SECRET = "agent-secret"  # the agents' shared secret of both fixtures
ONE = "inst-one"  # registered with its own secret
OWN_SECRET = "inst-one-own-secret"
TWO = "inst-two"  # registered without: the shared secret signs for it


@pytest.fixture(scope="module")
def agent(tmp_path_factory, devswift):
    home = tmp_path_factory.mktemp("signed-agent")
    log = home / "small.log"
    log.write_bytes(b"a line\n")
    proc = AgentProcess(
        home,
        {
            "DEFAULT": {"guest_log_container_name": f"logs-{uuid.uuid4().hex[:8]}"},
            "storage": {"backend": "swift"},
            "swift": swift_settings(devswift),
            "file_datastore": {"logs": f"small:USER:{log}"},
        },
        secret=SECRET,
    ).start()
    yield proc
    proc.stop()
    assert "Traceback" not in (home / "agent.log").read_text(errors="replace")


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    home = tmp_path_factory.mktemp("signed-api")
    proc = ApiProcess(home, agent_secret=SECRET).start()
    admin = proc.token("admin-project", "admin")
    for instance_id, extra in ((ONE, {"shared_secret": OWN_SECRET}), (TWO, {})):
        body = {"tenant_id": "tenant-a", "datastore": "file", "agent_url": "http://127.0.0.1:9"}
        resp = proc.request("PUT", f"/v1/instance/{instance_id}", admin, {**body, **extra})
        assert resp.status_code in (200, 201), resp.text
    proc.admin = admin
    yield proc
    proc.stop()
    assert not proc.openapi_problems()
    assert "Traceback" not in (home / "api.log").read_text(errors="replace")


def send(port: int, method: str, path: str, body: bytes, headers) -> tuple[int, dict]:
    """A request sent as written (header values as bytes: no client-side re-encoding)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, body=body or None, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
    finally:
        conn.close()
    assert b"Traceback" not in data
    return resp.status, json.loads(data) if data else {}


def signed_as(secret: str, timestamp: str, method: str, path: str, body: bytes, instance: str):
    """Headers signed with `secret` for a timestamp `sign` would never write."""
    nonce = uuid.uuid4().hex
    digest = hashlib.sha256(body).hexdigest()
    message = "\n".join([method, path, timestamp, nonce, instance, digest]).encode()
    mac = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return {"X-Logsvc-Timestamp": timestamp, "X-Logsvc-Nonce": nonce, "X-Logsvc-Signature": mac}


def hostile(headers: dict[str, str], case: str) -> dict:
    """`headers` with one signing header made non-ASCII or malformed, as raw bytes."""
    name, value = {
        "signature é": ("X-Logsvc-Signature", "é".encode() * 32),
        "signature latin-1": ("X-Logsvc-Signature", b"\xe9" * 64),
        "signature short": ("X-Logsvc-Signature", b"0" * 10),
        "nonce é": ("X-Logsvc-Nonce", "é".encode() * 16),
        "nonce with spaces": ("X-Logsvc-Nonce", b"a nonce of words"),
        "timestamp é": ("X-Logsvc-Timestamp", ("\u0661\u0667" + "\u0660" * 8).encode()),
        "timestamp exponent": ("X-Logsvc-Timestamp", b"1.7e9"),
    }[case]
    return {**headers, name: value}


CASES = [
    "signature é",
    "signature latin-1",
    "signature short",
    "nonce é",
    "nonce with spaces",
    "timestamp é",
    "timestamp exponent",
]


def heartbeat_body(instance_id: str, logs=None) -> bytes:
    return json.dumps(
        {"instance_id": instance_id, "datastore": "file", "version": "1", "logs": logs}
    ).encode()


@pytest.mark.parametrize("case", CASES)
def test_malformed_signing_headers_are_a_401_at_the_agent(agent, case):
    path = "/v1/logs/small"
    headers = hostile(sign(SECRET, "GET", path, instance=agent.instance_id), case)
    status, answer = send(agent.port, "GET", path, b"", headers)
    assert (status, answer["error"]["code"]) == (401, "bad_signature")


@pytest.mark.parametrize("case", CASES)
def test_malformed_signing_headers_are_a_401_at_the_heartbeat_route(api, case):
    path = f"/v1/instance/{TWO}/heartbeat"
    body = heartbeat_body(TWO)
    headers = hostile(sign(SECRET, "POST", path, body, instance=TWO), case)
    headers["Content-Type"] = "application/json"
    status, answer = send(api.port, "POST", path, body, headers)
    assert (status, answer["error"]["code"]) == (401, "bad_signature")


@pytest.mark.parametrize("timestamp", ["nan", "inf", "-inf", "1e10", "9" * 400])
def test_a_signed_request_with_an_endless_timestamp_is_refused(agent, api, timestamp):
    path = "/v1/logs/small"
    headers = signed_as(SECRET, timestamp, "GET", path, b"", agent.instance_id)
    status, answer = send(agent.port, "GET", path, b"", headers)
    assert (status, answer["error"]["code"]) == (401, "bad_signature")

    path = f"/v1/instance/{TWO}/heartbeat"
    body = heartbeat_body(TWO)
    headers = signed_as(SECRET, timestamp, "POST", path, body, TWO)
    headers["Content-Type"] = "application/json"
    status, answer = send(api.port, "POST", path, body, headers)
    assert (status, answer["error"]["code"]) == (401, "bad_signature")


def beat(api, instance_id: str, *, signed_for: str | None = None, secret=SECRET, logs=None):
    path = f"/v1/instance/{instance_id}/heartbeat"
    body = heartbeat_body(instance_id, logs)
    headers = sign(secret, "POST", path, body, instance=signed_for or instance_id)
    headers["Content-Type"] = "application/json"
    return send(api.port, "POST", path, body, headers)


def test_a_heartbeat_signed_for_another_instance_is_refused(api):
    # Signed for ONE, with ONE's own secret or with the shared one: not TWO's heartbeat.
    for secret in (OWN_SECRET, SECRET):
        status, answer = beat(api, TWO, signed_for=ONE, secret=secret)
        assert (status, answer["error"]["code"]) == (401, "bad_signature")
    # ONE has its own secret: the shared secret does not speak for it.
    status, answer = beat(api, ONE, secret=SECRET)
    assert (status, answer["error"]["code"]) == (401, "bad_signature")
    assert beat(api, ONE, secret=OWN_SECRET)[0] == 204


def log(**change) -> dict:
    return {
        "name": "small",
        "type": "USER",
        "status": "Published",
        "published": 7,
        "pending": 0,
        "container": "logs",
        "prefix": f"{TWO}/file-small/",
        "metafile": f"{TWO}/file-small_metafile",
    } | change


@pytest.mark.parametrize(
    "change",
    [
        {"prefix": f"{TWO}/../{ONE}/file-small/"},  # it passed a startswith check
        {"prefix": f"{TWO}/file-small/../../{ONE}/file-small/"},
        {"prefix": f"{TWO}/"},  # every log of the instance
        {"prefix": f"{TWO}/file-other/"},  # another log's objects
        {"metafile": f"{TWO}/../{ONE}/file-small_metafile"},
        {"container": "logs/../other"},
        {"container": ".."},
        {"container": "logs\x1b[31m"},
    ],
)
def test_a_heartbeat_log_outside_its_own_place_is_a_400(api, change):
    status, answer = beat(api, TWO, logs=[log(**change)])
    assert status == 400, answer
    assert "not a log" in answer["error"]["message"]


def test_a_heartbeat_log_exactly_in_its_place_is_stored(api):
    assert beat(api, TWO, logs=[log()])[0] == 204
    assert beat(api, TWO, logs=[log(container=None, prefix=None, status="Ready")])[0] == 204
    resp = api.request("GET", f"/v1/instance/{TWO}", api.admin)
    assert resp.json()["instance"]["agent_version"] == "1"
