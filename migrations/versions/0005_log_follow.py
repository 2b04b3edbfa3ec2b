"""Whether a log is published continuously (docs/follow.md)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("log_states", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("follow", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("log_states", schema=None) as batch_op:
        batch_op.drop_column("follow")
