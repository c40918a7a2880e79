"""incidents with their comments; saved views of the instance list; indexes for the heat of a process version

Revision ID: 0018_incidents_heat_views
Revises: 0010_equipe_participation
Create Date: 2026-12-06
"""

import json
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = '0018_incidents_heat_views'
down_revision = '0020_retention_and_pseudonyms'
branch_labels = None
depends_on = None

STEP_ACTIONS = ("instance.started", "task.completed", "timer.fired", "message.delivered", "instance.retried",
                "instance.auto_retried", "instance.resumed", "instance.moved", "incident.skipped",
                "incident.edited_and_retried")


def upgrade() -> None:
    op.create_table(
        'incidents',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('instance_id', sa.String(36), nullable=False),
        sa.Column('process_id', sa.String(255), nullable=False),
        sa.Column('process_version_id', sa.Integer(), nullable=False),
        sa.Column('element_id', sa.String(255), nullable=True),
        sa.Column('element_name', sa.String(255), nullable=True),
        sa.Column('kind', sa.String(32), nullable=False),
        sa.Column('message', sa.Text(), nullable=False),
        sa.Column('detail', sa.Text(), nullable=True),
        sa.Column('status', sa.String(16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_failed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('assignee', sa.String(255), nullable=True),
        sa.Column('resolution', sa.String(32), nullable=True),
        sa.Column('resolution_note', sa.Text(), nullable=True),
        sa.Column('resolved_by', sa.String(255), nullable=True),
        sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['instance_id'], ['instances.id'], name=op.f('fk_incidents_instance_id_instances'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents')),
    )
    op.create_index('ix_incidents_status_last_failed_at', 'incidents', ['status', 'last_failed_at'])
    op.create_index('ix_incidents_instance_id_status', 'incidents', ['instance_id', 'status'])
    op.create_index('ix_incidents_group', 'incidents', ['process_version_id', 'element_id', 'kind', 'status'])
    op.create_table(
        'incident_comments',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('incident_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('author', sa.String(255), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'],
                                name=op.f('fk_incident_comments_incident_id_incidents'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_comments')),
    )
    op.create_index('ix_incident_comments_incident_id_id', 'incident_comments', ['incident_id', 'id'])
    op.create_table(
        'saved_views',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('username', sa.String(150), nullable=False),
        sa.Column('name', sa.String(120), nullable=False),
        sa.Column('query', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_views')),
        sa.UniqueConstraint('username', 'name', name='uq_saved_views_username_name'),
    )
    completed = sa.text("action = 'task.completed'")
    steps = sa.text("action IN (" + ", ".join(f"'{a}'" for a in STEP_ACTIONS) + ")")
    op.create_index('ix_audit_events_completed_at', 'audit_events', ['at'], postgresql_include=['instance_id', 'element_id', 'id'],
                    postgresql_where=completed, sqlite_where=completed)
    op.create_index('ix_audit_events_steps', 'audit_events', ['instance_id', 'id'], postgresql_include=['at'],
                    postgresql_where=steps, sqlite_where=steps)
    op.create_index('ix_instances_version_status_step', 'instances',
                    ['process_version_id', 'status', 'current_step'], postgresql_include=['id'])
    _open_incidents_of_failed_instances()


def _open_incidents_of_failed_instances() -> None:
    """Instances already in error get their open incident (the kind of an earlier failure is not known)."""
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, process_id, process_version_id, error, updated_at FROM instances "
                                "WHERE status = 'error'")).mappings().all()
    now = datetime.now(timezone.utc)
    for row in rows:
        try:
            error = json.loads(row["error"]) if isinstance(row["error"], str) else (row["error"] or {})
        except ValueError:
            error = {}
        error = error if isinstance(error, dict) else {}
        kind = "scheduler_set_aside" if error.get("set_aside") else str(error.get("kind") or "unknown")
        detail = {k: error.get(k) for k in ("line", "source_line", "retryable")}
        conn.execute(sa.text(
            "INSERT INTO incidents (instance_id, process_id, process_version_id, element_id, element_name, kind, "
            "message, detail, status, attempts, opened_at, last_failed_at) VALUES (:i, :p, :v, :e, :n, :k, :m, :d, "
            "'open', 1, :at, :at)"),
            {"i": row["id"], "p": row["process_id"], "v": row["process_version_id"], "e": error.get("element_id"),
             "n": error.get("element_name"), "k": kind[:32], "m": str(error.get("message") or ""),
             "d": json.dumps(detail), "at": row["updated_at"] or now})


def downgrade() -> None:
    op.drop_index('ix_instances_version_status_step', table_name='instances')
    op.drop_index('ix_audit_events_steps', table_name='audit_events')
    op.drop_index('ix_audit_events_completed_at', table_name='audit_events')
    op.drop_table('saved_views')
    op.drop_index('ix_incident_comments_incident_id_id', table_name='incident_comments')
    op.drop_table('incident_comments')
    op.drop_index('ix_incidents_group', table_name='incidents')
    op.drop_index('ix_incidents_instance_id_status', table_name='incidents')
    op.drop_index('ix_incidents_status_last_failed_at', table_name='incidents')
    op.drop_table('incidents')
