"""Trove's routes, so that python-troveclient and ``openstack database log`` work
unmodified: ``/v1.0/<tenant_id>/instances[/<id>[/log]]``, same bodies as the
spec's routes, errors shaped as Trove shapes them (see api.app).

The tenant in the URL must be the caller's own (an admin may name any): for
another tenant's URL, an instance is answered as one that does not exist.
"""

from flask import Blueprint, Response, jsonify, request

from api import bodies, claims, instances, logs, policies
from api.db import session
from api.state import app_state
from api.views import caller
from api.views.logs import log_data
from api.views.meta import public_base
from logsvc.exceptions import Forbidden

bp = Blueprint("trove", __name__, url_prefix="/v1.0/<tenant_id>")
bp.before_request(caller.authenticate)


def _own(tenant_id: str, instance_id: str | None) -> None:
    bodies.tenant_id(tenant_id)
    who = caller.current()
    if tenant_id == who.project_id or policies.allowed(
        app_state().enforcer, who, policies.INSTANCE_LIST_ALL, who.project_id
    ):
        return
    if instance_id is None:
        raise Forbidden("the URL names another project than the token's")
    raise instances.not_found(instance_id)


def _find(tenant_id: str, instance_id: str):
    bodies.instance_id(instance_id)
    _own(tenant_id, instance_id)
    instance = instances.find(session(), app_state().enforcer, caller.current(), instance_id)
    if instance.tenant_id != tenant_id:
        raise instances.not_found(instance_id)
    return instance


@bp.get("/instances")
def list_instances(tenant_id: str) -> Response:
    # python-troveclient sends include_clustered, limit and marker: one page holds all.
    _own(tenant_id, None)
    found = instances.visible(session(), app_state().enforcer, caller.current(), tenant_id)
    base = public_base() + f"/v1.0/{tenant_id}"
    busy = claims.publishing_among(
        session(), [i.id for i in found], app_state().conf.api.agent_silence_warning
    )
    return jsonify(instances=[instances.trove_view(i, base, busy) for i in found], links=[])


@bp.get("/instances/<instance_id>")
def show_instance(tenant_id: str, instance_id: str) -> Response:
    instance = _find(tenant_id, instance_id)
    base = public_base() + f"/v1.0/{tenant_id}"
    busy = claims.publishing_among(
        session(), [instance.id], app_state().conf.api.agent_silence_warning
    )
    return jsonify(instance=instances.trove_view(instance, base, busy))


@bp.get("/instances/<instance_id>/log")
def list_logs(tenant_id: str, instance_id: str) -> Response:
    _find(tenant_id, instance_id)
    return jsonify(logs.list_logs(session(), app_state(), caller.current(), instance_id))


@bp.post("/instances/<instance_id>/log")
def post_log(tenant_id: str, instance_id: str) -> tuple[Response, int]:
    _find(tenant_id, instance_id)
    name, flags = bodies.log_request(bodies.json_object())
    answer, status = logs.post_log(
        session(), app_state(), caller.current(), instance_id, name, flags, request.headers
    )
    return jsonify(answer), status


@bp.get("/instances/<instance_id>/log/<log_name>/data")
def get_log_data(tenant_id: str, instance_id: str, log_name: str) -> Response:
    _find(tenant_id, instance_id)
    bodies.log_name(log_name)
    return log_data(instance_id, log_name)
