"""process_drafts: diagrams saved from the modeler, not deployed; a note and the scenario result on each version

Revision ID: 0013_process_drafts
Revises: 0012_process_starters
Create Date: 2026-12-06
"""

from alembic import op
import sqlalchemy as sa

revision = '0013_process_drafts'
down_revision = '0012_process_starters'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('process_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('note', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('scenarios', sa.Text(), nullable=True))
    op.create_table('process_drafts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('process_id', sa.String(length=255), nullable=False),
    sa.Column('main_file', sa.String(length=255), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('base_version', sa.Integer(), nullable=True),
    sa.Column('author', sa.String(length=255), nullable=False),
    sa.Column('saved_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('scenarios', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_process_drafts'))
    )
    with op.batch_alter_table('process_drafts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_process_drafts_process_id'), ['process_id'], unique=False)


def downgrade() -> None:
    op.drop_table('process_drafts')
    with op.batch_alter_table('process_versions', schema=None) as batch_op:
        batch_op.drop_column('scenarios')
        batch_op.drop_column('note')
