"""scheduler leases and attempt counts on due work; an expiry for outgoing e-mail

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('instances') as batch:
        batch.add_column(sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('due_attempts', sa.Integer(), nullable=False, server_default='0'))
        batch.create_index('ix_instances_claimed_until', ['claimed_until'])
    with op.batch_alter_table('meetings') as batch:
        batch.add_column(sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('outbox') as batch:
        batch.add_column(sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbox') as batch:
        batch.drop_column('expires_at')
    with op.batch_alter_table('meetings') as batch:
        batch.drop_column('claimed_until')
    with op.batch_alter_table('instances') as batch:
        batch.drop_index('ix_instances_claimed_until')
        batch.drop_column('due_attempts')
        batch.drop_column('claimed_until')
