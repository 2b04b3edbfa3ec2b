"""One action at a time on a log, across every API worker: a row per running action.

Claiming inserts the (instance, log) row; the primary key makes a second
insert fail in whichever worker tries it, so the second action is refused
with 409 instead of run twice. The row names its holder (host, pid, and the
process's start, so that a reused pid is not mistaken for it). A worker that
dies leaves its claim behind: an API process on the same host sees that the
holder is gone the next time the claim is tried or the instance is shown, and
takes it over at once; from another host it expires after the longest time
an action may take. ``logsvc-manage claim clear`` removes one by hand.
A publish asked while another holds the claim joins it (``join``): the agent
runs one publish per log and answers both. An instance is LOGGING while one
of its logs holds a live publish claim, or while its agent, heard from within
``[api] agent_silence_warning`` seconds, reports a publish running (a publish
outlives the request that asked for it: api/logstate.py keeps its outcome).
"""

import datetime as dt
import functools
import itertools
import logging
import os
import socket
import uuid

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from api.db import Database
from api.models import Instance, LogAction, LogRecord, utcnow
from logsvc.exceptions import Conflict

LOG = logging.getLogger(__name__)
PUBLISH = "publish"


def claim(
    db: Database, instance_id: str, name: str, action: str, ttl: float, join: bool = False
) -> str | None:
    """Claim the log for `action` (committed at once); Conflict when it is taken.

    With `join`, a log that a live claim for the same action holds is no
    conflict: None (nothing claimed; the caller joins the running action).
    """
    token = str(uuid.uuid4())
    with db.sessions() as session:
        for _attempt in range(_VANISHED_TRIES):
            if _insert(session, instance_id, name, action, ttl, token):
                return token
            running = session.get(LogAction, (instance_id, name))
            if running is None:  # released between our insert and this read: free now
                continue
            if holder_gone(running.holder):
                LOG.warning(
                    "log %s of instance %s: the %s claimed by %s, which is gone, is taken over",
                    name,
                    instance_id,
                    running.action,
                    running.holder,
                )
                session.execute(delete(LogAction).where(LogAction.claim == running.claim))
                session.commit()
                continue
            if join and running.action == action:
                return None
            raise Conflict(
                f"log {name!r} of instance {instance_id} is busy: a {running.action} started "
                f"at {running.started_at:%H:%M:%S} UTC is still running; try again when it "
                "completes"
            )
    raise Conflict(
        f"log {name!r} of instance {instance_id} is busy: actions on it keep starting and "
        "ending; try again"
    )


#: Tries of a claim whose holder is gone or ended between the insert and the read
#: (PostgreSQL's bench/load.py saw 409s for publishes that should have run or joined).
_VANISHED_TRIES = 5


def _insert(
    session: Session, instance_id: str, name: str, action: str, ttl: float, token: str
) -> bool:
    """Insert the claim (after removing an expired one); False when the log is taken.

    Racers on InnoDB can deadlock (the delete's range lock, then the insert):
    the database rolled the loser back, which tries again.
    """
    for attempt in itertools.count(1):
        now = utcnow()
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
                holder=holder(),
            )
        )
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            return False
        except OperationalError as exc:
            session.rollback()
            if not _deadlock(exc) or attempt == _DEADLOCK_TRIES:
                raise
            continue
        return True


#: Tries of a claim that the database refuses as a deadlock's victim.
_DEADLOCK_TRIES = 5


def _deadlock(exc: OperationalError) -> bool:
    """Whether the database chose this transaction as a deadlock's victim."""
    orig = exc.orig
    code = orig.args[0] if orig is not None and orig.args else None
    return code == 1213 or getattr(orig, "sqlstate", None) == "40P01"  # MySQL, PostgreSQL


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


def publishing(session: Session, instance_id: str, silence: float) -> bool:
    """Whether a publish runs on one of the instance's logs now."""
    return instance_id in publishing_among(session, [instance_id], silence)


def publishing_among(session: Session, instance_ids: list[str], silence: float) -> set[str]:
    """Which of the instances have a publish running now: two queries for a listing.

    A publish claim held by a live process, or a publish the agent reported
    running when it was last heard from, at most `silence` seconds ago.
    """
    if not instance_ids:
        return set()
    query = select(LogAction.instance_id, LogAction.holder).where(
        LogAction.instance_id.in_(instance_ids),
        LogAction.action == PUBLISH,
        LogAction.expires_at >= utcnow(),
    )
    busy = {iid for iid, who in session.execute(query) if not holder_gone(who)}
    reported = (
        select(LogRecord.instance_id)
        .join(Instance, Instance.id == LogRecord.instance_id)
        .where(
            LogRecord.instance_id.in_(instance_ids),
            LogRecord.publish_state == "running",
            Instance.last_seen >= utcnow() - dt.timedelta(seconds=silence),
        )
        .distinct()
    )
    return busy | set(session.scalars(reported))


def listing(session: Session) -> list[LogAction]:
    """Every claim, the oldest first (``logsvc-manage claim list``)."""
    return list(session.scalars(select(LogAction).order_by(LogAction.started_at)))


def clear(db: Database, instance_id: str, name: str | None = None) -> int:
    """Remove the claims of the instance (of one log with `name`); how many there were.

    For an operator who knows the holder is gone (``logsvc-manage claim clear``):
    an action still running then may run alongside the next one.
    """
    query = delete(LogAction).where(LogAction.instance_id == instance_id)
    if name is not None:
        query = query.where(LogAction.name == name)
    with db.sessions() as session:
        removed = session.execute(query).rowcount
        session.commit()
    return removed


# --- holders ---------------------------------------------------------------------------


def holder() -> str:
    """This process, as a claim names it: ``<host> <pid> <start>``."""
    return _holder(os.getpid())


@functools.cache
def _holder(pid: int) -> str:  # one per pid: a forked worker computes its own
    return f"{socket.gethostname()} {pid} {_started(pid) or '-'}"


def holder_gone(who: str | None) -> bool:
    """Whether `who` (a claim's holder) is known to have exited.

    Only a process on the holder's host can tell; elsewhere, and for claims
    made before holders were recorded, the answer is False (the claim's time
    to live decides).
    """
    try:
        host, pid_text, started = (who or "").split(" ")
        pid = int(pid_text)
    except ValueError:
        return False
    if host != socket.gethostname() or pid <= 0:
        return False
    now = _started(pid)
    if started != "-" and os.path.exists("/proc/self/stat"):
        return now != started  # None (no such process, or a zombie) or a new process
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _started(pid: int) -> str | None:
    """The boot and start time (clock ticks) of a running process; None when none runs."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            stat = f.read()
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as f:
            boot = f.read().strip()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()  # the name may hold spaces and ')'
    if len(fields) < 20 or fields[0] in ("Z", "X"):  # exited, not yet reaped
        return None
    return f"{boot}:{fields[19]}"
