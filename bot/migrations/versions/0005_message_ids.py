"""message ids on feedback and nlu misses

A retried action call (the action server died before answering) finds the row
its first attempt stored, by the id of the user message it answers.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 07:44:19
"""

import sqlalchemy as sa
from alembic import op


revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.add_column(sa.Column('message_id', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_feedback_message_id'), ['message_id'])

    with op.batch_alter_table('nlu_misses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('message_id', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_nlu_misses_message_id'), ['message_id', 'kind'])


def downgrade() -> None:
    with op.batch_alter_table('nlu_misses', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_nlu_misses_message_id'), type_='unique')
        batch_op.drop_column('message_id')

    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_feedback_message_id'), type_='unique')
        batch_op.drop_column('message_id')
