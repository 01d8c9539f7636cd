"""Messages say their channel (a voice transcript has its own retention) and are indexed by time.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("channel", sa.String(length=10), nullable=False, server_default="text"))
        batch.create_index("ix_messages_created_at", ["created_at"])


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_index("ix_messages_created_at")
        batch.drop_column("channel")
