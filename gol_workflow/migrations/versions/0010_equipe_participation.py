"""tasks.participant: an equipe participant's own task (its confirmation of the decision) sits in its queue alone;
cases.equipe_participants, cases.equipe_confirmed_by: who took part in the equipe and confirmed its decision

Revision ID: 0010_equipe_participation
Revises: 0015_indicators
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = '0010_equipe_participation'
down_revision = '0015_indicators'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tasks') as batch:
        batch.add_column(sa.Column('participant', sa.String(64), nullable=True))
    with op.batch_alter_table('cases') as batch:
        batch.add_column(sa.Column('equipe_participants', sa.Text(), nullable=True))
        batch.add_column(sa.Column('equipe_confirmed_by', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('cases') as batch:
        batch.drop_column('equipe_confirmed_by')
        batch.drop_column('equipe_participants')
    with op.batch_alter_table('tasks') as batch:
        batch.drop_column('participant')
