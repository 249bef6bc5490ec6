"""teams conversation references

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 00:40:00
"""

import sqlalchemy as sa
from alembic import op


revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('teams_conversation_references',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.String(length=255), nullable=False),
    sa.Column('aad_object_id', sa.String(length=64), nullable=True),
    sa.Column('tenant_id', sa.String(length=64), nullable=True),
    sa.Column('service_url', sa.String(length=512), nullable=False),
    sa.Column('conversation_id', sa.String(length=512), nullable=False),
    sa.Column('bot_id', sa.String(length=255), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_teams_conversation_references')),
    sa.UniqueConstraint('user_id', name=op.f('uq_teams_conversation_references_user_id'))
    )
    with op.batch_alter_table('teams_conversation_references', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_teams_conversation_references_aad_object_id'), ['aad_object_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('teams_conversation_references', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_teams_conversation_references_aad_object_id'))
    op.drop_table('teams_conversation_references')
