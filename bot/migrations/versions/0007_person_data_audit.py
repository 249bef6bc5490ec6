"""person data audit (exports and deletions for the person concerned)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 12:30:00
"""

import sqlalchemy as sa
from alembic import op


revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "person_data_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("identity_sha256", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("tickets", sa.Text(), nullable=True),
        sa.Column("counts", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_data_audit")),
    )
    with op.batch_alter_table("person_data_audit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_person_data_audit_at"), ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_person_data_audit_identity_sha256"), ["identity_sha256"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("person_data_audit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_data_audit_identity_sha256"))
        batch_op.drop_index(batch_op.f("ix_person_data_audit_at"))
    op.drop_table("person_data_audit")
