"""The last known state of an instance's logs, as the database keeps it.

Heartbeats carry every log (the agent lists them as for an admin) but not
which ones are exposed; a list asked for a non-admin tells which are. A log
whose exposure is not known yet is shown to admins only.
"""

from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.models import Instance, LogRecord, utcnow
from logsvc.logmodel import LogView


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
        }
    )


def _apply(row: LogRecord, view: LogView) -> None:
    row.type = str(view.type)
    row.status = str(view.status)
    row.published = view.published
    row.pending = view.pending
    row.container = view.container
    row.prefix = view.prefix
    row.metafile = view.metafile
    row.updated_at = utcnow()


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
    for attempt in (1, 2):
        try:
            _record(session, instance, views, complete, exposed_listing, exposed)
            session.commit()
            return
        except IntegrityError:
            # Another request stored a new log at the same moment: merge over it.
            session.rollback()
            if attempt == 2:
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
