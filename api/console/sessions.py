"""The console's sessions, kept server-side in the database.

The browser's cookie holds a random session id (256 bits); the database
keeps its SHA-256, the caller (project, roles, user), the CSRF token of the
session's forms and when it ends. The credential the user signed in with is
never kept and never sent back to the browser:

- an API token (``token`` strategy) is remembered by its hash, which names
  its row in ``tokens``: deleting the token ends every session opened with it;
- a Keystone token is validated once, at sign-in, by keystonemiddleware; the
  session ends at the token's expiry at the latest;
- signing out deletes the row: the cookie, even if copied, opens nothing.
"""

import datetime as dt
import hashlib
import secrets

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from api.auth import Caller
from api.models import ConsoleSession, Token, utcnow

COOKIE = "logsvc_console"


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def open_session(
    db: Session, caller: Caller, ttl: int, token_hash: str | None, expires: dt.datetime | None
) -> tuple[str, ConsoleSession]:
    """A new session for `caller`: (the id for the cookie, its row)."""
    now = utcnow()
    ends = now + dt.timedelta(seconds=ttl)
    if expires is not None:
        ends = min(ends, expires)
    session_id = secrets.token_urlsafe(32)
    row = ConsoleSession(
        id_hash=_hash(session_id),
        project_id=caller.project_id,
        roles=",".join(sorted(caller.roles)),
        user_id=caller.user_id,
        token_hash=token_hash,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=ends,
    )
    # Sessions that ended are forgotten as new ones begin.
    db.execute(delete(ConsoleSession).where(ConsoleSession.expires_at < now))
    db.add(row)
    db.commit()
    return session_id, row


def find(db: Session, session_id: str | None) -> ConsoleSession | None:
    """The live session of a cookie's id, or None (unknown, ended, or its token deleted)."""
    if not session_id or len(session_id) > 100:
        return None
    row = db.get(ConsoleSession, _hash(session_id))
    if row is None or row.expires_at <= utcnow():
        return None
    if row.token_hash is not None:
        token = db.scalars(select(Token.id).where(Token.token_hash == row.token_hash)).first()
        if token is None:
            return None
    return row


def forget(db: Session, session_id: str | None) -> None:
    """Sign-out: the session's row is deleted."""
    if session_id:
        db.execute(delete(ConsoleSession).where(ConsoleSession.id_hash == _hash(session_id)))
        db.commit()


def caller_of(row: ConsoleSession) -> Caller:
    """Who the session is, as the API's views see a caller."""
    roles = frozenset(r for r in row.roles.split(",") if r)
    return Caller(row.project_id, roles, row.user_id)
