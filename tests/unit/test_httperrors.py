"""The one error handler (logsvc.httperrors): the API and the agent answer errors alike."""

import json
import logging
import socket
from types import SimpleNamespace

import pytest
from gunicorn.http import errors as gunicorn_errors

from api import server
from api.app import create_app as create_api
from guestagent import endpoint
from guestagent.datastores.file import FileDatastore, parse_entry
from guestagent.manager import LogManager
from guestagent.publisher import Publisher
from guestagent.publishmodel import PublishSettings
from guestagent.state import StateStore
from logsvc.layout import LogLocation
from logsvc.signing import Verifier, sign
from logsvc.storage.file import FileStore
from tests.unit.conftest import ADMIN

SECRET = "agent-secret"


class Api:
    """The API's test client, with an admin's headers."""

    def __init__(self, conf):
        self.app = create_api(conf)
        self.client = self.app.test_client()

    def call(self, method: str, path: str, body: bytes = b""):
        headers = {**ADMIN, "Content-Type": "application/json"} if body else ADMIN
        return self.client.open(path, method=method, data=body, headers=headers)


class Agent:
    """The agent's endpoint on one file log, with requests signed as the API signs them."""

    def __init__(self, tmp_path):
        states = StateStore(str(tmp_path / "state"))
        (tmp_path / "app.log").write_bytes(b"one\ntwo\n")
        source = parse_entry(f"app:USER:{tmp_path / 'app.log'}")
        datastore = FileDatastore([source], states, guest_log=None)
        location = LogLocation("logs", "inst-1", "file", "app")
        publisher = Publisher(
            source, location, FileStore(tmp_path / "objects"), states, PublishSettings()
        )
        manager = LogManager("inst-1", datastore, {"app": publisher}, None)
        self.app = endpoint.create_app(manager, Verifier([SECRET]))
        self.client = self.app.test_client()

    def call(self, method: str, path: str, body: bytes = b""):
        headers = sign(SECRET, method, path, body, instance="inst-1")
        if body:
            headers["Content-Type"] = "application/json"
        return self.client.open(path, method=method, data=body, headers=headers)


@pytest.fixture(params=["api", "agent"])
def service(request, conf, tmp_path):
    made = Api(conf) if request.param == "api" else Agent(tmp_path)
    yield made
    if request.param == "api":
        made.app.extensions["logsvc"].db.dispose()


def error(resp) -> dict:
    assert "Traceback" not in resp.get_data(as_text=True)
    return resp.get_json()["error"]


def test_no_route_is_a_json_404(service):
    resp = service.call("GET", "/v1/no-such-thing")
    assert resp.status_code == 404
    assert error(resp) == {
        "code": "route_not_found",
        "message": "no such URL on this service",
        "status": 404,
    }


@pytest.mark.parametrize("method", ["PATCH", "OPTIONS"])
def test_a_method_not_allowed_is_a_json_405(service, method):
    resp = service.call(method, "/v1/openapi.json" if isinstance(service, Api) else "/v1/info")
    assert resp.status_code == 405
    assert error(resp)["code"] == "method_not_allowed" and error(resp)["status"] == 405


@pytest.mark.parametrize("method", ["DELETE", "PUT", "PATCH", "OPTIONS", "TRACE"])
def test_a_405_says_in_allow_which_methods_the_url_takes(service, method):
    """RFC 9110: a 405 carries Allow; the URL's own methods, not OPTIONS (a 405 too)."""
    path = "/v1/instance/inst-1/log" if isinstance(service, Api) else "/v1/logs/app"
    resp = service.call(method, path)
    assert resp.status_code == 405
    assert error(resp)["code"] == "method_not_allowed"
    assert resp.headers["Allow"] == "GET, HEAD, POST"


def test_a_body_over_the_limit_is_a_413_that_says_the_limit(service):
    path = "/v1/instance/inst-1/log" if isinstance(service, Api) else "/v1/logs/app"
    limit = service.app.config["MAX_CONTENT_LENGTH"]
    body = json.dumps({"name": "app", "pad": "x" * limit}).encode()
    resp = service.call("POST", path, body)
    assert resp.status_code == 413
    assert error(resp)["code"] == "payload_too_large"
    assert f"{limit} bytes" in error(resp)["message"]


def test_an_unexpected_error_is_logged_and_answered_without_its_details(service, caplog):
    def boom():
        raise RuntimeError("a detail only the log may hold")

    service.app.add_url_rule("/v1/boom", "boom", boom)
    with caplog.at_level(logging.ERROR, logger="logsvc.httperrors"):
        resp = service.call("GET", "/v1/boom")
    assert resp.status_code == 500
    assert error(resp)["code"] == "internal_error"
    assert "only the log" not in resp.get_data(as_text=True)
    assert "a detail only the log may hold" in caplog.text  # with its traceback


def test_the_agent_answers_an_action_with_the_log_alone(tmp_path):
    """Nobody read the publish report that came with it: it is not sent."""
    agent = Agent(tmp_path)
    resp = agent.call("POST", "/v1/logs/app", json.dumps({"admin": True, "publish": True}).encode())
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_json()
    assert list(body) == ["log"]
    assert (body["log"]["status"], body["log"]["published"]) == ("Published", 8)


def test_the_agent_refuses_an_unsigned_request_before_routing_it(tmp_path):
    agent = Agent(tmp_path)
    for path in ("/v1/info", "/v1/no-such-thing"):
        resp = agent.client.get(path)
        assert (resp.status_code, error(resp)["code"]) == (401, "unsigned")


@pytest.mark.parametrize(
    ("refusal", "status", "code"),
    [
        (gunicorn_errors.LimitRequestLine(5030, 4094), 414, "uri_too_long"),
        (gunicorn_errors.LimitRequestHeaders("too many"), 431, "request_header_fields_too_large"),
        (server._HeadersTimeout("no headers within 10s"), 408, "request_timeout"),
        (gunicorn_errors.ExpectationFailed("x"), 417, "expectation_failed"),
        (gunicorn_errors.UnsupportedTransferCoding("gzip"), 501, "unsupported_transfer_coding"),
        (gunicorn_errors.ForbiddenProxyRequest("10.0.0.1"), 403, "forbidden"),
        (gunicorn_errors.InvalidRequestLine("GET"), 400, "bad_request"),
        (RuntimeError("a bug"), 500, "internal_error"),
    ],
)
def test_the_api_servers_own_refusals_carry_the_code_of_their_status(refusal, status, code):
    """gunicorn's answers (api/server.py), not the application's: a 414 is no bad_request."""
    worker = SimpleNamespace(log=logging.getLogger("test"))
    ours, theirs = socket.socketpair()
    with ours, theirs:
        server.ApiWorker.handle_error(worker, None, ours, ("127.0.0.1", 1), refusal)
        ours.shutdown(socket.SHUT_WR)
        head, _, body = theirs.makefile("rb").read().partition(b"\r\n\r\n")
    assert head.startswith(f"HTTP/1.1 {status} ".encode()), head
    answer = json.loads(body)["error"]
    assert (answer["status"], answer["code"]) == (status, code), answer
    assert answer["message"]
