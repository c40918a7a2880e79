"""Indexes for reads at national scale: the tasks that name a person (so a person's inbox and badge
read their zones' tasks from the zone index, not every task), and the indicators' counts across
every zone (one range of dates, zones and facts read from the index alone)

Revision ID: 0021_national_read_indexes
Revises: 0010_equipe_participation
Create Date: 2026-12-06
"""

from alembic import op

revision = '0021_national_read_indexes'
down_revision = '0010_equipe_participation'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tasks') as batch:
        # Partial: the visibility rule's "tasks naming this person" arm becomes an index scan of the
        # few such tasks, so the whole rule is a BitmapOr of index scans instead of a scan of every task.
        batch.create_index('ix_tasks_named', ['users'], unique=False,
                           postgresql_where='users IS NOT NULL', sqlite_where='users IS NOT NULL')


def downgrade() -> None:
    with op.batch_alter_table('tasks') as batch:
        batch.drop_index('ix_tasks_named')
