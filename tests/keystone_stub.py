"""A stand-in for Keystone's token validation, enough for keystonemiddleware.

It answers version discovery and ``GET /v3/auth/tokens`` (X-Subject-Token)
for the tokens it was given, as Keystone's v3 API shapes them; anything else
is 404. It is no Keystone: it lets the real auth_token middleware validate
real requests in tests, where no Keystone can run.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class KeystoneStub:
    """`tokens` maps a token to (project_id, roles); `service_token` is the API's own."""

    def __init__(self, tokens: dict[str, tuple[str, list[str]]], service_token: str = "svc"):
        self.tokens = dict(tokens)
        self.service_token = service_token
        self.validations = 0
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                stub._get(self)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> "KeystoneStub":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _version(self) -> dict:
        return {
            "id": "v3.14",
            "status": "stable",
            "updated": "2020-04-07T00:00:00Z",
            "links": [{"rel": "self", "href": f"{self.url}/v3/"}],
            "media-types": [
                {"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}
            ],
        }

    def _get(self, handler: BaseHTTPRequestHandler) -> None:
        path = handler.path.split("?")[0].rstrip("/")
        if path in ("", "/"):
            self._send(handler, 300, {"versions": {"values": [self._version()]}})
        elif path == "/v3":
            self._send(handler, 200, {"version": self._version()})
        elif path == "/v3/auth/tokens":
            self._validate(handler)
        else:
            self._send(handler, 404, {"error": {"code": 404, "message": "not found"}})

    def _validate(self, handler: BaseHTTPRequestHandler) -> None:
        if handler.headers.get("X-Auth-Token") != self.service_token:
            self._send(handler, 401, {"error": {"code": 401, "message": "service token"}})
            return
        subject = handler.headers.get("X-Subject-Token", "")
        if subject not in self.tokens:
            self._send(handler, 404, {"error": {"code": 404, "message": "token not found"}})
            return
        self.validations += 1
        project_id, roles = self.tokens[subject]
        domain = {"id": "default", "name": "Default"}
        body = {
            "token": {
                "methods": ["password"],
                "expires_at": "2099-01-01T00:00:00.000000Z",
                "issued_at": "2026-01-01T00:00:00.000000Z",
                "audit_ids": ["stub"],
                "user": {"id": f"user-{project_id}", "name": "user", "domain": domain},
                "project": {"id": project_id, "name": project_id, "domain": domain},
                "roles": [{"id": f"role-{r}", "name": r} for r in roles],
                "catalog": [],
            }
        }
        self._send(handler, 200, body, {"X-Subject-Token": subject})

    @staticmethod
    def _send(handler, status: int, body: dict, headers: dict | None = None) -> None:
        data = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.end_headers()
        handler.wfile.write(data)
