"""The spec's log routes: ``GET|POST /v1/instance/<id>/log``."""

from flask import Blueprint, Response, jsonify

from api import bodies, logs
from api.auth import authenticate_request, current_caller
from api.state import app_state

bp = Blueprint("logs", __name__, url_prefix="/v1/instance")
bp.before_request(authenticate_request)


@bp.get("/<instance_id>/log")
def list_logs(instance_id: str) -> Response:
    bodies.instance_id(instance_id)
    return jsonify(logs.list_logs(app_state(), current_caller(), instance_id))


@bp.post("/<instance_id>/log")
def post_log(instance_id: str) -> Response:
    bodies.instance_id(instance_id)
    name, flags = bodies.log_request(bodies.json_object())
    return jsonify(logs.post_log(app_state(), current_caller(), instance_id, name, flags))
