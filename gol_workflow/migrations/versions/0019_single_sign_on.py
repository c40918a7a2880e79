"""single sign-on: the identity provider's subject of an account, and accounts waiting for a role

Revision ID: 0019_single_sign_on
Revises: 0010_equipe_participation
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = '0019_single_sign_on'
down_revision = '0010_equipe_participation'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('oidc_issuer', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('oidc_subject', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('pending', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('access_from_claims', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.create_index('ix_users_oidc_identity', ['oidc_issuer', 'oidc_subject'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index('ix_users_oidc_identity')
        batch_op.drop_column('access_from_claims')
        batch_op.drop_column('pending')
        batch_op.drop_column('oidc_subject')
        batch_op.drop_column('oidc_issuer')
