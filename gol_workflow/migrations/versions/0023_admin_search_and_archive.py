"""instances: a trigram index for name parts (admin search); archive tables for closed instances

Revision ID: 0023_admin_search_and_archive
Revises: 0010_equipe_participation
Create Date: 2026-12-06
"""

from alembic import op
import sqlalchemy as sa

revision = '0023_admin_search_and_archive'
down_revision = '0019_single_sign_on'
branch_labels = None
depends_on = None

# A part of a name across every instance is found with a trigram index. Where the pg_trgm
# extension may not be created, a btree on lower(name) takes the same name: the admin search
# then finds names by their beginning only (see the admin console in the README).
TRIGRAM = """
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
    CREATE INDEX IF NOT EXISTS ix_instances_beneficiary_name_trgm ON instances
        USING gin (beneficiary_name gin_trgm_ops);
EXCEPTION WHEN insufficient_privilege OR undefined_file OR feature_not_supported THEN
    RAISE NOTICE 'pg_trgm is not available: the admin search finds names by their beginning';
    CREATE INDEX IF NOT EXISTS ix_instances_beneficiary_name_trgm ON instances
        (lower(beneficiary_name) text_pattern_ops);
END
$$
"""

ARCHIVABLE = "archived_at IS NULL AND ended_at IS NOT NULL"

# The audit log stays append-only: a row may leave `audit_events` only when the same row is
# already in `archived_audit_events`, which refuses UPDATE and DELETE itself.
AUDIT_MOVES = """
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND EXISTS (
        SELECT 1 FROM archived_audit_events a
        WHERE a.id = OLD.id AND a.at = OLD.at AND a.action = OLD.action
          AND a.instance_id IS NOT DISTINCT FROM OLD.instance_id) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_events is append-only';
END;
$$ LANGUAGE plpgsql
"""

ARCHIVE_APPEND_ONLY = """
CREATE FUNCTION archived_audit_events_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'archived_audit_events is append-only';
END;
$$ LANGUAGE plpgsql
"""

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only';
END;
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == 'postgresql'
    with op.batch_alter_table('instances', schema=None) as batch_op:
        batch_op.add_column(sa.Column('archived_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_instances_archivable', ['ended_at'], unique=False,
                              postgresql_where=sa.text(ARCHIVABLE), sqlite_where=sa.text(ARCHIVABLE))
        if not postgres:
            batch_op.create_index('ix_instances_beneficiary_name_trgm', ['beneficiary_name'], unique=False)
    if postgres:
        op.execute(TRIGRAM)
    op.create_table('archived_states',
    sa.Column('instance_id', sa.String(length=36), nullable=False),
    sa.Column('state', sa.Text(), nullable=False),
    sa.Column('archived_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['instances.id'], name=op.f('fk_archived_states_instance_id_instances'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('instance_id', name=op.f('pk_archived_states'))
    )
    op.create_table('archived_audit_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=255), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('instance_id', sa.String(length=36), nullable=True),
    sa.Column('task_id', sa.String(length=36), nullable=True),
    sa.Column('element_id', sa.String(length=255), nullable=True),
    sa.Column('data', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_archived_audit_events'))
    )
    with op.batch_alter_table('archived_audit_events', schema=None) as batch_op:
        batch_op.create_index('ix_archived_audit_events_instance_id_id', ['instance_id', 'id'], unique=False)
        batch_op.create_index('ix_archived_audit_events_task_id', ['task_id'], unique=False)
    if postgres:
        op.execute(ARCHIVE_APPEND_ONLY)
        op.execute("CREATE TRIGGER archived_audit_events_append_only BEFORE UPDATE OR DELETE ON archived_audit_events "
                   "FOR EACH ROW EXECUTE FUNCTION archived_audit_events_append_only()")
        op.execute(AUDIT_MOVES)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(APPEND_ONLY)
        op.execute("DROP TRIGGER IF EXISTS archived_audit_events_append_only ON archived_audit_events")
        op.execute("DROP FUNCTION IF EXISTS archived_audit_events_append_only()")
    op.drop_table('archived_audit_events')
    op.drop_table('archived_states')
    with op.batch_alter_table('instances', schema=None) as batch_op:
        batch_op.drop_index('ix_instances_beneficiary_name_trgm')
        batch_op.drop_index('ix_instances_archivable')
        batch_op.drop_column('archived_at')
