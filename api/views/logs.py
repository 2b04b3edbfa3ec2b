"""The spec's log routes: ``GET|POST /v1/instance/<id>/log``, the read route
``GET /v1/instance/<id>/log/<name>/data``, and a log's objects as temp URLs:
``GET /v1/instance/<id>/log/<name>/objects``."""

from flask import Blueprint, Response, jsonify, request

from api import bodies, callerstore, logread, logs, tempurls
from api.db import session
from api.state import app_state
from api.views import caller
from logsvc.exceptions import BadRequest

bp = Blueprint("logs", __name__, url_prefix="/v1/instance")
bp.before_request(caller.authenticate)


@bp.get("/<instance_id>/log")
def list_logs(instance_id: str) -> Response:
    bodies.instance_id(instance_id)
    return jsonify(logs.list_logs(session(), app_state(), caller.current(), instance_id))


@bp.post("/<instance_id>/log")
def post_log(instance_id: str) -> tuple[Response, int]:
    bodies.instance_id(instance_id)
    name, flags = bodies.log_request(bodies.json_object())
    answer, status = logs.post_log(
        session(), app_state(), caller.current(), instance_id, name, flags, request.headers
    )
    return jsonify(answer), status


def log_data(instance_id: str, name: str) -> Response:
    """The read route's answer (here and under Trove's prefix): the log's bytes, streamed."""
    lines = logread.parse_lines(request.args.get("lines"))
    state = app_state()
    layout, reader = logread.open_log(
        session(), state, caller.current(), instance_id, name, request.headers
    )
    data = logread.answer(
        layout,
        reader,
        lines=lines,
        range_header=request.headers.get("Range"),
        if_range=request.headers.get("If-Range"),
        if_none_match=request.headers.get("If-None-Match"),
    )
    # direct_passthrough: the chunks go out as they come, never gathered
    response = Response(data.chunks, data.status, data.headers, direct_passthrough=True)
    if reader is not None and callerstore.per_project(state.conf):
        response.call_on_close(reader.store.close)  # the caller's own store, this read's
    return response


@bp.get("/<instance_id>/log/<log_name>/data")
def get_log_data(instance_id: str, log_name: str) -> Response:
    bodies.instance_id(instance_id)
    bodies.log_name(log_name)
    return log_data(instance_id, log_name)


@bp.get("/<instance_id>/log/<log_name>/objects")
def log_objects(instance_id: str, log_name: str) -> Response:
    bodies.instance_id(instance_id)
    bodies.log_name(log_name)
    unknown = sorted(set(request.args) - {"line_counts"})
    if unknown:
        raise BadRequest(f"unknown query parameter(s): {', '.join(unknown)[:200]}")
    line_counts = bodies.flag("line_counts", request.args.get("line_counts", "true"))
    answer = tempurls.object_list(
        session(), app_state(), caller.current(), instance_id, log_name, line_counts
    )
    response = jsonify(answer)
    response.headers["Cache-Control"] = "no-store"  # signed URLs: not for caches
    return response
