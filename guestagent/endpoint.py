"""The agent's HTTP endpoint: JSON, and only requests the API has signed.

    GET  /v1/info                       instance, datastore, version, log names
    GET  /v1/logs[?admin=true]          {"logs": [Log, ...]}
    GET  /v1/logs/<name>[?admin=true]   {"log": Log}
    POST /v1/logs/<name>                {"admin": bool, "enable": bool, "disable": bool,
                                         "publish": bool, "discard": bool, "wait": seconds,
                                         "follow": bool (absent: unchanged),
                                         "storage": {"url", "token"} (the caller's
                                         account, [storage] account = project)}
                                        -> {"log": Log}: 200, or 202 while the publish runs

A publish runs in a thread of its own (guestagent.publishjobs): the answer
comes when it ends or after ``wait`` seconds (the API sends its ``[api]
publish_wait``; without it, when it ends), whichever is first; 202 says it
still runs (the log's ``publish.state`` is ``running``).

Every request must carry a valid signature (logsvc.signing); refusals are
401 with a distinct code (unsigned, bad_signature, stale, replayed). The
caller's role travels in the signed request: the API decides who is admin.
Errors are answered as the API answers them (logsvc.httperrors).
"""

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, request

import logsvc
from guestagent.manager import LogManager
from logsvc.exceptions import BadRequest
from logsvc.httperrors import register_error_handler
from logsvc.layout import valid_log_name
from logsvc.requestbody import read_body
from logsvc.signing import Verifier
from logsvc.storage.caller import CallerStorage

MAX_BODY = 64 * 1024
EXTENSION = "logsvc-guestagent"
_FLAGS = ("enable", "disable", "publish", "discard")
#: The longest a request may ask to wait for a publish (the API's call timeout is longer).
MAX_WAIT = 3600.0

bp = Blueprint("agent", __name__, url_prefix="/v1")


@dataclass(frozen=True)
class Endpoint:
    """What the endpoint's views use: the agent's logs, and who may ask."""

    manager: LogManager
    verifier: Verifier


def create_app(manager: LogManager, verifier: Verifier) -> Flask:
    """The endpoint as a WSGI application."""
    app = Flask("logsvc-guestagent")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    app.url_map.merge_slashes = False  # "//" is no route: a 404, not a redirect
    app.config["PROVIDE_AUTOMATIC_OPTIONS"] = False  # OPTIONS is a 405, as on the API
    app.extensions[EXTENSION] = Endpoint(manager, verifier)
    app.register_blueprint(bp)
    register_error_handler(app)
    return app


def _endpoint() -> Endpoint:
    return current_app.extensions[EXTENSION]


@bp.before_app_request
def check_signature() -> None:
    """Every request, routed or not, must be signed by the API: 401 before anything else."""
    endpoint = _endpoint()
    query = request.query_string.decode("latin-1")
    path = request.path + (f"?{query}" if query else "")
    endpoint.verifier.verify(
        request.method,
        path,
        read_body(request),
        request.headers,
        instance=endpoint.manager.instance_id,
    )


@bp.get("/info")
def info() -> Response:
    manager = _endpoint().manager
    return jsonify(
        instance_id=manager.instance_id,
        datastore=manager.datastore.name,
        version=logsvc.__version__,
        logs=sorted(manager.publishers),
    )


@bp.get("/logs")
def list_logs() -> Response:
    views = _endpoint().manager.list_logs(admin=_query_flag("admin"))
    return jsonify(logs=[v.to_dict() for v in views])


@bp.get("/logs/<name>")
def show_log(name: str) -> Response:
    view = _endpoint().manager.show(_log_name(name), admin=_query_flag("admin"))
    return jsonify(log=view.to_dict())


@bp.post("/logs/<name>")
def act(name: str) -> tuple[Response, int]:
    body = _json_body()
    flags = {flag: _bool(body, flag) for flag in _FLAGS}
    unknown = set(body) - {"admin", "wait", "follow", "storage", *_FLAGS}
    if unknown:
        raise BadRequest(f"unknown field(s): {', '.join(sorted(unknown))}")
    follow = _bool(body, "follow") if "follow" in body else None
    storage = CallerStorage.from_wire(body["storage"]) if "storage" in body else None
    view = _endpoint().manager.act(
        _log_name(name),
        admin=_bool(body, "admin"),
        wait=_wait(body),
        follow=follow,
        storage=storage,
        **flags,
    )
    running = flags["publish"] and view.publish is not None and view.publish.running
    return jsonify(log=view.to_dict()), 202 if running else 200


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


def _wait(body: dict[str, Any]) -> float | None:
    value = body.get("wait")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise BadRequest("wait must be a number of seconds, 0 or more")
    return min(float(value), MAX_WAIT)


def _bool(body: dict[str, Any], name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise BadRequest(f"{name} must be true or false")
    return value
