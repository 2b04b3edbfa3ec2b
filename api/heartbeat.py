"""Agents' heartbeats: signed with the instance's secret, newer than the last one.

A heartbeat records that the agent is alive (last_heartbeat, last_seen), its
version, and the state of every log. The signature is checked with the
instance's own secret, or ``[agent] shared_secret`` for an instance that has
none (every agent holding that secret can then speak for such instances: see
docs/deployment.md, "Agent secrets"). Replays are refused across every API
worker by the database: a heartbeat's signed timestamp must be newer than
that of the last one accepted (an atomic conditional UPDATE). One older than
that is refused as superseded: over the bus, heartbeats handled in parallel
can be taken out of order, and the older one says nothing the newer has not.

The objects a heartbeat reports must be exactly where the layout puts that
instance's logs, so that a heartbeat can point no user at another's objects.
"""

import secrets
from collections.abc import Mapping
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from api import logstate
from api.bodies import string
from api.models import Instance, utcnow
from logsvc.exceptions import BadRequest, InstanceNotFound
from logsvc.layout import LogLocation, valid_container_name
from logsvc.logmodel import LogView
from logsvc.signing import ReplayedRequest, Superseded, Verifier


def authenticate(
    session: Session,
    instance_id: str,
    method: str,
    path: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    default_secret: str | None,
    max_skew: float,
) -> tuple[Instance, float]:
    """The registered instance whose agent signed this heartbeat, and its signed timestamp."""
    instance = session.get(Instance, instance_id)
    secret = (instance.shared_secret if instance else None) or default_secret
    # The signature is checked before "not registered" is said, against a
    # secret nobody has when there is none: a caller who cannot sign learns
    # nothing about which instance ids exist.
    verifier = Verifier([secret or secrets.token_hex(32)], max_skew)
    stamp = verifier.verify(method, path, body, headers, instance=instance_id)
    if instance is None or not secret:
        raise InstanceNotFound(f"no instance {instance_id!r}")
    return instance, stamp


def record(session: Session, instance: Instance, stamp: float, body: dict[str, Any]) -> None:
    """Store one authenticated heartbeat (`body`, its JSON) unless a newer one was stored."""
    logs = _parse(body, instance.id)
    now = utcnow()
    accepted = session.execute(
        update(Instance)
        .where(
            Instance.id == instance.id,
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
        last = session.scalar(select(Instance.heartbeat_stamp).where(Instance.id == instance.id))
        raise Superseded() if last is not None and last > stamp else ReplayedRequest()
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
    datastore = string(body, "datastore", 64)
    string(body, "version", 64)
    logs = body.get("logs")
    if logs is None:
        return None
    if not isinstance(logs, list):
        raise BadRequest("logs must be a list of logs, or null")
    try:
        views = [LogView.from_dict(entry, instance_id) for entry in logs]
        for view in views:
            _check_place(view, instance_id, datastore)
    except ValueError as exc:
        raise BadRequest(f"logs holds an entry that is not a log: {exc}") from None
    return views


def _check_place(view: LogView, instance_id: str, datastore: str) -> None:
    """ValueError unless the log's objects are exactly where the layout puts them."""
    if view.container is not None and not valid_container_name(view.container):
        raise ValueError(f"container of {view.name} is not a container name")
    place = LogLocation(view.container or "", instance_id, datastore, view.name)
    if view.prefix is not None and view.prefix != place.prefix:
        raise ValueError(f"prefix of {view.name} is not {place.prefix}")
    if view.metafile != place.metafile:
        raise ValueError(f"metafile of {view.name} is not {place.metafile}")
