"""``POST /v1/instance/<id>/heartbeat``: agents report in (signed, no user token)."""

from flask import Blueprint

from api import bodies, heartbeat
from api.state import app_state

bp = Blueprint("heartbeat", __name__, url_prefix="/v1/instance")


@bp.post("/<instance_id>/heartbeat")
def receive(instance_id: str) -> tuple[str, int]:
    heartbeat.receive(app_state(), bodies.instance_id(instance_id))
    return "", 204
