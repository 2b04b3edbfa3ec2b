"""Instance registration: ``PUT|GET|DELETE /v1/instance/<id>``, ``GET /v1/instance``."""

from flask import Blueprint, Response, jsonify, request

from api import bodies, claims, instances, policies
from api.auth import authenticate_request, current_caller
from api.db import session
from api.state import app_state
from logsvc.exceptions import BadRequest, Forbidden

bp = Blueprint("instances", __name__, url_prefix="/v1/instance")
bp.before_request(authenticate_request)


@bp.get("")
def list_instances() -> tuple[Response, int]:
    state, caller = app_state(), current_caller()
    unknown = sorted(set(request.args) - {"tenant_id"})
    if unknown:
        raise BadRequest(f"unknown query parameter(s): {', '.join(unknown[:5])}")
    tenant_id = request.args.get("tenant_id")
    admin = instances.is_admin(state, caller)
    found = instances.visible(session(), state, caller, tenant_id)
    busy = claims.publishing_among(session(), [i.id for i in found])
    return jsonify(instances=[instances.view(session(), i, admin, busy) for i in found]), 200


@bp.put("/<instance_id>")
def register(instance_id: str) -> tuple[Response, int]:
    state, caller = app_state(), current_caller()
    bodies.instance_id(instance_id)
    if not instances.is_admin(state, caller, policies.INSTANCE_REGISTER):
        # The same answer whether the id exists or not: nothing is learnt from it.
        raise Forbidden("registering instances is for admins")
    instance, created = instances.register(
        session(), instance_id, bodies.json_object(), state.conf.agent.shared_secret
    )
    return jsonify(instance=instances.view(session(), instance, True)), 201 if created else 200


@bp.get("/<instance_id>")
def show(instance_id: str) -> Response:
    state, caller = app_state(), current_caller()
    instance = instances.find(session(), state, caller, bodies.instance_id(instance_id))
    return jsonify(instance=instances.view(session(), instance, instances.is_admin(state, caller)))


@bp.delete("/<instance_id>")
def delete(instance_id: str) -> tuple[str, int]:
    state, caller = app_state(), current_caller()
    instance = instances.find(session(), state, caller, bodies.instance_id(instance_id))
    instances.authorize(state, caller, policies.INSTANCE_DELETE, instance)
    instances.forget(session(), instance)
    return "", 204
