"""retention and pseudonyms: per-case keys, the audit log's pseudonym, legal hold, retention runs

Existing audit events of a person's case are sealed under a new key of that case and get the
person's pseudonym, so that no event keeps identifiers or form data in clear. On PostgreSQL
the append-only trigger is set aside for this one step, inside the migration's transaction,
and put back before it commits.

Revision ID: 0020_retention_and_pseudonyms
Revises: 0010_equipe_participation
Create Date: 2026-12-06
"""

import os
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = '0020_retention_and_pseudonyms'
down_revision = '0023_admin_search_and_archive'
branch_labels = None
depends_on = None

BATCH = 500


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('legal_hold', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('legal_hold_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('legal_hold_by', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('legal_hold_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('anonymised_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('subject', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_audit_events_subject', ['subject'], unique=False)
    with op.batch_alter_table('archived_audit_events', schema=None) as batch_op:  # the archive keeps the same rows
        batch_op.add_column(sa.Column('subject', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_archived_audit_events_subject', ['subject'], unique=False)
    op.create_table(
        'subject_keys',
        sa.Column('instance_id', sa.String(length=36), nullable=False),
        sa.Column('codice_fiscale', sa.String(length=16), nullable=False),
        sa.Column('key', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('instance_id', name=op.f('pk_subject_keys')),
    )
    with op.batch_alter_table('subject_keys', schema=None) as batch_op:
        batch_op.create_index('ix_subject_keys_codice_fiscale', ['codice_fiscale'], unique=False)
    op.create_table(
        'retention_runs',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('day', sa.Date(), nullable=True),
        sa.Column('mode', sa.String(length=16), nullable=False),
        sa.Column('started_by', sa.String(length=255), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('cases_anonymised', sa.Integer(), nullable=False),
        sa.Column('attachments_deleted', sa.Integer(), nullable=False),
        sa.Column('bytes_deleted', sa.BigInteger(), nullable=False),
        sa.Column('cases_held', sa.Integer(), nullable=False),
        sa.Column('report', sa.Text(), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_retention_runs')),
        sa.UniqueConstraint('day', name=op.f('uq_retention_runs_day')),
    )
    with op.batch_alter_table('retention_runs', schema=None) as batch_op:
        batch_op.create_index('ix_retention_runs_started_at', ['started_at'], unique=False)
    _seal_existing_events()


def _seal_existing_events() -> None:
    """Give every person's case a key, and seal its existing events under it."""
    from gol_workflow.persistence.sealing import is_sealed, pseudonym, seal
    from gol_workflow.persistence.types import JsonText

    bind = op.get_bind()
    postgres = bind.dialect.name == 'postgresql'
    json_type = JsonText()
    people = bind.execute(sa.text(
        "SELECT id, codice_fiscale FROM instances WHERE codice_fiscale IS NOT NULL ORDER BY id")).all()
    if not people:
        return  # a new database: nothing was logged yet
    if postgres:
        bind.execute(sa.text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
    now = datetime.now(UTC)
    for instance_id, codice_fiscale in people:
        key = os.urandom(32)
        bind.execute(sa.text("INSERT INTO subject_keys (instance_id, codice_fiscale, key, created_at) "
                             "VALUES (:i, :c, :k, :t)").bindparams(sa.bindparam('k', type_=sa.LargeBinary())),
                     {"i": instance_id, "c": codice_fiscale, "k": key, "t": now if postgres else now.replace(tzinfo=None)})
        subject = pseudonym(key, codice_fiscale)
        rows = bind.execute(sa.text("SELECT id, data FROM audit_events WHERE instance_id = :i"),
                            {"i": instance_id}).all()
        updates = []
        for event_id, raw in rows:
            data = json_type.process_result_value(raw, bind.dialect)
            sealed = raw if data is None or is_sealed(data) else json_type.process_bind_param(seal(key, data),
                                                                                               bind.dialect)
            updates.append({"id": event_id, "d": sealed, "s": subject})
        for start in range(0, len(updates), BATCH):
            bind.execute(sa.text("UPDATE audit_events SET data = :d, subject = :s WHERE id = :id"),
                         updates[start:start + BATCH])
    # Instances about several people (a meeting) logged their start data, the agenda with it:
    # the log keeps its outline, as new ones do (scalars; mappings by their keys; lists by length).
    started = bind.execute(sa.text(
        "SELECT e.id, e.data FROM audit_events e JOIN instances i ON i.id = e.instance_id "
        "WHERE e.action = 'instance.started' AND i.codice_fiscale IS NULL AND e.data IS NOT NULL")).all()
    for event_id, raw in started:
        data = json_type.process_result_value(raw, bind.dialect)
        if isinstance(data, dict) and isinstance(data.get("data"), dict):
            outline = {k: (sorted(map(str, v)) if isinstance(v, dict) else len(v) if isinstance(v, list) else v)
                       for k, v in data["data"].items()}
            bind.execute(sa.text("UPDATE audit_events SET data = :d WHERE id = :id"),
                         {"id": event_id, "d": json_type.process_bind_param({**data, "data": outline}, bind.dialect)})
    if postgres:
        bind.execute(sa.text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only"))


def _unseal_events() -> None:
    """Back to data in clear for every case whose key still exists (anonymised ones stay unreadable)."""
    from gol_workflow.persistence.sealing import is_sealed, unseal
    from gol_workflow.persistence.types import JsonText

    bind = op.get_bind()
    postgres = bind.dialect.name == 'postgresql'
    json_type = JsonText()
    keys = bind.execute(sa.text("SELECT instance_id, key FROM subject_keys")).all()
    if postgres:
        bind.execute(sa.text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
    for instance_id, key in keys:
        rows = bind.execute(sa.text("SELECT id, data FROM audit_events WHERE instance_id = :i AND data IS NOT NULL"),
                            {"i": instance_id}).all()
        for event_id, raw in rows:
            data = json_type.process_result_value(raw, bind.dialect)
            if is_sealed(data):
                bind.execute(sa.text("UPDATE audit_events SET data = :d WHERE id = :id"), {
                    "id": event_id, "d": json_type.process_bind_param(unseal(bytes(key), data), bind.dialect)})
    if postgres:
        bind.execute(sa.text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only"))


def downgrade() -> None:
    _unseal_events()
    op.drop_table('retention_runs')
    op.drop_table('subject_keys')
    with op.batch_alter_table('archived_audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_archived_audit_events_subject')
        batch_op.drop_column('subject')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_subject')
        batch_op.drop_column('subject')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        for column in ('anonymised_at', 'legal_hold_at', 'legal_hold_by', 'legal_hold_reason', 'legal_hold'):
            batch_op.drop_column(column)
