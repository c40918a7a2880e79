"""Indexes for reads at national scale: the tasks that name a person (so a person's inbox and badge
read their zones' tasks from the zone index, not every task), and the indicators' counts across
every zone (one range of dates, zones and facts read from the index alone)

Revision ID: 0021_national_read_indexes
Revises: 0010_equipe_participation
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = '0021_national_read_indexes'
down_revision = '0018_incidents_heat_views'
branch_labels = None
depends_on = None


# (name, columns, carried columns): a zone's cases by one date, with the facts the indicators count.
CASE_FACTS = (
    ('ix_cases_zone_opened_at_facts', ['zone', 'opened_at'],
     ['process_id', 'profiled_at', 'equipe_at', 'decision', 'substantial_changes', 'first_appointment_at',
      'path_start_date']),
    ('ix_cases_zone_equipe_at_facts', ['zone', 'equipe_at'],
     ['process_id', 'decision', 'poverty_condition', 'social_inclusion_path', 'work_path']),
    ('ix_cases_zone_path_start_facts', ['zone', 'path_start_date'],
     ['process_id', 'joint_interview', 'case_manager', 'final_monitoring_date', 'status']),
    ('ix_cases_zone_profiled_at_facts', ['zone', 'profiled_at'],
     ['process_id', 'percorso', 'decision', 'substantial_changes', 'equipe_at']),
    ('ix_cases_zone_final_monitoring_facts', ['zone', 'final_monitoring_date'], ['process_id', 'outcome']),
)
REPLACED = (('ix_cases_zone_opened_at', ['zone', 'opened_at']), ('ix_cases_zone_equipe_at', ['zone', 'equipe_at']),
            ('ix_cases_zone_path_start_date', ['zone', 'path_start_date']))


def upgrade() -> None:
    with op.batch_alter_table('tasks') as batch:
        # Partial: the visibility rule's "tasks naming this person" arm becomes an index scan of the
        # few such tasks, so the whole rule is a BitmapOr of index scans instead of a scan of every task.
        batch.create_index('ix_tasks_named', ['users'], unique=False,
                           postgresql_where=sa.text('users IS NOT NULL'), sqlite_where=sa.text('users IS NOT NULL'))
    with op.batch_alter_table('cases') as batch:
        for name, _ in REPLACED:
            batch.drop_index(name)
        for name, columns, carried in CASE_FACTS:
            batch.create_index(name, columns, unique=False, postgresql_include=carried)
    with op.batch_alter_table('placements') as batch:
        batch.drop_index('ix_placements_zone_start_date')
        batch.create_index('ix_placements_zone_start_facts', ['zone', 'start_date'], unique=False,
                           postgresql_include=['kind', 'case_id'])


def downgrade() -> None:
    with op.batch_alter_table('placements') as batch:
        batch.drop_index('ix_placements_zone_start_facts')
        batch.create_index('ix_placements_zone_start_date', ['zone', 'start_date'], unique=False)
    with op.batch_alter_table('cases') as batch:
        for name, _, _ in CASE_FACTS:
            batch.drop_index(name)
        for name, columns in REPLACED:
            batch.create_index(name, columns, unique=False)
    with op.batch_alter_table('tasks') as batch:
        batch.drop_index('ix_tasks_named')
