"""The agent daemon as a real process: its signed endpoint, restarts and heartbeats."""

import contextlib
import http.server
import json
import threading
import time
import uuid

import pytest
import requests

from logsvc.signing import Verifier, sign
from tests.conftest import swift_store
from tests.helpers import realistic_lines
from tests.hostileserver import HostileServer, json_answer, redirect
from tests.processes import AgentProcess, swift_settings


def _agent(tmp_path, devswift) -> AgentProcess:
    container = f"logs-{uuid.uuid4().hex[:8]}"
    paths = {name: tmp_path / f"{name}.log" for name in ("big", "small")}
    proc = AgentProcess(
        tmp_path,
        {
            "DEFAULT": {"guest_log_container_name": container, "guest_log_limit": 16384},
            "storage": {"backend": "swift"},
            "swift": swift_settings(devswift),
            "file_datastore": {"logs": ",".join(f"{n}:USER:{p}" for n, p in paths.items())},
        },
    ).start()
    proc.paths = paths
    proc.container = container
    proc.store = swift_store(devswift)
    return proc


@pytest.fixture
def agent(tmp_path, devswift):
    proc = _agent(tmp_path, devswift)
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def shared_agent(tmp_path_factory, devswift):
    """One agent for the tests of requests it refuses (they change nothing)."""
    proc = _agent(tmp_path_factory.mktemp("refusing"), devswift)
    yield proc
    proc.stop()


def published(agent, log: str) -> bytes:
    prefix = f"inst-1/file-{log}/"
    objects = agent.store.list_objects(agent.container, prefix)
    return b"".join(agent.store.get_object(agent.container, o.name)[1] for o in objects)


def test_signed_requests_are_served(agent):
    resp = agent.request("GET", "/v1/info")
    assert resp.status_code == 200
    assert resp.json()["logs"] == ["big", "guest", "small"]
    assert agent.request("GET", "/v1/logs").status_code == 200


@pytest.mark.parametrize(
    ("how", "code"),
    [
        ("unsigned", "unsigned"),
        ("wrong_key", "bad_signature"),
        ("stale", "stale"),
        ("tampered", "bad_signature"),
        ("replayed", "replayed"),
        ("other_instance", "bad_signature"),  # an agent sharing the secret was meant
    ],
)
def test_refused_requests(shared_agent, how, code):
    agent = shared_agent
    agent.paths["small"].write_bytes(b"x\n")
    path, body = "/v1/logs/small", json.dumps({"admin": True, "publish": True}).encode()
    headers = {"Content-Type": "application/json"}
    if how == "wrong_key":
        headers.update(sign("not-the-secret", "POST", path, body, instance="inst-1"))
    elif how == "stale":
        headers.update(
            sign(agent.secret, "POST", path, body, now=time.time() - 3600, instance="inst-1")
        )
    elif how in ("tampered", "replayed", "other_instance"):
        signed_for = "inst-2" if how == "other_instance" else "inst-1"
        headers.update(sign(agent.secret, "POST", path, body, instance=signed_for))
    if how == "replayed":
        assert requests.post(agent.url + path, data=body, headers=headers).status_code == 200
    if how == "tampered":
        body = body.replace(b"true}", b"false}")
    resp = requests.post(agent.url + path, data=body, headers=headers)
    assert resp.status_code == 401
    error = resp.json()["error"]
    assert error["code"] == code
    assert agent.secret not in resp.text and "expected" not in error["message"]


def test_a_request_replayed_after_a_restart_is_refused(agent):
    agent.paths["small"].write_bytes(b"x\n")
    path, body = "/v1/logs/small", json.dumps({"admin": True, "publish": True}).encode()
    headers = {"Content-Type": "application/json"}
    headers.update(sign(agent.secret, "POST", path, body, instance="inst-1"))
    assert requests.post(agent.url + path, data=body, headers=headers).status_code == 200
    agent.stop()
    agent.start()
    resp = requests.post(agent.url + path, data=body, headers=headers)
    assert (resp.status_code, resp.json()["error"]["code"]) == (401, "replayed")


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/v1/logs/nope", {"admin": True}, 404),
        ("/v1/logs/Bad..Name", {"admin": True}, 400),
        ("/v1/logs/small", {"admin": True, "publish": "yes"}, 400),
        ("/v1/logs/small", {"admin": True, "frobnicate": True}, 400),
        ("/v1/logs/small", [1, 2], 400),
        ("/v1/logs/small", {"admin": True, "enable": True, "disable": True}, 400),
        ("/v1/nothing", {}, 404),
    ],
)
def test_bad_requests_get_clear_json_errors(shared_agent, path, body, status):
    agent = shared_agent
    resp = agent.request("POST", path, body)
    assert resp.status_code == status
    assert resp.json()["error"]["message"]
    assert "Traceback" not in resp.text


def test_an_oversized_body_is_refused(agent):
    resp = agent.request("POST", "/v1/logs/small", {"admin": True, "pad": "x" * 100_000})
    assert resp.status_code == 413


def test_a_long_publish_does_not_block_list_or_show(agent):
    agent.paths["big"].write_bytes(realistic_lines(20000))  # ~2 MB in 16 KB objects
    agent.paths["small"].write_bytes(b"tiny\n")
    result = {}
    publishing = threading.Thread(target=lambda: result.update(agent.act("big", publish=True)))
    publishing.start()
    deadline = time.monotonic() + 60
    while not list(agent.store.list_objects(agent.container, "inst-1/file-big/")):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    logs = agent.logs()  # answered while the publish runs
    shown = agent.act("small")
    assert publishing.is_alive(), "the publish should still be running"
    assert logs["small"]["pending"] == 5 and shown["name"] == "small"
    publishing.join()
    assert result["status"] == "Published"


def test_kill_9_in_a_publish_then_restart(agent):
    data = realistic_lines(20000)
    agent.paths["big"].write_bytes(data)
    agent.paths["small"].write_bytes(b"one\ntwo\n")
    agent.act("small", publish=True)
    before = agent.logs()["small"]

    def publish_until_killed():
        with contextlib.suppress(requests.ConnectionError):
            agent.request("POST", "/v1/logs/big", {"admin": True, "publish": True})

    threading.Thread(target=publish_until_killed, daemon=True).start()
    deadline = time.monotonic() + 60
    while sum(1 for _ in agent.store.list_objects(agent.container, "inst-1/file-big/")) < 10:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    agent.kill()
    agent.start()
    after = agent.logs()
    assert after["small"] == before  # the same figures after the restart
    assert 0 <= after["big"]["published"] < len(data)  # killed in the middle, checkpoints kept
    assert after["big"]["published"] + after["big"]["pending"] == len(data)
    log = agent.act("big", publish=True)
    assert (log["status"], log["published"]) == ("Published", len(data))
    assert published(agent, "big") == data


def test_a_restart_keeps_every_figure(agent):
    agent.paths["small"].write_bytes(b"a\nb\nc")
    agent.act("small", publish=True)
    before = agent.logs()
    assert agent.stop() == 0
    agent.start()
    after = agent.logs()
    for logs in (before, after):
        del logs["guest"]  # the agent's own log grows as it stops and starts
    assert after == before


def test_heartbeats_are_signed_and_carry_the_logs(tmp_path, devswift):
    received = []

    class Receiver(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, dict(self.headers), body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    (tmp_path / "app.log").write_bytes(b"x\n")
    agent = AgentProcess(
        tmp_path,
        {
            "agent": {"api_url": f"http://127.0.0.1:{server.server_port}", "heartbeat_interval": 1},
            "storage": {"backend": "file", "file_root": tmp_path / "objects"},
            "file_datastore": {"logs": f"app:USER:{tmp_path / 'app.log'}"},
        },
    ).start()
    try:
        deadline = time.monotonic() + 20
        while len(received) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        agent.stop()
        server.shutdown()
    assert len(received) >= 2
    path, headers, body = received[0]
    assert path == "/v1/instance/inst-1/heartbeat"
    Verifier([agent.secret]).verify("POST", path, body, headers, instance="inst-1")
    beat = json.loads(body)
    assert beat["instance_id"] == "inst-1"
    assert {entry["name"] for entry in beat["logs"]} == {"app", "guest"}


def test_serving_needs_a_shared_secret(tmp_path):
    agent = AgentProcess(
        tmp_path, {"storage": {"backend": "file", "file_root": tmp_path}}, secret=""
    )
    with pytest.raises(RuntimeError, match="exited with 2"):
        agent.start()
    assert "shared_secret is required" in (tmp_path / "agent.stderr").read_text()


def test_the_agents_log_keeps_swiftclients_requests_out(agent):
    # The agent's log is the published log `guest`: a line per request would
    # make each publish write more to publish.
    agent.paths["small"].write_bytes(b"x\n")
    agent.act("small", publish=True)  # its first GET of the metafile answers 404
    agent.act("guest", publish=True)
    log = (agent.dir / "agent.log").read_text()
    assert "REQ: curl" not in log and "RESP STATUS" not in log


def test_a_heartbeat_follows_no_redirect(tmp_path):
    """A redirect at api_url would carry the signed heartbeat to another server."""
    with (
        HostileServer(json_answer("204 No Content", {})) as elsewhere,
        HostileServer(redirect("307 Temporary Redirect", elsewhere.url + "/steal")) as api,
    ):
        (tmp_path / "app.log").write_bytes(b"x\n")
        agent = AgentProcess(
            tmp_path,
            {
                "agent": {"api_url": api.url, "heartbeat_interval": 1},
                "storage": {"backend": "file", "file_root": tmp_path / "objects"},
                "file_datastore": {"logs": f"app:USER:{tmp_path / 'app.log'}"},
            },
        ).start()
        try:
            deadline = time.monotonic() + 20
            while len(api.requests) < 2 and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            agent.stop()
    assert len(api.requests) >= 2
    assert elsewhere.requests == []
    assert "a redirect to " in (tmp_path / "agent.log").read_text()
