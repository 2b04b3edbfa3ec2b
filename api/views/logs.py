"""The spec's log routes: ``GET|POST /v1/instance/<id>/log``."""

from flask import Blueprint, Response, jsonify

from api import bodies, logs
from api.db import session
from api.state import app_state
from api.views import caller

bp = Blueprint("logs", __name__, url_prefix="/v1/instance")
bp.before_request(caller.authenticate)


@bp.get("/<instance_id>/log")
def list_logs(instance_id: str) -> Response:
    bodies.instance_id(instance_id)
    return jsonify(logs.list_logs(session(), app_state(), caller.current(), instance_id))


@bp.post("/<instance_id>/log")
def post_log(instance_id: str) -> Response:
    bodies.instance_id(instance_id)
    name, flags = bodies.log_request(bodies.json_object())
    answer = logs.post_log(session(), app_state(), caller.current(), instance_id, name, flags)
    return jsonify(answer)
