"""The agent's HTTP endpoint: JSON, and only requests the API has signed.

    GET  /v1/info                       instance, datastore, version, log names
    GET  /v1/logs[?admin=true]          {"logs": [Log, ...]}
    GET  /v1/logs/<name>[?admin=true]   {"log": Log}
    POST /v1/logs/<name>                {"admin": bool, "enable": bool, "disable": bool,
                                         "publish": bool, "discard": bool}
                                        -> {"log": Log, "report": {...} | null}

Every request must carry a valid signature (logsvc.signing); refusals are
401 with a distinct code (unsigned, bad_signature, stale, replayed). The
caller's role travels in the signed request: the API decides who is admin.
"""

import dataclasses
import logging
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

import logsvc
from guestagent.manager import LogManager
from logsvc.exceptions import BadRequest, LogsvcError
from logsvc.httperrors import error_body, status_for
from logsvc.layout import valid_log_name
from logsvc.requestbody import read_body
from logsvc.signing import Verifier

LOG = logging.getLogger(__name__)
MAX_BODY = 64 * 1024
_FLAGS = ("enable", "disable", "publish", "discard")


def create_app(manager: LogManager, verifier: Verifier) -> Flask:
    """The endpoint as a WSGI application."""
    app = Flask("logsvc-guestagent")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    app.url_map.merge_slashes = False  # "//" is no route: a 404, not a redirect

    @app.before_request
    def check_signature() -> None:
        query = request.query_string.decode("latin-1")
        path = request.path + (f"?{query}" if query else "")
        verifier.verify(
            request.method,
            path,
            read_body(request),
            request.headers,
            instance=manager.instance_id,
        )

    @app.get("/v1/info")
    def info() -> Response:
        return jsonify(
            instance_id=manager.instance_id,
            datastore=manager.datastore.name,
            version=logsvc.__version__,
            logs=sorted(manager.publishers),
        )

    @app.get("/v1/logs")
    def list_logs() -> Response:
        admin = _query_flag("admin")
        return jsonify(logs=[v.to_dict() for v in manager.list_logs(admin=admin)])

    @app.get("/v1/logs/<name>")
    def show_log(name: str) -> Response:
        return jsonify(log=manager.show(_log_name(name), admin=_query_flag("admin")).to_dict())

    @app.post("/v1/logs/<name>")
    def act(name: str) -> Response:
        body = _json_body()
        flags = {flag: _bool(body, flag) for flag in _FLAGS}
        unknown = set(body) - {"admin", *_FLAGS}
        if unknown:
            raise BadRequest(f"unknown field(s): {', '.join(sorted(unknown))}")
        view, report = manager.act(_log_name(name), admin=_bool(body, "admin"), **flags)
        return jsonify(log=view.to_dict(), report=dataclasses.asdict(report) if report else None)

    @app.errorhandler(LogsvcError)
    def logsvc_error(error: LogsvcError) -> tuple[Response, int]:
        status = status_for(error)
        if status >= 500:
            LOG.warning("%s %s: %s", request.method, request.path, error.message)
        return jsonify(error_body(error)), status

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[Response, int]:
        code = (error.name or "error").lower().replace(" ", "_")
        body = {"error": {"code": code, "message": error.description, "status": error.code}}
        return jsonify(body), error.code or 500

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> tuple[Response, int]:
        LOG.exception("%s %s failed", request.method, request.path)
        body = {"error": {"code": "internal_error", "message": "internal error", "status": 500}}
        return jsonify(body), 500

    return app


def _log_name(name: str) -> str:
    if not valid_log_name(name):
        raise BadRequest(f"{name[:80]!r} is not a log name")
    return name


def _query_flag(name: str) -> bool:
    value = request.args.get(name, "false").lower()
    if value not in ("true", "false", "1", "0"):
        raise BadRequest(f"query parameter {name} must be true or false")
    return value in ("true", "1")


def _json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    return body


def _bool(body: dict[str, Any], name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise BadRequest(f"{name} must be true or false")
    return value
