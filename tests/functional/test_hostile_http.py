"""Hostile HTTP against the real API and agent processes: slow clients, malformed
bodies, errors of the WSGI servers themselves, forged links and forged log lines.

One API (2 workers x 4 threads) and one agent (8 threads) serve the module,
with read deadlines of DEADLINE seconds. Waits are bounded generously, far
above the deadline: a test fails when the daemon stalls, never on a duration.
"""

import http.client
import json
import socket
import threading
import time

import pytest
import requests

from logsvc.signing import sign
from tests.apistack import INSTANCE, TENANT, Stack

DEADLINE = 2  # [api] and [agent] client_header_timeout and client_body_timeout
PATIENCE = 60  # how long a client waits before it calls the daemon stalled
SLOW_CLIENTS = 20  # more than the API's 8 threads, more than the agent's 8
HEARTBEAT = f"/v1/instance/{INSTANCE}/heartbeat"


def well_formed_signing_headers(path: str) -> dict[str, str]:
    """Signing headers that pass the checks made before a body is read (their
    form and freshness): the server then reads the body, which is the point."""
    return sign("not-the-secret", "POST", path, b"", instance=INSTANCE)


# A log line that looks like the agent's own, smuggled in a path (%0A is a newline).
FORGED = "2026-01-01 00:00:00.000 1 CRITICAL guestagent.service [-] FORGED-LINE"
FORGED_PATH = "/v1/logs/x%0A" + FORGED.replace(" ", "%20")


@pytest.fixture(scope="module")
def stack(tmp_path_factory, devswift):
    deadlines = {"client_header_timeout": DEADLINE, "client_body_timeout": DEADLINE}
    s = Stack(
        tmp_path_factory.mktemp("hostile"),
        devswift,
        api_sections={"api": deadlines},
        agent_sections={"agent": deadlines},
    )
    s.start()
    yield s
    s.stop()


def open_socket(port: int, data: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=PATIENCE)
    sock.sendall(data)
    return sock


def response_of(sock: socket.socket) -> tuple[int, dict]:
    """The status and JSON body the server sent on a raw socket (then closed)."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    assert b"content-type: application/json" in head.lower(), head
    return status, json.loads(body)


class Trickler:
    """A client that sends its request one byte at a time, each before a read
    timeout of the server would fire: only a deadline in all stops it."""

    def __init__(self, port: int, request: bytes, interval: float = 0.5):
        self.sock = open_socket(port, request[:1])
        self.rest, self.interval = request[1:], interval
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        for byte in self.rest:
            if self.stop.wait(self.interval):
                return
            try:
                self.sock.send(bytes([byte]))
            except OSError:
                return  # the server gave up on us: what it must do

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        self.sock.close()


def slow_requests(host_port: str, path: str) -> list[bytes]:
    """Partial request lines, partial headers, and a stalled body."""
    signing = "".join(f"{k}: {v}\r\n" for k, v in well_formed_signing_headers(path).items())
    return [
        b"GET / HTT",
        f"GET / HTTP/1.1\r\nHost: {host_port}\r\nX-Slow: ".encode(),
        (
            f"POST {path} HTTP/1.1\r\nHost: {host_port}\r\n{signing}"
            "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
        ).encode(),
    ]


def test_slow_clients_do_not_stall_the_api(stack):
    port = stack.api.port
    partial = slow_requests(f"127.0.0.1:{port}", HEARTBEAT)
    socks = [open_socket(port, partial[i % len(partial)]) for i in range(SLOW_CLIENTS)]
    trickler = Trickler(port, b"GET / HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 10000 + b"\r\n\r\n")
    try:
        resp = requests.get(stack.api.url + "/", timeout=PATIENCE)
        assert resp.status_code == 200, resp.text
        # each slow client was answered, with the API's JSON error
        statuses = {response_of(sock)[0] for sock in socks}
        assert statuses <= {400, 408}, statuses
        status, body = response_of(trickler.sock)
        assert (status, body["error"]["status"], body["error"]["code"]) == (
            408,
            408,
            "request_timeout",
        ), body
    finally:
        trickler.close()
        for sock in socks:
            sock.close()


def test_slow_clients_do_not_stall_the_agent(stack):
    port = stack.agent.port
    partial = slow_requests(f"127.0.0.1:{port}", "/v1/logs/small")
    socks = [open_socket(port, partial[i % len(partial)]) for i in range(SLOW_CLIENTS)]
    trickler = Trickler(port, b"GET /v1/info HTTP/1.1\r\nX-Pad: " + b"a" * 10000 + b"\r\n\r\n")
    try:
        resp = stack.agent.request("GET", "/v1/info", timeout=PATIENCE)
        assert resp.status_code == 200, resp.text
        status, body = response_of(trickler.sock)
        assert (status, body["error"]["status"], body["error"]["code"]) == (
            408,
            408,
            "request_timeout",
        ), body
    finally:
        trickler.close()
        for sock in socks:
            sock.close()


def send_chunked(port: int, method: str, path: str, headers: dict, chunks: bytes):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=PATIENCE)
    try:
        conn.putrequest(method, path)
        for key, value in {**headers, "Transfer-Encoding": "chunked"}.items():
            conn.putheader(key, value)
        conn.endheaders()
        conn.send(chunks)
        resp = conn.getresponse()
        return resp.status, resp.getheader("Content-Type"), resp.read()
    finally:
        conn.close()


MALFORMED_CHUNKS = [
    b"zz\r\n{}\r\n0\r\n\r\n",  # not a chunk size
    b"2\r\n{}XX0\r\n\r\n",  # no CRLF after the chunk
    b"5\r\n{}",  # cut short: the client goes away
]


@pytest.mark.parametrize("chunks", MALFORMED_CHUNKS)
@pytest.mark.parametrize(
    "path", [HEARTBEAT, f"/v1/instance/{INSTANCE}/log", f"/v1.0/{TENANT}/instances/{INSTANCE}/log"]
)
def test_a_malformed_chunked_body_is_a_json_400_at_the_api(stack, path, chunks):
    headers = {"Content-Type": "application/json"}
    if path != HEARTBEAT:
        headers["X-Auth-Token"] = stack.alice
    else:  # the heartbeat route checks these before it reads a body
        headers |= well_formed_signing_headers(path)
    status, content_type, data = send_chunked(stack.api.port, "POST", path, headers, chunks)
    assert status == 400, data
    assert content_type == "application/json"
    assert b"Traceback" not in data
    body = json.loads(data)
    assert 400 in (body.get("error", {}).get("status"), body.get("badRequest", {}).get("code"))


@pytest.mark.parametrize("chunks", MALFORMED_CHUNKS)
def test_a_malformed_chunked_body_is_a_json_400_at_the_agent(stack, chunks):
    headers = sign(stack.agent.secret, "POST", "/v1/logs/small", b"", instance=INSTANCE)
    headers["Content-Type"] = "application/json"
    status, content_type, data = send_chunked(
        stack.agent.port, "POST", "/v1/logs/small", headers, chunks
    )
    assert (status, content_type) == (400, "application/json"), data
    assert json.loads(data)["error"]["status"] == 400


def raw_exchange(port: int, request: bytes) -> tuple[int, dict]:
    with socket.create_connection(("127.0.0.1", port), timeout=PATIENCE) as sock:
        sock.sendall(request)
        return response_of(sock)


SERVER_ERRORS = [
    (b"GET /" + b"a" * 10000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "uri_too_long"),
    (
        b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Big: " + b"b" * 20000 + b"\r\n\r\n",
        431,
        "request_header_fields_too_large",
    ),
    (
        b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Many: y\r\n" * 200 + b"\r\n",
        431,
        "request_header_fields_too_large",
    ),
    (b"NOT A REQUEST LINE\r\n\r\n", 400, "bad_request"),
    (b"GET / HTTP/1.1\r\nBad Header\r\n\r\n", 400, "bad_request"),
]


@pytest.mark.parametrize(("request_bytes", "status", "code"), SERVER_ERRORS)
def test_the_api_servers_own_errors_are_json(stack, request_bytes, status, code):
    got, body = raw_exchange(stack.api.port, request_bytes)
    assert got == status and body["error"]["status"] == status, body
    assert body["error"]["code"] == code, body  # a 414 is no bad_request
    assert body["error"]["message"]


@pytest.mark.parametrize("request_bytes", [b"NOT A REQUEST LINE\r\n\r\n", SERVER_ERRORS[-1][0]])
def test_the_agents_servers_own_errors_are_json(stack, request_bytes):
    # (cheroot takes the long line and headers above: the application answers them)
    got, body = raw_exchange(stack.agent.port, request_bytes)
    assert (got, body["error"]["status"], body["error"]["code"]) == (400, 400, "bad_request")


@pytest.mark.parametrize(
    "headers",
    [
        {"Host": "evil.example"},
        {"Host": "evil.example", "X-Forwarded-Proto": "https"},
        {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"},
    ],
)
def test_links_are_not_built_from_what_a_caller_sends(stack, headers):
    for path, token in (("/", None), (f"/v1.0/{TENANT}/instances", stack.alice)):
        resp = stack.api.request("GET", path, token, headers=headers)
        assert resp.status_code == 200, resp.text
        assert "evil.example" not in resp.text and "https:" not in resp.text, resp.text
    links = stack.api.request("GET", "/").json()["versions"][0]["links"]
    assert links == [{"rel": "self", "href": "/v1/"}]


def test_public_endpoint_makes_the_links(tmp_path, devswift):
    s = Stack(
        tmp_path, devswift, api_sections={"api": {"public_endpoint": "https://logs.example:8779"}}
    )
    s.start()
    try:
        resp = s.api.request("GET", "/", headers={"Host": "evil.example"})
        assert resp.json()["versions"][0]["links"][0]["href"] == "https://logs.example:8779/v1/"
        resp = s.api.request("GET", f"/v1.0/{TENANT}/instances/{INSTANCE}", s.alice)
        href = resp.json()["instance"]["links"][0]["href"]
        assert href == f"https://logs.example:8779/v1.0/{TENANT}/instances/{INSTANCE}"
    finally:
        s.stop()


def wait_for_text(path, text: str) -> str:
    """The file's content once it holds `text` (logging is asynchronous to the reply)."""
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        content = path.read_text(errors="replace") if path.exists() else ""
        if text in content:
            return content
        time.sleep(0.1)
    raise AssertionError(f"{path} never logged {text!r}")


def assert_no_forged_line(content: str) -> None:
    forged = [line for line in content.splitlines() if line.startswith(FORGED[:10])]
    forged = [line for line in forged if "FORGED-LINE" in line]
    assert not forged, forged


def test_a_request_cannot_forge_a_line_in_the_agents_log(stack):
    # The attack: a non-ASCII signature made the agent log a traceback
    # with the request's path, newline decoded.
    headers = sign(stack.agent.secret, "POST", FORGED_PATH, b"", instance=INSTANCE)
    headers["X-Logsvc-Signature"] = "\u00e9" * 64
    conn = http.client.HTTPConnection("127.0.0.1", stack.agent.port, timeout=PATIENCE)
    try:
        conn.putrequest("POST", FORGED_PATH)
        for key, value in {**headers, "Content-Length": "0"}.items():
            conn.putheader(key, value.encode("utf-8"))
        conn.endheaders()
        assert conn.getresponse().status in (401, 500)
    finally:
        conn.close()
    # An unreadable body is logged with the request's path.
    status, _, _ = send_chunked(
        stack.agent.port, "POST", FORGED_PATH, headers, b"zz\r\n{}\r\n0\r\n\r\n"
    )
    assert status == 400
    content = wait_for_text(stack.agent.dir / "agent.log", "/v1/logs/x\\n2026")
    assert_no_forged_line(content)


def test_a_request_cannot_forge_a_line_in_the_apis_logs(stack):
    # gunicorn logs a request line it cannot parse: a carriage return and
    # terminal escapes in it would rewrite what a reader of the log sees.
    line = f"GET /\r{FORGED}\x1b[2J\x1b[H HTTP/1.1\r\n\r\n"
    got, _ = raw_exchange(stack.api.port, line.encode("latin-1"))
    assert got == 400
    content = wait_for_text(stack.api.dir / "api.stderr", "\\x1b[2J")
    assert "\x1b" not in content and "\r" not in content
    for log in ("api.log", "api.stderr"):
        assert_no_forged_line((stack.api.dir / log).read_text(errors="replace"))
