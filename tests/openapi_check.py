"""Every response of the API, checked against its OpenAPI document.

`OpenApiChecker.check` matches a response to its operation (path template and
method), then checks that the status is one the operation documents and that
the JSON body matches that status's schema. A URL the document does not know
must answer a documented error shape (404/405).

`CheckingMiddleware` wraps the API's WSGI application, in the test client and
in every API process the tests start (tests/api_server.py), so that no
response escapes the check, whichever client asked: requests, curl-like
calls, python-troveclient or the openstack CLI.
"""

import json
import re
import threading
from pathlib import Path
from typing import Any

import jsonschema

from api import openapi


class OpenApiChecker:
    """The document's operations, and the check of one response against them."""

    def __init__(self, document: dict[str, Any] | None = None):
        self.document = document or openapi.document()
        self.components = self.document["components"]
        self.paths = []
        for template, item in self.document["paths"].items():
            pieces = re.split(r"\{[^}]+\}", template)
            pattern = "[^/]+".join(re.escape(piece) for piece in pieces)
            literal = template.count("{")
            self.paths.append((literal, re.compile(f"^{pattern}$"), template, item))
        self.paths.sort(key=lambda p: p[0])  # literal paths win over templated ones

    def _validate(self, schema: dict[str, Any], body: Any) -> str | None:
        validator = jsonschema.Draft202012Validator(
            {**schema, "components": self.components},
            format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
        )
        error = jsonschema.exceptions.best_match(validator.iter_errors(body))
        return None if error is None else f"{error.json_path}: {error.message}"

    def check(
        self, method: str, path: str, status: int, content_type: str, body: bytes
    ) -> list[str]:
        """What is wrong with this response (nothing: an empty list)."""
        where = f"{method} {path} -> {status}"
        if path == "/console" or path.startswith("/console/"):
            return []  # the web console's pages: HTML for browsers, not the REST API
        for _, regex, _template, item in self.paths:
            if regex.match(path):
                operation = item.get(method.lower())
                if operation is None:
                    return self._undocumented(where, path, status, content_type, body, (405,))
                return self._check_operation(where, operation, status, content_type, body)
        return self._undocumented(where, path, status, content_type, body, (404, 405))

    def _check_operation(self, where, operation, status, content_type, body) -> list[str]:
        response = operation["responses"].get(str(status)) or operation["responses"].get("default")
        if response is None:
            return [f"{where}: status {status} is not documented for this operation"]
        content = response.get("content")
        if not content:
            return [] if not body else [f"{where}: documented without a body, but has one"]
        if "application/json" not in content:  # bytes: the content type is all there is to check
            media = content_type.split(";")[0].strip()
            return [] if media in content else [f"{where}: content type {content_type!r}"]
        return self._check_json(where, content["application/json"]["schema"], content_type, body)

    def _undocumented(self, where, path, status, content_type, body, statuses) -> list[str]:
        if status not in statuses:
            return [f"{where}: not a documented operation, and not a {statuses} error"]
        schema = {
            "$ref": "#/components/schemas/"
            + ("TroveError" if path.startswith("/v1.0/") else "Error")
        }
        return self._check_json(where, schema, content_type, body)

    def _check_json(self, where, schema, content_type, body) -> list[str]:
        if not content_type.startswith("application/json"):
            return [f"{where}: content type {content_type!r}, not JSON"]
        try:
            data = json.loads(body)
        except ValueError:
            return [f"{where}: the body is not JSON: {body[:200]!r}"]
        problem = self._validate(schema, data)
        return [] if problem is None else [f"{where}: {problem}"]


class CheckingMiddleware:
    """A WSGI wrapper that checks each response and records what is wrong.

    Problems go to `sink` (a file, one JSON line each: API processes write
    there and the test that stops them reads it) and to `problems`.
    """

    def __init__(self, app, checker: OpenApiChecker | None = None, sink: Path | None = None):
        self.app = app
        self.checker = checker or OpenApiChecker()
        self.sink = sink
        self.problems: list[str] = []
        self.checked = 0
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        captured: dict[str, Any] = {}

        def capture(status, headers, exc_info=None):
            captured["status"] = int(status.split()[0])
            captured["headers"] = headers
            return start_response(status, headers, exc_info)

        result = self.app(environ, capture)
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        if environ["REQUEST_METHOD"] != "HEAD":
            content_type = next(
                (v for k, v in captured.get("headers", []) if k.lower() == "content-type"), ""
            )
            problems = self.checker.check(
                environ["REQUEST_METHOD"],
                environ.get("PATH_INFO", ""),
                captured.get("status", 0),
                content_type,
                body,
            )
            self._record(problems)
        return [body]

    def _record(self, problems: list[str]) -> None:
        with self._lock:
            self.checked += 1
            self.problems.extend(problems)
            if problems and self.sink:
                with open(self.sink, "a", encoding="utf-8") as f:
                    for problem in problems:
                        f.write(json.dumps(problem) + "\n")


def read_sink(sink: Path) -> list[str]:
    """The problems API processes recorded in `sink`."""
    if not sink.exists():
        return []
    return [json.loads(line) for line in sink.read_text().splitlines() if line.strip()]
