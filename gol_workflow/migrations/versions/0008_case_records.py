"""cases: one record per case with its typed facts, for the case list and the case file

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from alembic import op
import sqlalchemy as sa

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

# Instances started before this migration get their record with `gol-workflow cases rebuild`.


def upgrade() -> None:
    op.create_table('cases',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('process_id', sa.String(length=255), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('current_step', sa.String(length=255), nullable=True),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('zone', sa.String(length=64), nullable=True),
    sa.Column('beneficiary_name', sa.String(length=255), nullable=True),
    sa.Column('codice_fiscale', sa.String(length=16), nullable=True),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('profiled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('complex_needs', sa.Boolean(), nullable=True),
    sa.Column('percorso', sa.Integer(), nullable=True),
    sa.Column('known_to_social_services', sa.Boolean(), nullable=True),
    sa.Column('particular_needs', sa.Boolean(), nullable=True),
    sa.Column('specialist_services', sa.Text(), nullable=True),
    sa.Column('equipe_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision', sa.String(length=64), nullable=True),
    sa.Column('measures', sa.Text(), nullable=True),
    sa.Column('first_appointment_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('first_appointment_place', sa.String(length=255), nullable=True),
    sa.Column('case_manager', sa.String(length=255), nullable=True),
    sa.Column('path_start_date', sa.Date(), nullable=True),
    sa.Column('path_end_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('monitorings', sa.Integer(), nullable=False),
    sa.Column('last_monitoring_date', sa.Date(), nullable=True),
    sa.Column('substantial_changes', sa.Integer(), nullable=False),
    sa.Column('last_substantial_change_date', sa.Date(), nullable=True),
    sa.Column('last_substantial_change', sa.String(length=255), nullable=True),
    sa.Column('final_monitoring_date', sa.Date(), nullable=True),
    sa.Column('outcome', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['id'], ['instances.id'], name=op.f('fk_cases_id_instances'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cases'))
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_zone_status_updated_at', ['zone', 'status', 'updated_at'], unique=False)
        batch_op.create_index('ix_cases_status_updated_at', ['status', 'updated_at'], unique=False)
        batch_op.create_index('ix_cases_updated_at', ['updated_at'], unique=False)
        batch_op.create_index('ix_cases_codice_fiscale', ['codice_fiscale'], unique=False)
        batch_op.create_index('ix_cases_beneficiary_name', ['beneficiary_name'], unique=False)
        batch_op.create_index('ix_cases_case_manager_updated_at', ['case_manager', 'updated_at'], unique=False)
        batch_op.create_index('ix_cases_path_end_at', ['path_end_at'], unique=False)


def downgrade() -> None:
    op.drop_table('cases')
