"""Proxies in a thread of the test, between a daemon and a real server, for faults.

`TcpProxy` relays a TCP port and can go down and up again (a database
server that goes away, say).

`FaultProxy(upstream)` speaks HTTP: it forwards every request it receives
to `upstream` (say the Swift proxy: point the agent's ``auth_url`` at
``proxy.url`` instead; tempauth builds the storage URL from the Host
header, which is forwarded unchanged, so the object requests come through
here too) and calls ``hook(stage, exchange)`` at three points of each exchange:

- ``"headers"``: the request's headers have arrived (and ``100 Continue``
  was answered, if asked for), its body not yet;
- ``"request"``: the request has arrived, nothing was forwarded yet;
- ``"answered"``: the upstream server has answered, the client has not seen it;
- ``"relayed"``: the answer has been sent to the client.

A hook watches (``exchange`` says the method, path and status), acts (kill
the daemon, say) and may raise `Cut` to close the client's connection on
the spot: before forwarding, the request never reaches the server; after
the answer, the client never learns it. Every exchange is kept in
``exchanges``, in order.
"""

import contextlib
import http.client
import http.server
import socket
import socketserver
import threading
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade"}


class Cut(Exception):
    """Raised by a hook: close the client's connection now, without an answer."""


@dataclass
class Exchange:
    """One request through the proxy, and what became of it."""

    method: str
    path: str
    status: int | None = None
    cut: str | None = None  # the stage at which a hook cut it


Hook = Callable[[str, Exchange], None]


class FaultProxy:
    """A threaded HTTP/1.1 proxy to one upstream server; see the module's docstring."""

    def __init__(self, upstream: str, hook: Hook | None = None):
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.hook: Hook = hook or (lambda stage, exchange: None)
        self.exchanges: list[Exchange] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(_Handler):
            owner = proxy

        self._server = _Server(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> "FaultProxy":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _record(self, exchange: Exchange) -> None:
        with self._lock:
            self.exchanges.append(exchange)


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    owner: FaultProxy
    upstream_conn: http.client.HTTPConnection | None = None

    def log_message(self, *args) -> None:
        pass

    def _body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if len(body) < length:  # the client went away mid-body: nothing to forward
            raise ConnectionError("the request's body was cut short")
        return body

    def _forward(self) -> None:
        exchange = Exchange(self.command, self.path)
        self.owner._record(exchange)
        try:
            self.owner.hook("headers", exchange)
            body = self._body()
        except Cut:
            exchange.cut = "headers"
            self._cut()
            return
        except OSError:
            self._cut()
            return
        try:
            self.owner.hook("request", exchange)
            status, reason, headers, answer = self._ask_upstream(body)
            exchange.status = status
            self.owner.hook("answered", exchange)
        except Cut:
            exchange.cut = "answered" if exchange.status else "request"
            self._cut()
            return
        except (OSError, http.client.HTTPException):
            self._cut()  # the upstream server is gone: so is the answer
            return
        try:
            self.send_response(status, reason)
            for key, value in headers:
                if key.lower() not in _HOP_BY_HOP and key.lower() != "content-length":
                    self.send_header(key, value)
            length = next((v for k, v in headers if k.lower() == "content-length"), None)
            if self.command == "HEAD":
                if length is not None:
                    self.send_header("Content-Length", length)
            else:
                self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(answer)
            self.wfile.flush()
        except OSError:
            self.close_connection = True
            return
        try:
            self.owner.hook("relayed", exchange)
        except Cut:
            exchange.cut = "relayed"
            self._cut()

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_COPY = _forward

    def _ask_upstream(self, body: bytes):
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        if body or self.command in ("PUT", "POST"):
            headers["Content-Length"] = str(len(body))
        for attempt in (1, 2):
            conn = self._upstream()
            try:
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                answer = resp.read()
                return resp.status, resp.reason, resp.getheaders(), answer
            except (ConnectionError, http.client.RemoteDisconnected, http.client.BadStatusLine):
                self._drop_upstream()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _upstream(self) -> http.client.HTTPConnection:
        if self.upstream_conn is None:
            host, port = self.owner.upstream
            self.upstream_conn = http.client.HTTPConnection(host, port, timeout=60)
        return self.upstream_conn

    def _drop_upstream(self) -> None:
        if self.upstream_conn is not None:
            self.upstream_conn.close()
            self.upstream_conn = None

    def _cut(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(2)

    def finish(self) -> None:
        self._drop_upstream()
        with contextlib.suppress(OSError):
            super().finish()


class TcpProxy:
    """A TCP relay in a thread of the test, to one upstream port, that can go down.

    ``down()`` closes every relayed connection and stops listening (a client
    is refused, as by a stopped server); ``up()`` listens again on the same
    port. For a database server, say: point the daemon at ``port``.
    """

    def __init__(self, upstream_port: int, upstream_host: str = "127.0.0.1"):
        self.upstream = (upstream_host, upstream_port)
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None

    @property
    def listening(self) -> bool:
        return self._listener is not None

    def up(self) -> "TcpProxy":
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def down(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self._lock:
            doomed, self._sockets = self._sockets, set()
        for sock in doomed:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # down
            try:
                server = socket.create_connection(self.upstream, timeout=10)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                if self._listener is not listener:
                    client.close()
                    server.close()
                    return
                self._sockets |= {client, server}
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
