"""trained models and their history (retrain, activation, rollback); why an export
refused a content change

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 23:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "model_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=True),
        sa.Column("path", sa.String(length=1024), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("stage", sa.String(length=32), nullable=True),
        sa.Column("stage_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("requested_by", sa.String(length=128), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("training_seconds", sa.Float(), nullable=True),
        sa.Column("base_fingerprint", sa.String(length=32), nullable=True),
        sa.Column("change_ids", sa.Text(), nullable=True),
        sa.Column("figures", sa.Text(), nullable=True),
        sa.Column("compared_with_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("activated_by", sa.String(length=128), nullable=True),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["compared_with_id"],
            ["model_versions.id"],
            name=op.f("fk_model_versions_compared_with_id_model_versions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_versions")),
    )
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        for column in ("name", "status", "requested_at"):
            batch_op.create_index(batch_op.f(f"ix_model_versions_{column}"), [column])
    with op.batch_alter_table("content_changes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("note", sa.Text(), nullable=True))
    with op.batch_alter_table("content_audit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("model_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_content_audit_model_id"), ["model_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_content_audit_model_id_model_versions"),
            "model_versions",
            ["model_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    with op.batch_alter_table("content_audit", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_content_audit_model_id_model_versions"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_content_audit_model_id"))
        batch_op.drop_column("model_id")
    with op.batch_alter_table("content_changes", schema=None) as batch_op:
        batch_op.drop_column("note")
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        for column in ("name", "status", "requested_at"):
            batch_op.drop_index(batch_op.f(f"ix_model_versions_{column}"))
    op.drop_table("model_versions")
