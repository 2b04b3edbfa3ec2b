"""An HTTP server in a thread of the test that answers as a hostile or broken one would.

``HostileServer(answer)`` listens on 127.0.0.1; each request it receives is
recorded in ``requests`` (method, path, headers, body) and then handed, with
the connection's socket, to ``answer(request, sock)``, which writes whatever
it likes: a redirect, an answer a byte at a time, nothing at all, a huge
body, escape sequences. ``stop()`` (or leaving the ``with`` block) ends every
answer still in progress: the answers below wait on ``stopping`` rather than
sleep, and give up when it is set.
"""

import contextlib
import json
import socket
import socketserver
import threading
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""


Answer = Callable[["Request", socket.socket, threading.Event], None]


@dataclass
class HostileServer:
    answer: Answer
    requests: list[Request] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.stopping = threading.Event()
        outer = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                request = _read_request(self.request)
                if request is None:
                    return
                outer.requests.append(request)
                with contextlib.suppress(OSError):  # the client hung up, as it should
                    outer.answer(request, self.request, outer.stopping)

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "HostileServer":
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def stop(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()


def _read_request(sock: socket.socket) -> Request | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return Request(method, path, headers, body)


def head(status: str, headers: dict[str, str] | None = None) -> bytes:
    lines = [f"HTTP/1.1 {status}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def json_answer(status: str, document: object) -> Answer:
    """A plain JSON answer."""
    body = json.dumps(document).encode()

    def answer(request: Request, sock: socket.socket, stopping: threading.Event) -> None:
        sock.sendall(
            head(status, {"Content-Type": "application/json", "Content-Length": str(len(body))})
            + body
        )

    return answer


def redirect(status: str, location: str) -> Answer:
    def answer(request: Request, sock: socket.socket, stopping: threading.Event) -> None:
        sock.sendall(head(status, {"Location": location, "Content-Length": "0"}))

    return answer


def trickle(document: object, every: float, in_headers: bool = False) -> Answer:
    """A whole answer, but one byte every `every` seconds (the headers too, if asked)."""
    body = json.dumps(document).encode()
    whole = head("200 OK", {"Content-Type": "application/json", "Content-Length": str(len(body))})
    slow_from = 0 if in_headers else len(whole)
    whole += body

    def answer(request: Request, sock: socket.socket, stopping: threading.Event) -> None:
        sock.sendall(whole[:slow_from])
        for i in range(slow_from, len(whole)):
            if stopping.wait(every):
                return
            sock.sendall(whole[i : i + 1])

    return answer


def silent(request: Request, sock: socket.socket, stopping: threading.Event) -> None:
    """Reads the request, and never answers (until the server stops)."""
    stopping.wait()


def huge(size: int, declared: bool) -> Answer:
    """A JSON document of `size` bytes, its length declared or not (then ended by a close)."""
    piece = b'"' + b"x" * (1024 * 1024 - 3) + b'",'

    def answer(request: Request, sock: socket.socket, stopping: threading.Event) -> None:
        headers = {"Content-Type": "application/json"}
        if declared:
            headers["Content-Length"] = str(size)
        sock.sendall(head("200 OK", headers) + b'{"logs": [')
        sent = 10
        while sent + len(piece) < size - 2:
            if stopping.is_set():
                return
            sock.sendall(piece)
            sent += len(piece)
        sock.sendall(b'""' + b" " * (size - sent - 4) + b"]}")

    return answer
