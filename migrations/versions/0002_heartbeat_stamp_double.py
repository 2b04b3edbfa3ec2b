"""Heartbeat stamps in double precision

MySQL and MariaDB hold FLOAT in 32 bits, which rounds a Unix time to about
two minutes: most heartbeats then looked like replays.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("instances", schema=None) as batch_op:
        batch_op.alter_column(
            "heartbeat_stamp", existing_type=sa.Float(), type_=sa.Double(), existing_nullable=True
        )


def downgrade() -> None:
    with op.batch_alter_table("instances", schema=None) as batch_op:
        batch_op.alter_column(
            "heartbeat_stamp", existing_type=sa.Double(), type_=sa.Float(), existing_nullable=True
        )
