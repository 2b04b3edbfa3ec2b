"""A log's last publish, as its agent reported it

A publish runs on in the agent after the request that asked for it is
answered; the agent reports how it ended (in its answers and heartbeats).
Each log's row keeps that outcome: the publish's id, its state (running,
published, failed), when it started and ended, and the agent's error.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_COLUMNS = (
    ("publish_id", 64),
    ("publish_state", 16),
    ("publish_started_at", 40),
    ("publish_ended_at", 40),
    ("publish_error", 1024),
)


def upgrade() -> None:
    with op.batch_alter_table("log_states", schema=None) as batch_op:
        for name, length in _COLUMNS:
            batch_op.add_column(sa.Column(name, sa.String(length=length), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("log_states", schema=None) as batch_op:
        for name, _ in reversed(_COLUMNS):
            batch_op.drop_column(name)
