"""Registered instances: lookups that keep tenants apart, registration, views.

An instance the caller may not see is answered exactly as one that does not
exist (InstanceNotFound, the same message), so that a tenant learns nothing
about another tenant's instances.
"""

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

from oslo_policy.policy import Enforcer
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from api import policies
from api.auth import Caller
from api.bodies import string
from api.bodies import tenant_id as checked_tenant_id
from api.models import TASK_LOGGING, Instance, LogAction, LogRecord, utcnow
from logsvc.exceptions import BadRequest, InstanceNotFound

_DATASTORE_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_-")


def not_found(instance_id: str) -> InstanceNotFound:
    return InstanceNotFound(f"no instance {instance_id!r}")


def find(session: Session, enforcer: Enforcer, caller: Caller, instance_id: str) -> Instance:
    """The instance, if the caller may see it; InstanceNotFound otherwise."""
    instance = session.get(Instance, instance_id)
    if instance is None:
        raise not_found(instance_id)
    # Refused exactly as a missing instance: a tenant learns nothing of another's.
    policies.authorize(
        enforcer, caller, policies.INSTANCE_SHOW, instance.tenant_id, not_found(instance_id)
    )
    return instance


def visible(
    session: Session, enforcer: Enforcer, caller: Caller, tenant_id: str | None = None
) -> list[Instance]:
    """The instances the caller may see (an admin: every project's, or `tenant_id`'s)."""
    query = select(Instance).order_by(Instance.created_at, Instance.id)
    if not policies.allowed(enforcer, caller, policies.INSTANCE_LIST_ALL, caller.project_id):
        query = query.where(Instance.tenant_id == caller.project_id)
    if tenant_id is not None:
        query = query.where(Instance.tenant_id == tenant_id)
    return [
        i
        for i in session.scalars(query)
        if policies.allowed(enforcer, caller, policies.INSTANCE_SHOW, i.tenant_id)
    ]


def task_state(instance: Instance, busy: set[str]) -> str:
    """LOGGING while a publish runs on one of its logs; the stored state otherwise.

    `busy`: the instances that publish (claims.publishing_among).
    """
    return TASK_LOGGING if instance.id in busy else instance.task_state


def register(
    session: Session, instance_id: str, body: dict[str, Any], default_secret: str | None
) -> tuple[Instance, bool]:
    """Create or update a registration from a PUT body; (instance, created).

    An instance needs a secret to be called: its own, or the API's default
    (`default_secret`, ``[agent] shared_secret``).
    """
    allowed = {"tenant_id", "datastore", "agent_url", "name", "shared_secret"}
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise BadRequest(
            f"unknown field(s): {', '.join(u[:40] for u in unknown[:5])}; an instance has "
            f"{', '.join(sorted(allowed))}"
        )
    if body.get("tenant_id") is None:
        raise BadRequest("tenant_id is required")
    tenant_id = checked_tenant_id(body["tenant_id"])
    datastore = string(body, "datastore", 64)
    if not set(datastore) <= _DATASTORE_CHARS:
        raise BadRequest("datastore must be lower-case letters, digits, '_' or '-'")
    agent_url = string(body, "agent_url", 1024)
    try:
        parts = urlsplit(agent_url)
        parts.port  # noqa: B018 - a port out of range raises here
    except ValueError:
        raise BadRequest("agent_url is not a well-formed URL (host or port)") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadRequest("agent_url must be an http:// or https:// URL with a host")
    name = string(body, "name", 255, required=False) or instance_id
    secret = string(body, "shared_secret", 255, required=False)
    if not secret and not default_secret:
        raise BadRequest(
            "this API has no default agent secret ([agent] shared_secret): give the "
            "instance's shared_secret"
        )
    instance = session.get(Instance, instance_id)
    created = instance is None
    if created:
        instance = Instance(id=instance_id, created_at=utcnow())
        session.add(instance)
    instance.tenant_id = tenant_id
    instance.datastore = datastore
    instance.agent_url = agent_url
    instance.name = name
    instance.shared_secret = secret
    instance.updated_at = utcnow()
    session.commit()
    return instance, created


def forget(session: Session, instance: Instance) -> None:
    """Delete the instance and what the database knows of its logs."""
    for table in (LogAction, LogRecord):
        session.execute(delete(table).where(table.instance_id == instance.id))
    session.delete(instance)
    session.commit()


def iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.replace(microsecond=0).isoformat() + "Z"


def view(instance: Instance, admin: bool, busy: set[str]) -> dict[str, Any]:
    """The instance as ``/v1/instance`` shows it (the agent's address to admins only)."""
    body = {
        "id": instance.id,
        "name": instance.name,
        "tenant_id": instance.tenant_id,
        "datastore": instance.datastore,
        "task_state": task_state(instance, busy),
        "agent_version": instance.agent_version,
        "last_heartbeat": iso(instance.last_heartbeat),
        "last_seen": iso(instance.last_seen),
        "created_at": iso(instance.created_at),
        "updated_at": iso(instance.updated_at),
    }
    if admin:
        body["agent_url"] = instance.agent_url
        body["own_secret"] = instance.shared_secret is not None
    return body


def trove_view(instance: Instance, base_url: str, busy: set[str]) -> dict[str, Any]:
    """The instance as Trove's API shows it, with what python-troveclient reads."""
    href = f"{base_url}/instances/{instance.id}"
    return {
        "id": instance.id,
        "name": instance.name,
        "status": task_state(instance, busy),
        "tenant_id": instance.tenant_id,
        "datastore": {"type": instance.datastore, "version": ""},
        "created": iso(instance.created_at),
        "updated": iso(instance.updated_at),
        "links": [{"rel": "self", "href": href}],
    }
