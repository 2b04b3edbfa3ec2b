"""``POST /v1/instance/<id>/heartbeat``: agents report in (signed, no user token)."""

from flask import Blueprint, request

from api import bodies, heartbeat
from api.db import session
from api.state import app_state
from logsvc.requestbody import read_body
from logsvc.signing import check_headers

bp = Blueprint("heartbeat", __name__, url_prefix="/v1/instance")


@bp.post("/<instance_id>/heartbeat")
def receive(instance_id: str) -> tuple[str, int]:
    conf = app_state().conf
    instance_id = bodies.instance_id(instance_id)
    max_skew = conf.api.heartbeat_max_clock_skew
    # Unsigned, malformed or stale: refused before the body is read.
    check_headers(request.headers, max_skew)
    instance, stamp = heartbeat.authenticate(
        session(),
        instance_id,
        request.method,
        request.path,
        read_body(request),
        request.headers,
        default_secret=conf.agent.shared_secret,
        max_skew=max_skew,
    )
    heartbeat.record(session(), instance, stamp, bodies.json_object())
    return "", 204
