"""tasks: who each ready task is for (its roles and named people), declared with the process

Revision ID: 0012_process_starters
Revises: 0009_case_list_indexes
Create Date: 2026-12-06
"""

from alembic import op
import sqlalchemy as sa

revision = '0012_process_starters'
down_revision = '0009_case_list_indexes'
branch_labels = None
depends_on = None

# Tasks stored before this migration keep NULL roles: they are matched by their lane, through
# the processes folder's lanes.toml, until they are completed.


def upgrade() -> None:
    with op.batch_alter_table('tasks') as batch:
        batch.add_column(sa.Column('roles', sa.String(length=1000), nullable=True))
        batch.add_column(sa.Column('users', sa.String(length=1000), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('tasks') as batch:
        batch.drop_column('users')
        batch.drop_column('roles')
