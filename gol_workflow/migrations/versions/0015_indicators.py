"""indicators: placements, the operators' meetings register, the case facts the indicators read

Revision ID: 0015_indicators
Revises: 0013_process_drafts
Create Date: 2026-12-06
"""

from alembic import op
import sqlalchemy as sa

revision = '0015_indicators'
down_revision = '0013_process_drafts'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('poverty_condition', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('social_inclusion_path', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('work_path', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('joint_interview', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('interview_participants', sa.Text(), nullable=True))
        batch_op.create_index('ix_cases_zone_opened_at', ['zone', 'opened_at'], unique=False)
        batch_op.create_index('ix_cases_zone_equipe_at', ['zone', 'equipe_at'], unique=False)
        batch_op.create_index('ix_cases_zone_path_start_date', ['zone', 'path_start_date'], unique=False)
    op.create_table('placements',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('case_id', sa.String(length=36), nullable=False),
    sa.Column('zone', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('sector', sa.String(length=32), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('recorded_by', sa.String(length=255), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['instances.id'], name=op.f('fk_placements_case_id_instances'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_placements'))
    )
    with op.batch_alter_table('placements', schema=None) as batch_op:
        batch_op.create_index('ix_placements_case_id', ['case_id'], unique=False)
        batch_op.create_index('ix_placements_zone_start_date', ['zone', 'start_date'], unique=False)
    op.create_table('operator_meetings',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('zone', sa.String(length=64), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('topic', sa.String(length=255), nullable=False),
    sa.Column('participants', sa.Integer(), nullable=False),
    sa.Column('recorded_by', sa.String(length=255), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_operator_meetings'))
    )
    with op.batch_alter_table('operator_meetings', schema=None) as batch_op:
        batch_op.create_index('ix_operator_meetings_zone_held_on', ['zone', 'held_on'], unique=False)


def downgrade() -> None:
    op.drop_table('operator_meetings')
    op.drop_table('placements')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_zone_path_start_date')
        batch_op.drop_index('ix_cases_zone_equipe_at')
        batch_op.drop_index('ix_cases_zone_opened_at')
        for column in ('interview_participants', 'joint_interview', 'work_path', 'social_inclusion_path',
                       'poverty_condition'):
            batch_op.drop_column(column)
