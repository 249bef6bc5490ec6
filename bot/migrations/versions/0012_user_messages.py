"""messages Rakel owes requesters: a resolved notice, a ticket waiting or solved

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 19:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
# 0010 was left unused: this schema and 0011 were written side by side, and 0011
# reached main first; the history stays one line.
down_revision = "0011"
branch_labels = None
depends_on = None

INDEXED = (
    "ticket_id",
    "notice_id",
    "recipient_id",
    "via",
    "created_at",
    "next_attempt_at",
    "delivered_at",
)


def upgrade() -> None:
    op.create_table(
        "user_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("recipient_id", sa.String(length=255), nullable=False),
        sa.Column("via", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_user_messages_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["notices.id"],
            name=op.f("fk_user_messages_notice_id_notices"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_messages")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_user_messages_idempotency_key")),
    )
    with op.batch_alter_table("user_messages", schema=None) as batch_op:
        for column in INDEXED:
            batch_op.create_index(batch_op.f(f"ix_user_messages_{column}"), [column], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("user_messages", schema=None) as batch_op:
        for column in INDEXED:
            batch_op.drop_index(batch_op.f(f"ix_user_messages_{column}"))
    op.drop_table("user_messages")
