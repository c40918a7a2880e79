"""instances.open_case_key: at most one open case per process and codice fiscale

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

# The oldest open case of each person gets the key; any later duplicates already open stay
# without one (an administrator decides about them), so the unique index can be built.
BACKFILL = """
UPDATE instances SET open_case_key = process_id || ':' || codice_fiscale
WHERE codice_fiscale IS NOT NULL AND status NOT IN ('completed', 'terminated')
  AND NOT EXISTS (
    SELECT 1 FROM instances AS older
    WHERE older.process_id = instances.process_id AND older.codice_fiscale = instances.codice_fiscale
      AND older.status NOT IN ('completed', 'terminated')
      AND (older.started_at < instances.started_at
           OR (older.started_at = instances.started_at AND older.id < instances.id)))
"""


def upgrade() -> None:
    with op.batch_alter_table('instances') as batch:
        batch.add_column(sa.Column('open_case_key', sa.String(300), nullable=True))
    op.execute(BACKFILL)
    op.create_index('ux_instances_open_case_key', 'instances', ['open_case_key'], unique=True)


def downgrade() -> None:
    op.drop_index('ux_instances_open_case_key', table_name='instances')
    with op.batch_alter_table('instances') as batch:
        batch.drop_column('open_case_key')
