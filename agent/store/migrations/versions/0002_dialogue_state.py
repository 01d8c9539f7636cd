"""Dialogue state on conversations, and replies stored under clients' idempotency keys.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("state", sa.JSON(none_as_null=True), nullable=True))
    op.create_table(
        "stored_replies",
        sa.Column("conversation_id", sa.String(length=64), sa.ForeignKey("conversations.id"), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("reply", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("conversation_id", "key"),
    )


def downgrade() -> None:
    op.drop_table("stored_replies")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("state")
