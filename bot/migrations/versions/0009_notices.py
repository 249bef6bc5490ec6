"""outage notices (driftsmeldinger), their audit trail, linked tickets and showings

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 16:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("service", sa.String(length=32), nullable=False),
        sa.Column("system_name", sa.String(length=128), nullable=True),
        sa.Column("municipalities", sa.Text(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expected_end_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notices")),
    )
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notices_service"), ["service"], unique=False)
        batch_op.create_index(batch_op.f("ix_notices_status"), ["status"], unique=False)
    op.create_table(
        "notice_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=True),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["notices.id"],
            name=op.f("fk_notice_audit_notice_id_notices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_audit")),
    )
    with op.batch_alter_table("notice_audit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notice_audit_notice_id"), ["notice_id"], unique=False)
    op.create_table(
        "notice_tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["notices.id"],
            name=op.f("fk_notice_tickets_notice_id_notices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_notice_tickets_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_tickets")),
        sa.UniqueConstraint("ticket_id", name=op.f("uq_notice_tickets_ticket_id")),
    )
    with op.batch_alter_table("notice_tickets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notice_tickets_notice_id"), ["notice_id"], unique=False
        )
    op.create_table(
        "notice_shown",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("conversation_sha256", sa.String(length=64), nullable=False),
        sa.Column("shown_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["notices.id"],
            name=op.f("fk_notice_shown_notice_id_notices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_shown")),
        sa.UniqueConstraint("notice_id", "message_id", name=op.f("uq_notice_shown_notice_id")),
    )
    with op.batch_alter_table("notice_shown", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notice_shown_conversation_sha256"), ["conversation_sha256"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_notice_shown_notice_id"), ["notice_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_notice_shown_shown_at"), ["shown_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("notice_shown", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notice_shown_shown_at"))
        batch_op.drop_index(batch_op.f("ix_notice_shown_notice_id"))
        batch_op.drop_index(batch_op.f("ix_notice_shown_conversation_sha256"))
    op.drop_table("notice_shown")
    with op.batch_alter_table("notice_tickets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notice_tickets_notice_id"))
    op.drop_table("notice_tickets")
    with op.batch_alter_table("notice_audit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notice_audit_notice_id"))
    op.drop_table("notice_audit")
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notices_status"))
        batch_op.drop_index(batch_op.f("ix_notices_service"))
    op.drop_table("notices")
