"""The log routes' work, shared by the spec's and Trove's routes.

What log-list answers from: the database, when it holds the agent's complete
list (kept by heartbeats, admin lists and actions) refreshed within
``[api] log_list_max_age`` seconds and, for a non-admin, knows which logs are
exposed; otherwise the agent, live, whose answer is stored (an admin's
whole; of a user's, what is new: logs not stored yet, exposure). When the agent
cannot be reached, the stored state is answered with ``"stale": true``, when
the agent was last seen and why it was not reached now. With
``log_list_max_age = 0`` every list asks the agent.

Actions (enable, disable, publish, discard) always go to the agent, one at a
time per log (api.claims: a second one is refused with 409, but a publish
asked while a publish runs joins it), and store the log's new state. A
publish is answered within ``[api] publish_wait`` seconds: 200 and the log
when it ended in that time, else 202 and the log's current state, whose
``publish`` outcome says it runs; the agent reports the end in its answers
and heartbeats. A body with only a name (show) asks the agent too, stores
only what is new as a user's list does (logstate.tells_nothing_new), and
answers the log's last known state, marked stale as a list is, when the
agent cannot be reached (so that log-tail and log-save, which read the
object store, still find the log's objects).
"""

import contextlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from api import callerstore, claims, instances, logstate, policies
from api.auth import Caller
from api.dispatch import AgentClient
from api.models import Instance, utcnow
from logsvc.exceptions import (
    AgentTimeout,
    AgentUnreachable,
    ConfigError,
    DatastoreError,
    LogFileMissing,
    LogFileUnreadable,
    StateError,
    StorageError,
)
from logsvc.logmodel import LogView

if TYPE_CHECKING:
    from api.state import ApiState

_RULES = {
    "enable": policies.LOG_ENABLE,
    "disable": policies.LOG_DISABLE,
    "publish": policies.LOG_PUBLISH,
    "discard": policies.LOG_DISCARD,
    # Switching continuous publishing is switching the log: the enable rule.
    "follow": policies.LOG_ENABLE,
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
        rpc=state.rpc,
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
    silence = state.conf.api.agent_silence_warning

    def stored() -> list[dict[str, Any]]:
        return [
            logstate.settled(v, instance, silence).to_dict() for v in logstate.visible(rows, admin)
        ]

    if (
        rows
        and max_age > 0
        and instance.logs_updated_at is not None
        and (utcnow() - instance.logs_updated_at).total_seconds() <= max_age
        and (admin or all(r.exposed is not None for r in rows))
    ):
        return {"logs": stored()}
    try:
        views = agent_for(state, instance).list_logs(admin)
    except (AgentUnreachable, AgentTimeout) as exc:
        if not rows:
            raise
        return {"logs": stored()} | _stale(instance, exc)
    # An admin's list is complete: it refreshes what lists answer from.
    if admin or not logstate.tells_nothing_new(rows, views, exposed_listing=True):
        logstate.record(session, instance, views, complete=admin, exposed_listing=not admin)
    return {"logs": [v.to_dict() for v in views]}


def _stale(instance: Instance, exc: AgentUnreachable | AgentTimeout) -> dict[str, Any]:
    """The marker of an answer from the last known state: since when, and why."""
    return {"stale": True, "last_seen": instances.iso(instance.last_seen), "reason": exc.message}


def show_log(
    session: Session,
    instance: Instance,
    agent: AgentClient,
    name: str,
    admin: bool,
    silence: float,
) -> tuple[LogView, dict[str, Any]]:
    """The log from its agent, or its last known state when the agent is out of reach."""
    try:
        return agent.show(name, admin), {}
    except (AgentUnreachable, AgentTimeout) as exc:
        known = [r for r in logstate.known(session, instance.id) if r.name == name]
        views = logstate.visible(known, admin)
        if not views:
            raise
        return logstate.settled(views[0], instance, silence), _stale(instance, exc)


# The errors a publish ends with, as the agent answers them (not those of
# reaching the agent, nor a refusal to start: the publish may run on then).
PUBLISH_ENDED = (StorageError, LogFileMissing, LogFileUnreadable, StateError, DatastoreError)


def post_log(
    session: Session,
    state: "ApiState",
    caller: Caller,
    instance_id: str,
    name: str,
    flags: dict[str, bool],
    headers: Mapping[str, str] | None = None,
) -> tuple[dict[str, Any], int]:
    """Show (no flag) or act on one log: ``{"log": {...}}`` and the HTTP status.

    202 for a publish that still runs after ``[api] publish_wait`` seconds.
    `headers`: the request's, where ``[storage] account = project`` finds the
    caller's token and catalog for a publish or a discard.
    """
    instance = instances.find(session, state.enforcer, caller, instance_id)
    for flag in flags or ("show",):
        rule = _RULES.get(flag, policies.LOG_SHOW)
        policies.authorize(state.enforcer, caller, rule, instance.tenant_id)
    callerstore.check_follow(state.conf, flags)
    storage = None
    if callerstore.per_project(state.conf) and (flags.get("publish") or flags.get("discard")):
        storage = callerstore.for_request(
            state.conf, headers or {}, caller.project_id, instance.tenant_id
        )
    admin = policies.allowed(state.enforcer, caller, policies.LOG_UNEXPOSED, instance.tenant_id)
    agent = agent_for(state, instance)
    publish = bool(flags.get("publish"))
    if not flags:
        silence = state.conf.api.agent_silence_warning
        view, stale = show_log(session, instance, agent, name, admin, silence)
        if stale:
            return {"log": view.to_dict()} | stale, 200
        exposed = None if admin else True
        if logstate.tells_nothing_new(
            logstate.known(session, instance.id), [view], exposed=exposed
        ):
            return {"log": view.to_dict()}, 200
    else:
        action = claims.PUBLISH if publish else "+".join(sorted(flags))
        if "follow" in flags and not flags["follow"] and len(flags) == 1:
            action = "nofollow"
        ttl = state.conf.agent.connect_timeout + state.conf.agent.call_timeout + 60
        # A publish while a publish request waits joins it: the agent runs one.
        token = claims.claim(state.db, instance.id, name, action, ttl, join=publish)
        try:
            wait = state.conf.api.publish_wait if publish else None
            view = agent.act(name, admin, flags, wait, storage=storage)
        except PUBLISH_ENDED as exc:
            if publish:  # the agent's answer: the publish it may have reported running ended
                with contextlib.suppress(SQLAlchemyError):  # the agent's error comes first
                    logstate.publish_failed(session, instance.id, name, exc.message)
            raise
        finally:
            if token is not None:
                claims.release(state.db, instance.id, name, token)
    # A non-admin reached it: it is exposed. An admin's request says nothing.
    logstate.record(session, instance, [view], complete=False, exposed=None if admin else True)
    running = publish and view.publish is not None and view.publish.running
    return {"log": view.to_dict()}, 202 if running else 200
