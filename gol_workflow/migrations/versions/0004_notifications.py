"""notifications: each person's preference, the notices already sent, the digest's last run

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('notifications', sa.String(16), nullable=False, server_default='digest'))
    op.create_index('ix_tasks_due_at', 'tasks', ['due_at'])
    op.create_table(
        'task_notices',
        sa.Column('username', sa.String(150), nullable=False),
        sa.Column('task_id', sa.String(36), nullable=False),
        sa.Column('kind', sa.String(16), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('username', 'task_id', 'kind', name='pk_task_notices'),
    )
    op.create_index('ix_task_notices_task_id', 'task_notices', ['task_id'])
    op.create_table(
        'notification_runs',
        sa.Column('name', sa.String(32), nullable=False),
        sa.Column('last_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('name', name='pk_notification_runs'),
    )


def downgrade() -> None:
    op.drop_table('notification_runs')
    op.drop_index('ix_task_notices_task_id', table_name='task_notices')
    op.drop_table('task_notices')
    op.drop_index('ix_tasks_due_at', table_name='tasks')
    with op.batch_alter_table('users') as batch:
        batch.drop_column('notifications')
