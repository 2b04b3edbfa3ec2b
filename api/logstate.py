"""The last known state of an instance's logs, as the database keeps it.

Heartbeats carry every log (the agent lists them as for an admin) but not
which ones are exposed; a list asked for a non-admin tells which are. A log
whose exposure is not known yet is shown to admins only.

Each row keeps the log's last publish outcome too. The agent's answers and
its heartbeats may arrive out of order (a publish that ends while its 202 is
on the way): news that a publish runs never replaces the news that the same
publish (by id) ended. A stored "running" is believed only while the agent
is heard from (`settled`: ``[api] agent_silence_warning``); after that it is
shown as unknown.
"""

import dataclasses
import datetime as dt
from collections.abc import Iterable

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.models import Instance, LogRecord, utcnow
from logsvc.logmodel import LogView, PublishOutcome, PublishState


def known(session: Session, instance_id: str) -> list[LogRecord]:
    """The stored rows of the instance's logs, by name."""
    return list(
        session.scalars(
            select(LogRecord).where(LogRecord.instance_id == instance_id).order_by(LogRecord.name)
        )
    )


def visible(rows: Iterable[LogRecord], admin: bool) -> list[LogView]:
    """The stored logs the caller may see, as views."""
    return [to_view(r) for r in rows if admin or r.exposed]


def to_view(row: LogRecord) -> LogView:
    return LogView.from_dict(
        {
            "name": row.name,
            "type": row.type,
            "status": row.status,
            "published": row.published,
            "pending": row.pending,
            "container": row.container,
            "prefix": row.prefix,
            "metafile": row.metafile,
            "publish": None
            if row.publish_id is None
            else {
                "id": row.publish_id,
                "state": row.publish_state,
                "started_at": row.publish_started_at,
                "ended_at": row.publish_ended_at,
                "error": row.publish_error,
            },
            "follow": bool(row.follow),
        }
    )


def silent(instance: Instance, silence: float) -> bool:
    """Whether the agent has not been heard from for `silence` seconds (or ever)."""
    seen = instance.last_seen
    return seen is None or utcnow() - seen > dt.timedelta(seconds=silence)


def settled(view: LogView, instance: Instance, silence: float) -> LogView:
    """The view, its publish shown as unknown when it runs by a silent agent's word."""
    outcome = view.publish
    if outcome is None or not outcome.running or not silent(instance, silence):
        return view
    seen = instance.last_seen
    when = "never" if seen is None else seen.replace(microsecond=0).isoformat() + "Z"
    return dataclasses.replace(
        view,
        publish=PublishOutcome(
            outcome.id,
            PublishState.UNKNOWN,
            outcome.started_at,
            None,
            f"the agent has not been heard from since {when}: whether the publish ended is unknown",
        ),
    )


def _apply(row: LogRecord, view: LogView) -> None:
    row.type = str(view.type)
    row.status = str(view.status)
    row.published = view.published
    row.pending = view.pending
    row.container = view.container
    row.prefix = view.prefix
    row.metafile = view.metafile
    row.follow = view.follow
    row.updated_at = utcnow()
    outcome = view.publish
    if outcome is None:
        return  # an agent that does not report publishes: what we knew stays
    if outcome.running and row.publish_id == outcome.id and row.publish_state != "running":
        return  # this publish's end is known already: a late "running" changes nothing
    row.publish_id = outcome.id
    row.publish_state = str(outcome.state)
    row.publish_started_at = outcome.started_at
    row.publish_ended_at = outcome.ended_at
    row.publish_error = outcome.error


def tells_nothing_new(
    rows: Iterable[LogRecord],
    views: Iterable[LogView],
    *,
    exposed_listing: bool = False,
    exposed: bool | None = None,
) -> bool:
    """Whether a read's answer from the agent (`views`: a show's log, a
    non-admin's list) tells nothing that the stored `rows` need from it: the
    read then writes nothing.

    A show or a list is a read. What it sees moves with every line the
    database writes and every publish: the bytes pending and published, the
    status that follows from them, a publish starting and ending. Written at
    every read, that made each read wait for the database's one writer: on
    SQLite under bench/load.py a show's p99 was 4.5 s with the write, under
    0.4 s without. The heartbeats store all of it every ``[agent]
    heartbeat_interval`` seconds and at once when a publish ends, and the
    actions as they happen, so a read writes only what they may not know: a log
    not stored yet, and what the caller's read tells of exposure.
    `exposed_listing` and `exposed`: as for `record`.
    """
    stored = {r.name: r for r in rows}
    names = {v.name for v in views}
    if not names <= stored.keys():
        return False
    if exposed_listing:
        return all(r.exposed is (name in names) for name, r in stored.items())
    return exposed is None or all(stored[name].exposed is exposed for name in names)


def record(
    session: Session,
    instance: Instance,
    views: list[LogView],
    *,
    complete: bool,
    exposed_listing: bool = False,
    exposed: bool | None = None,
) -> None:
    """Store what the agent said, and commit.

    complete: `views` is every log (an admin's list, a heartbeat): logs that
    are not in it are gone. exposed_listing: `views` is exactly what a
    non-admin sees: the others are not exposed. exposed: what one action or
    show tells about its log's exposure (None: nothing).
    """
    # Another request may store a new log of the instance at the same moment (a
    # list in another worker, a heartbeat): merge over it and try again. Each
    # failure means one more of `views` is stored, so this many tries suffice
    # (two were not, with several racers: bench/bus.py saw a 500 on a list).
    attempts = len(views) + 1
    for attempt in range(1, attempts + 1):
        try:
            _record(session, instance, views, complete, exposed_listing, exposed)
            session.commit()
            return
        except IntegrityError:
            session.rollback()
            if attempt == attempts:
                raise


def _record(session, instance, views, complete, exposed_listing, exposed) -> None:
    now = utcnow()
    rows = {r.name: r for r in known(session, instance.id)}
    names = {v.name for v in views}
    for view in views:
        row = rows.get(view.name)
        if row is None:
            row = LogRecord(instance_id=instance.id, name=view.name, exposed=None)
            session.add(row)
        _apply(row, view)
        if exposed_listing:
            row.exposed = True
        elif exposed is not None:
            row.exposed = exposed
    if exposed_listing:
        for name, row in rows.items():
            if name not in names:
                row.exposed = False
    if complete and rows.keys() - names:
        session.execute(
            delete(LogRecord).where(
                LogRecord.instance_id == instance.id, LogRecord.name.in_(rows.keys() - names)
            )
        )
    instance.last_seen = now
    if complete:
        instance.logs_updated_at = now


def publish_failed(session: Session, instance_id: str, name: str, error: str) -> None:
    """The agent answered a publish of log `name` with `error`: the publish it last
    reported running has ended so (the next heartbeat brings its whole outcome).
    Without this, the instance would stay LOGGING until that heartbeat."""
    session.rollback()
    ended = utcnow().replace(microsecond=0).isoformat() + "Z"
    session.execute(
        update(LogRecord)
        .where(
            LogRecord.instance_id == instance_id,
            LogRecord.name == name,
            LogRecord.publish_state == PublishState.RUNNING.value,
        )
        .values(
            publish_state=PublishState.FAILED.value,
            publish_ended_at=ended,
            publish_error=error[:1024],
        )
        .execution_options(synchronize_session=False)
    )
    session.commit()
