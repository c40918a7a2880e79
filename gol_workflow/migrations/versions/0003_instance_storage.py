"""instances: lz4 for the workflow state, room on each page for in-place updates

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

# Every step rewrites its instance row and that row's `state` (kilobytes of JSON, tens of
# kilobytes for a year-long case). PostgreSQL compresses it with pglz unless told otherwise;
# lz4 does the same job in a fraction of the time. A server built without lz4 keeps pglz.
LZ4_STATE = """
DO $$
BEGIN
    ALTER TABLE instances ALTER COLUMN state SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'this server has no lz4: instances.state stays compressed with pglz';
END
$$
"""

# Free space on each page lets an update put the new row version beside the old one
# (a HOT update) instead of adding an entry to each of the table's nine indexes.
INSTANCES_FILLFACTOR = 70


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(LZ4_STATE)
        op.execute(f'ALTER TABLE instances SET (fillfactor = {INSTANCES_FILLFACTOR})')


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE instances RESET (fillfactor)')
        op.execute('ALTER TABLE instances ALTER COLUMN state SET COMPRESSION default')
