"""The log routes' work, shared by the spec's and Trove's routes.

What log-list answers from: the database, when it holds the agent's complete
list (kept by heartbeats, admin lists and actions) refreshed within
``[api] log_list_max_age`` seconds and, for a non-admin, knows which logs are
exposed; otherwise the agent, live, whose answer is stored. When the agent
cannot be reached, the stored state is answered with ``"stale": true``, when
the agent was last seen and why it was not reached now. With
``log_list_max_age = 0`` every list asks the agent.

Actions (enable, disable, publish, discard) always go to the agent, one at a
time per log (api.claims: a second one is refused with 409), and store the
log's new state. A body with only a name (show) asks the agent too, and
answers the log's last known state, marked stale as a list is, when the
agent cannot be reached (so that log-tail and log-save, which read the
object store, still find the log's objects).
"""

from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from api import claims, instances, logstate, policies
from api.auth import Caller
from api.dispatch import AgentClient
from api.models import Instance, utcnow
from logsvc.exceptions import AgentTimeout, AgentUnreachable, ConfigError
from logsvc.logmodel import LogView

if TYPE_CHECKING:
    from api.state import ApiState

_RULES = {
    "enable": policies.LOG_ENABLE,
    "disable": policies.LOG_DISABLE,
    "publish": policies.LOG_PUBLISH,
    "discard": policies.LOG_DISCARD,
}


def agent_for(state: "ApiState", instance: Instance) -> AgentClient:
    """The client of the instance's agent, signing with its secret or the default one."""
    secret = instance.shared_secret or state.conf.agent.shared_secret
    if not secret:
        raise ConfigError(
            f"instance {instance.id} has no shared secret and [agent] shared_secret is not set"
        )
    return AgentClient(
        instance.id,
        instance.agent_url,
        secret,
        state.conf.agent.connect_timeout,
        state.conf.agent.call_timeout,
        state.http,
        state.inflight,
    )


def list_logs(
    session: Session, state: "ApiState", caller: Caller, instance_id: str
) -> dict[str, Any]:
    """``{"logs": [...]}`` for the caller, plus the stale marker when answered from old state."""
    instance = instances.find(session, state.enforcer, caller, instance_id)
    policies.authorize(state.enforcer, caller, policies.LOG_LIST, instance.tenant_id)
    admin = policies.allowed(state.enforcer, caller, policies.LOG_UNEXPOSED, instance.tenant_id)
    rows = logstate.known(session, instance.id)
    max_age = state.conf.api.log_list_max_age
    if (
        rows
        and max_age > 0
        and instance.logs_updated_at is not None
        and (utcnow() - instance.logs_updated_at).total_seconds() <= max_age
        and (admin or all(r.exposed is not None for r in rows))
    ):
        return {"logs": [v.to_dict() for v in logstate.visible(rows, admin)]}
    try:
        views = agent_for(state, instance).list_logs(admin)
    except (AgentUnreachable, AgentTimeout) as exc:
        if not rows:
            raise
        return {"logs": [v.to_dict() for v in logstate.visible(rows, admin)]} | _stale(
            instance, exc
        )
    logstate.record(session, instance, views, complete=admin, exposed_listing=not admin)
    return {"logs": [v.to_dict() for v in views]}


def _stale(instance: Instance, exc: AgentUnreachable | AgentTimeout) -> dict[str, Any]:
    """The marker of an answer from the last known state: since when, and why."""
    return {"stale": True, "last_seen": instances.iso(instance.last_seen), "reason": exc.message}


def _show(
    session: Session, instance: Instance, agent: AgentClient, name: str, admin: bool
) -> tuple[LogView, dict[str, Any]]:
    """The log from its agent, or its last known state when the agent is out of reach."""
    try:
        return agent.show(name, admin), {}
    except (AgentUnreachable, AgentTimeout) as exc:
        known = [r for r in logstate.known(session, instance.id) if r.name == name]
        views = logstate.visible(known, admin)
        if not views:
            raise
        return views[0], _stale(instance, exc)


def post_log(
    session: Session,
    state: "ApiState",
    caller: Caller,
    instance_id: str,
    name: str,
    flags: dict[str, bool],
) -> dict[str, Any]:
    """Show (no flag) or act on one log; ``{"log": {...}}``."""
    instance = instances.find(session, state.enforcer, caller, instance_id)
    for flag in flags or ("show",):
        rule = _RULES.get(flag, policies.LOG_SHOW)
        policies.authorize(state.enforcer, caller, rule, instance.tenant_id)
    admin = policies.allowed(state.enforcer, caller, policies.LOG_UNEXPOSED, instance.tenant_id)
    agent = agent_for(state, instance)
    if not flags:
        view, stale = _show(session, instance, agent, name, admin)
        if stale:
            return {"log": view.to_dict()} | stale
    else:
        action = claims.PUBLISH if flags.get("publish") else "+".join(sorted(flags))
        ttl = state.conf.agent.connect_timeout + state.conf.agent.call_timeout + 60
        token = claims.claim(state.db, instance.id, name, action, ttl)
        try:
            view = agent.act(name, admin, flags)
        finally:
            claims.release(state.db, instance.id, name, token)
    # A non-admin reached it: it is exposed. An admin's request says nothing.
    logstate.record(session, instance, [view], complete=False, exposed=None if admin else True)
    return {"log": view.to_dict()}
