"""The process that holds a log's claim

A claim names its holder (host, pid and the process's start time) so that a
claim left by a worker that died is taken over as soon as that is seen,
rather than after its time to live.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("log_actions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("holder", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("log_actions", schema=None) as batch_op:
        batch_op.drop_column("holder")
