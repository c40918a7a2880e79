"""cases: covering indexes for the case list by zone and by case manager; trigram index for name parts; overdue tasks by index

Revision ID: 0009_case_list_indexes
Revises: 0008
Create Date: 2026-12-06
"""

from alembic import op

revision = '0009_case_list_indexes'
down_revision = '0008'
branch_labels = None
depends_on = None

# A zone's or a case manager's list (any filter, sort or page) reads only the index: the filters
# and sort keys are its columns, so a page costs one index range of that zone (about 10,000 entries
# at 1,000,000 cases) and 25 row reads, whatever the page. PostgreSQL only (SQLite has no INCLUDE).
LISTED = ['status', 'current_step', 'opened_at', 'path_end_at', 'equipe_at', 'beneficiary_name',
          'specialist_services']

# A part of a name across every zone (administrators) is found with a trigram index. Servers
# without the pg_trgm extension (or where it may not be created) get a plain index under the same
# name: the search still works, reading the zone's index or, across every zone, the table.
TRIGRAM = """
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
    CREATE INDEX ix_cases_beneficiary_name_trgm ON cases USING gin (beneficiary_name gin_trgm_ops);
EXCEPTION WHEN insufficient_privilege OR undefined_file OR feature_not_supported THEN
    RAISE NOTICE 'pg_trgm is not available: name parts across every zone are searched without an index';
    CREATE INDEX ix_cases_beneficiary_name_trgm ON cases (beneficiary_name);
END
$$
"""


# Overdue cases are those with a task due before now: (due_at, case_id) finds them from the index
# alone (it also serves what the bare due_at index served: the next task to fall overdue).


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == 'postgresql'
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_tasks_due_at')
        batch_op.create_index('ix_tasks_due_at_case_id', ['due_at', 'case_id'], unique=False)
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_zone_status_updated_at')
        batch_op.drop_index('ix_cases_case_manager_updated_at')
        batch_op.create_index('ix_cases_zone_list', ['zone', 'updated_at', 'id'], unique=False,
                              postgresql_include=[*LISTED, 'case_manager'])
        batch_op.create_index('ix_cases_case_manager_list', ['case_manager', 'updated_at', 'id'], unique=False,
                              postgresql_include=[*LISTED, 'zone'])
        if not postgres:
            batch_op.create_index('ix_cases_beneficiary_name_trgm', ['beneficiary_name'], unique=False)
    if postgres:
        op.execute(TRIGRAM)


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_beneficiary_name_trgm')
        batch_op.drop_index('ix_cases_case_manager_list')
        batch_op.drop_index('ix_cases_zone_list')
        batch_op.create_index('ix_cases_case_manager_updated_at', ['case_manager', 'updated_at'], unique=False)
        batch_op.create_index('ix_cases_zone_status_updated_at', ['zone', 'status', 'updated_at'], unique=False)
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_tasks_due_at_case_id')
        batch_op.create_index('ix_tasks_due_at', ['due_at'], unique=False)
