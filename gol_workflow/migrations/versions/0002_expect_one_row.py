"""a PostgreSQL function that fails a transaction when an optimistic update matched no row

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

# A step's writes travel to PostgreSQL in one round trip together with their COMMIT, so the
# optimistic check on the instance's row_version cannot wait for the client to read a row
# count: the update itself must abort the transaction when another step got there first.
EXPECT_ONE_ROW = """
CREATE OR REPLACE FUNCTION gol_expect_one_row(matched bigint, what text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF matched <> 1 THEN
        RAISE EXCEPTION '% was changed by another transaction', what
            USING ERRCODE = 'serialization_failure';
    END IF;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(EXPECT_ONE_ROW)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP FUNCTION IF EXISTS gol_expect_one_row(bigint, text)')
