"""Calls to agents: what the API makes of faults a real agent cannot produce on demand."""

import pytest
import requests
import requests_mock

from api import dispatch
from api.dispatch import AgentClient
from logsvc.exceptions import AgentError, AgentTimeout, AgentUnreachable, LogNotFound
from logsvc.signing import Verifier

URL = "http://agent.invalid:8780"


def client(session) -> AgentClient:
    return AgentClient("inst-1", URL, "secret", 1.0, 2.0, session)


@pytest.fixture
def mocked():
    session = requests.Session()
    with requests_mock.Mocker(session=session) as mock:
        yield session, mock


@pytest.mark.parametrize(
    ("fault", "error", "words"),
    [
        (requests.ConnectTimeout, AgentUnreachable, "no connection within 1s"),
        (requests.ReadTimeout, AgentTimeout, "did not answer within 2s"),
        (requests.ConnectionError, AgentUnreachable, "unreachable"),
    ],
)
def test_network_faults(mocked, fault, error, words):
    session, mock = mocked
    mock.get(f"{URL}/v1/logs", exc=fault)
    with pytest.raises(error, match=words):
        client(session).list_logs(admin=False)


@pytest.mark.parametrize(
    ("status", "body", "error", "words"),
    [
        (404, {"error": {"code": "log_not_found", "message": "no log"}}, LogNotFound, "no log"),
        (401, {"error": {"code": "bad_signature", "message": "x"}}, AgentUnreachable, "secrets"),
        # the agent of another instance at this agent_url refuses the same way
        (401, {"error": {"code": "bad_signature"}}, AgentUnreachable, "serves another instance"),
        (500, {"error": {"code": "internal_error", "message": "boom"}}, AgentError, "boom"),
        (502, "<html>proxy</html>", AgentError, "without JSON"),
        (200, {"logs": [{"name": "x"}]}, AgentError, "does not fit: a log needs"),
        (200, {"nothing": []}, AgentError, "no 'logs'"),
        (404, {"error": {"code": "route_not_found", "message": "no route"}}, AgentError, "route"),
        (405, {"error": {"code": "method_not_allowed", "message": "x"}}, AgentError, "failed"),
        # the agent's HTTP server refusing the API's own request: not the user's fault
        (408, {"error": {"code": "request_timeout", "message": "x"}}, AgentError, "failed"),
        (414, {"error": {"code": "uri_too_long", "message": "x"}}, AgentError, "failed"),
    ],
)
def test_answers_the_api_cannot_use(mocked, status, body, error, words):
    session, mock = mocked
    kwargs = {"json": body} if not isinstance(body, str) else {"text": body}
    mock.get(f"{URL}/v1/logs", status_code=status, **kwargs)
    with pytest.raises(error, match=words):
        client(session).list_logs(admin=True)


def test_requests_are_signed_with_the_path_and_query(mocked):
    session, mock = mocked
    mock.post(f"{URL}/v1/logs/general", json={"log": None})
    with pytest.raises(AgentError):
        client(session).act("general", admin=False, flags={"publish": True})
    sent = mock.last_request
    assert sent.json() == {"admin": False, "publish": True}
    Verifier(["secret"]).verify(
        "POST", "/v1/logs/general", sent.body, sent.headers, instance="inst-1"
    )
    mock.get(f"{URL}/v1/logs", json={"logs": []})
    assert client(session).list_logs(admin=True) == []
    sent = mock.last_request
    Verifier(["secret"]).verify("GET", "/v1/logs?admin=true", b"", sent.headers, instance="inst-1")


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_from_an_agent_is_not_followed(mocked, status):
    """A redirect would carry the signed request to wherever the guest points."""
    session, mock = mocked
    elsewhere = mock.post("http://elsewhere.invalid/steal", json={"log": None})
    mock.post(
        f"{URL}/v1/logs/general",
        status_code=status,
        headers={"Location": "http://elsewhere.invalid/steal"},
    )
    with pytest.raises(AgentError, match=r"redirect to http://elsewhere\.invalid/steal"):
        client(session).act("general", admin=False, flags={"publish": True})
    assert elsewhere.call_count == 0


def test_an_agent_answer_larger_than_the_bound_is_not_read(mocked):
    session, mock = mocked
    mock.get(f"{URL}/v1/logs", content=b" " * (dispatch.MAX_ANSWER + 1))
    with pytest.raises(AgentError, match="more than 4 MiB"):
        client(session).list_logs(admin=True)
