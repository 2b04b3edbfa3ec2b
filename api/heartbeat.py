"""Agents' heartbeats: signed with the instance's secret, newer than the last one.

A heartbeat records that the agent is alive (last_heartbeat, last_seen), its
version, and the state of every log. The signature is checked with the
instance's own secret, or ``[agent] shared_secret``. Replays are refused
across every API worker by the database: a heartbeat's signed timestamp must
be newer than that of the last one accepted (an atomic conditional UPDATE).
"""

import secrets
from typing import Any

from flask import request
from sqlalchemy import or_, update

from api import logstate
from api.bodies import json_object, string
from api.db import session as db_session
from api.models import Instance, utcnow
from api.state import ApiState
from logsvc.exceptions import BadRequest, InstanceNotFound
from logsvc.logmodel import LogView
from logsvc.requestbody import read_body
from logsvc.signing import (
    HEADER_TIMESTAMP,
    ReplayedRequest,
    Unsigned,
    Verifier,
)


def receive(state: ApiState, instance_id: str) -> None:
    """Check and record one heartbeat of `instance_id`'s agent."""
    session = db_session()
    instance = session.get(Instance, instance_id)
    secret = (instance.shared_secret if instance else None) or state.conf.agent.shared_secret
    body_bytes = read_body(request)
    # The signature is checked before "not registered" is said, against a
    # secret nobody has when there is none: a caller who cannot sign learns
    # nothing about which instance ids exist.
    verifier = Verifier([secret or secrets.token_hex(32)], state.conf.api.heartbeat_max_clock_skew)
    verifier.verify(request.method, request.path, body_bytes, request.headers, instance=instance_id)
    if instance is None or not secret:
        raise InstanceNotFound(f"no instance {instance_id!r}")
    body = json_object()
    logs = _parse(body, instance_id)
    stamp = float(request.headers.get(HEADER_TIMESTAMP) or 0)
    if not stamp:
        raise Unsigned()
    now = utcnow()
    accepted = session.execute(
        update(Instance)
        .where(
            Instance.id == instance_id,
            or_(Instance.heartbeat_stamp.is_(None), Instance.heartbeat_stamp < stamp),
        )
        .values(
            heartbeat_stamp=stamp,
            last_heartbeat=now,
            last_seen=now,
            agent_version=body["version"],
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if not accepted:
        session.rollback()
        raise ReplayedRequest()
    session.commit()
    if logs is not None:
        session.refresh(instance)
        logstate.record(session, instance, logs, complete=True)


def _parse(body: dict[str, Any], instance_id: str) -> list[LogView] | None:
    unknown = sorted(set(body) - {"instance_id", "datastore", "version", "logs"})
    if unknown:
        raise BadRequest(f"unknown field(s) in the heartbeat: {', '.join(unknown[:5])}")
    if body.get("instance_id") != instance_id:
        raise BadRequest("the heartbeat's instance_id is not the URL's")
    string(body, "datastore", 64)
    string(body, "version", 64)
    logs = body.get("logs")
    if logs is None:
        return None
    if not isinstance(logs, list):
        raise BadRequest("logs must be a list of logs, or null")
    try:
        return [LogView.from_dict(entry, instance_id) for entry in logs]
    except ValueError as exc:
        raise BadRequest(f"logs holds an entry that is not a log: {exc}") from None
