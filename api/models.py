"""The API's tables: instances, the last known state of their logs, actions in
progress, and API tokens.

Times are stored as naive UTC datetimes: SQLite, PostgreSQL and MariaDB all
hold those alike.
"""

import datetime as dt

from sqlalchemy import BigInteger, Boolean, DateTime, Double, ForeignKey, String, Text
from sqlalchemy import false as sa_false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

TASK_ACTIVE = "ACTIVE"
TASK_LOGGING = "LOGGING"


def utcnow() -> dt.datetime:
    """Now, as the tables hold it (naive UTC)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    """The metadata that Alembic's migrations must match."""


class Instance(Base):
    """A database instance registered by an admin, and what its agent last told us."""

    __tablename__ = "instances"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(255), index=True)
    name: Mapped[str] = mapped_column(String(255))
    datastore: Mapped[str] = mapped_column(String(64))
    agent_url: Mapped[str] = mapped_column(String(1024))
    # Needed in clear to sign requests to the agent; None: [agent] shared_secret.
    shared_secret: Mapped[str | None] = mapped_column(String(255))
    # The stored state (ACTIVE); LOGGING is derived from the publishes in
    # progress (log_actions), so that concurrent publishes cannot leave it wrong.
    task_state: Mapped[str] = mapped_column(String(32), default=TASK_ACTIVE)
    agent_version: Mapped[str | None] = mapped_column(String(64))
    last_heartbeat: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # The signed timestamp of the last heartbeat accepted: a heartbeat must be
    # newer, which refuses replays across every API worker. Double: MySQL's
    # FLOAT rounds a Unix time to minutes.
    heartbeat_stamp: Mapped[float | None] = mapped_column(Double)
    # The last time the agent answered anything (a heartbeat, a dispatch).
    last_seen: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # When log_states last held the agent's complete list.
    logs_updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class LogRecord(Base):
    """The last known state of one log of one instance (its wire shape, and exposure).

    What the API remembers of a log; the agent's own state of it, how far it
    is published, is guestagent.state.LogState.
    """

    __tablename__ = "log_states"

    instance_id: Mapped[str] = mapped_column(
        String(128), ForeignKey("instances.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    type: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(32))
    published: Mapped[int] = mapped_column(BigInteger, default=0)
    pending: Mapped[int] = mapped_column(BigInteger, default=0)
    container: Mapped[str | None] = mapped_column(String(256))
    prefix: Mapped[str | None] = mapped_column(String(512))
    metafile: Mapped[str] = mapped_column(String(512))
    # Whether a non-admin may see the log, as the agent last said; None: not known
    # yet (heartbeats carry every log, not which are exposed).
    exposed: Mapped[bool | None] = mapped_column(Boolean)
    # Published continuously (docs/follow.md), as the agent last said.
    follow: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    # The log's last publish as the agent reported it (logsvc.logmodel.PublishOutcome);
    # all None until one is reported. Times as the agent wrote them (ISO 8601 UTC).
    publish_id: Mapped[str | None] = mapped_column(String(64))
    publish_state: Mapped[str | None] = mapped_column(String(16))
    publish_started_at: Mapped[str | None] = mapped_column(String(40))
    publish_ended_at: Mapped[str | None] = mapped_column(String(40))
    publish_error: Mapped[str | None] = mapped_column(String(1024))


class LogAction(Base):
    """An action running on one log: its row is the claim that keeps a second one out."""

    __tablename__ = "log_actions"

    instance_id: Mapped[str] = mapped_column(
        String(128), ForeignKey("instances.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    action: Mapped[str] = mapped_column(String(32))
    claim: Mapped[str] = mapped_column(String(36))
    started_at: Mapped[dt.datetime] = mapped_column(DateTime)
    # A claim left by a worker that died is taken over after this time, or as
    # soon as a process on the holder's host sees that the holder is gone.
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    # "<host> <pid> <start>": the process that holds it (api.claims.holder).
    holder: Mapped[str | None] = mapped_column(String(255))


class Token(Base):
    """An API token of the `token` auth strategy; only its SHA-256 is kept."""

    __tablename__ = "tokens"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    project_id: Mapped[str] = mapped_column(String(255))
    roles: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class ConsoleSession(Base):
    """A signed-in session of the web console (api/console/sessions.py).

    The browser holds only the session's id, in an HttpOnly cookie; the row
    keeps its SHA-256, who signed in, and the CSRF token of its forms. The
    credential itself is not kept: a session of an API token names the
    token's row (revoking the token ends the session), a Keystone session
    ends with the Keystone token's expiry at the latest.
    """

    __tablename__ = "console_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(255))
    roles: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[str | None] = mapped_column(String(255))
    # The API token the session was opened with (token strategy), by its hash.
    token_hash: Mapped[str | None] = mapped_column(String(64))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
