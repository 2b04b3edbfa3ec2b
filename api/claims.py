"""One action at a time on a log, across every API worker: a row per running action.

Claiming inserts the (instance, log) row; the primary key makes a second
insert fail in whichever worker tries it, so the second action is refused
with 409 instead of run twice. A worker that dies leaves its claim behind;
it expires after the longest time an action may take, and is taken over.
An instance is LOGGING while one of its logs holds a live publish claim.
"""

import datetime as dt
import uuid

from sqlalchemy import and_, delete, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.db import Database
from api.models import LogAction, utcnow
from logsvc.exceptions import Conflict

PUBLISH = "publish"


def claim(db: Database, instance_id: str, name: str, action: str, ttl: float) -> str:
    """Claim the log for `action` (committed at once); Conflict when it is taken."""
    token = str(uuid.uuid4())
    now = utcnow()
    with db.sessions() as session:
        session.execute(
            delete(LogAction).where(
                LogAction.instance_id == instance_id,
                LogAction.name == name,
                LogAction.expires_at < now,
            )
        )
        session.add(
            LogAction(
                instance_id=instance_id,
                name=name,
                action=action,
                claim=token,
                started_at=now,
                expires_at=now + dt.timedelta(seconds=ttl),
            )
        )
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            running = session.get(LogAction, (instance_id, name))
            what = (
                f"a {running.action} started at {running.started_at:%H:%M:%S} UTC"
                if running
                else "an action"
            )
            raise Conflict(
                f"log {name!r} of instance {instance_id} is busy: {what} is still "
                "running; try again when it completes"
            ) from None
    return token


def release(db: Database, instance_id: str, name: str, token: str) -> None:
    """Give the claim back (only ours: an expired claim may have been taken over)."""
    with db.sessions() as session:
        session.execute(
            delete(LogAction).where(
                LogAction.instance_id == instance_id,
                LogAction.name == name,
                LogAction.claim == token,
            )
        )
        session.commit()


def publishing_clause(instance_id_column, now: dt.datetime):
    """SQL: the instance has a live publish claim."""
    return exists().where(
        and_(
            LogAction.instance_id == instance_id_column,
            LogAction.action == PUBLISH,
            LogAction.expires_at >= now,
        )
    )


def publishing(session: Session, instance_id: str) -> bool:
    """Whether a publish runs on one of the instance's logs now."""
    return bool(session.scalar(select(publishing_clause(instance_id, utcnow()))))


def publishing_among(session: Session, instance_ids: list[str]) -> set[str]:
    """Which of the instances have a publish running now: one query for a listing."""
    if not instance_ids:
        return set()
    query = select(LogAction.instance_id).where(
        LogAction.instance_id.in_(instance_ids),
        LogAction.action == PUBLISH,
        LogAction.expires_at >= utcnow(),
    )
    return set(session.scalars(query.distinct()))
