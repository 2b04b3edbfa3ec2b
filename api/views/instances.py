"""Instance registration: ``PUT|GET|DELETE /v1/instance/<id>``, ``GET /v1/instance``."""

from flask import Blueprint, Response, jsonify, request

from api import bodies, claims, instances, policies
from api.db import session
from api.state import app_state
from api.views import caller
from logsvc.exceptions import BadRequest, Forbidden

bp = Blueprint("instances", __name__, url_prefix="/v1/instance")
bp.before_request(caller.authenticate)


def _sees_agents() -> bool:
    """Whether the caller is shown the agents' addresses: those who see every project."""
    who = caller.current()
    return policies.allowed(app_state().enforcer, who, policies.INSTANCE_LIST_ALL, who.project_id)


def _busy(ids: list[str]) -> set[str]:
    """Which of the instances publish now (their task is LOGGING)."""
    return claims.publishing_among(session(), ids, app_state().conf.api.agent_silence_warning)


@bp.get("")
def list_instances() -> tuple[Response, int]:
    unknown = sorted(set(request.args) - {"tenant_id"})
    if unknown:
        raise BadRequest(f"unknown query parameter(s): {', '.join(unknown[:5])}")
    tenant_id = request.args.get("tenant_id")
    if tenant_id is not None:
        bodies.tenant_id(tenant_id)
    found = instances.visible(session(), app_state().enforcer, caller.current(), tenant_id)
    busy = _busy([i.id for i in found])
    admin = _sees_agents()
    return jsonify(instances=[instances.view(i, admin, busy) for i in found]), 200


@bp.put("/<instance_id>")
def register(instance_id: str) -> tuple[Response, int]:
    state, who = app_state(), caller.current()
    bodies.instance_id(instance_id)
    # The same answer whether the id exists or not: nothing is learnt from it.
    refusal = Forbidden("registering instances is for admins")
    policies.authorize(state.enforcer, who, policies.INSTANCE_REGISTER, who.project_id, refusal)
    instance, created = instances.register(
        session(), instance_id, bodies.json_object(), state.conf.agent.shared_secret
    )
    return jsonify(
        instance=instances.view(instance, True, _busy([instance.id]))
    ), 201 if created else 200


@bp.get("/<instance_id>")
def show(instance_id: str) -> Response:
    instance = instances.find(
        session(), app_state().enforcer, caller.current(), bodies.instance_id(instance_id)
    )
    return jsonify(instance=instances.view(instance, _sees_agents(), _busy([instance.id])))


@bp.delete("/<instance_id>")
def delete(instance_id: str) -> tuple[str, int]:
    enforcer, who = app_state().enforcer, caller.current()
    instance = instances.find(session(), enforcer, who, bodies.instance_id(instance_id))
    policies.authorize(enforcer, who, policies.INSTANCE_DELETE, instance.tenant_id)
    instances.forget(session(), instance)
    return "", 204
