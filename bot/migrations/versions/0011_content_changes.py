"""probably-wrong answers and staff decisions on missed messages; approved content
changes and their audit trail

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-01 19:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("nlu_misses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("answered", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("followed_by", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("dismissed_by", sa.String(length=128), nullable=True))
        batch_op.add_column(
            sa.Column("dismissed_at", sa.DateTime(timezone=True), nullable=True)
        )
    op.create_table(
        "content_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("intent", sa.String(length=128), nullable=False),
        sa.Column("article_id", sa.String(length=128), nullable=True),
        sa.Column("path", sa.String(length=255), nullable=True),
        sa.Column("base_sha256", sa.String(length=64), nullable=True),
        sa.Column("before", sa.Text(), nullable=True),
        sa.Column("after", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("miss_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["miss_id"],
            ["nlu_misses.id"],
            name=op.f("fk_content_changes_miss_id_nlu_misses"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_changes")),
    )
    with op.batch_alter_table("content_changes", schema=None) as batch_op:
        for column in ("created_at", "kind", "intent", "article_id", "status", "miss_id"):
            batch_op.create_index(batch_op.f(f"ix_content_changes_{column}"), [column])
    op.create_table(
        "content_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("change_id", sa.Integer(), nullable=True),
        sa.Column("miss_id", sa.Integer(), nullable=True),
        sa.Column("field", sa.String(length=64), nullable=True),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["change_id"],
            ["content_changes.id"],
            name=op.f("fk_content_audit_change_id_content_changes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["miss_id"],
            ["nlu_misses.id"],
            name=op.f("fk_content_audit_miss_id_nlu_misses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_audit")),
    )
    with op.batch_alter_table("content_audit", schema=None) as batch_op:
        for column in ("at", "change_id", "miss_id"):
            batch_op.create_index(batch_op.f(f"ix_content_audit_{column}"), [column])


def downgrade() -> None:
    op.drop_table("content_audit")
    op.drop_table("content_changes")
    with op.batch_alter_table("nlu_misses", schema=None) as batch_op:
        for column in ("dismissed_at", "dismissed_by", "followed_by", "answered"):
            batch_op.drop_column(column)
