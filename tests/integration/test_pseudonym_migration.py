"""Migration 0020 seals the audit events logged before it, and the log stays append-only."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from gol_workflow.persistence import schema
from gol_workflow.persistence.database import create_db_engine
from gol_workflow.persistence.sealing import is_sealed, opened, pseudonym
from gol_workflow.persistence.tables import audit_events
from tests.conftest import on_postgres, scratch_database

CF = "QGLTTV78D62G713W"
BEFORE = "0010_equipe_participation"


@pytest.fixture
def old_database(db_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of the test's kind, migrated only up to the revision before 0020."""
    (tmp_path / "migrazione").mkdir()
    with scratch_database(db_url, tmp_path, "migrazione") as url:
        yield url


def _old_rows(conn) -> None:
    stamp = "2026-01-05 08:00:00"
    conn.execute(text("INSERT INTO process_versions (id, process_id, version, name, content_hash, main_file, files, "
                      "deployed_by, deployed_at) VALUES (1, 'p', 1, 'p', 'h', 'p.bpmn', '{}', 'admin', :t)"), {"t": stamp})
    for instance_id, cf, process in (("caso-1", CF, "percorso4"), ("riunione-1", None, "riunione_equipe")):
        conn.execute(text(
            "INSERT INTO instances (id, process_version_id, process_id, status, row_version, state, zone, "
            "codice_fiscale, started_by, started_at, updated_at, retry_count, due_attempts) "
            "VALUES (:i, 1, :p, 'running', 1, '{}', 'pistoiese', :c, 'admin', :t, :t, 0, 0)"),
            {"i": instance_id, "c": cf, "p": process, "t": stamp})
    events = [
        ("caso-1", "instance.started", {"data": {"beneficiario": {"nome": "Ottavia", "codice_fiscale": CF}}}),
        ("caso-1", "case.viewed", None),
        ("riunione-1", "instance.started", {"process": "riunione_equipe", "data": {
            "zona": "pistoiese", "casi": {"caso-1": {"nome": "Ottavia Quaglierini"}}}}),
    ]
    for instance_id, action, data in events:
        conn.execute(text("INSERT INTO audit_events (at, actor, action, instance_id, data) "
                          "VALUES (:t, 'cpi.pistoia', :a, :i, :d)"),
                     {"t": stamp, "a": action, "i": instance_id, "d": None if data is None else json.dumps(data)})


def test_the_upgrade_seals_what_was_logged_in_clear_and_the_log_stays_append_only(old_database: str) -> None:
    engine = create_db_engine(old_database, pool_size=0)
    try:
        schema.upgrade(engine, BEFORE)
        with engine.begin() as conn:
            _old_rows(conn)
        schema.upgrade(engine)
        with engine.connect() as conn:
            raw = conn.execute(text("SELECT instance_id, action, data, subject FROM audit_events ORDER BY id")).all()
            key = conn.execute(text("SELECT key FROM subject_keys WHERE instance_id = 'caso-1'")).scalar_one()
            rows = opened(conn, conn.execute(select(audit_events).order_by(audit_events.c.id)).mappings().all())
        assert "Ottavia" not in " ".join(str(r.data) for r in raw)
        started, viewed, meeting = rows
        assert is_sealed(json.loads(raw[0].data)) and started["data"]["data"]["beneficiario"]["nome"] == "Ottavia"
        assert started["subject"] == viewed["subject"] == pseudonym(bytes(key), CF)
        assert viewed["data"] is None
        assert meeting["subject"] is None and meeting["data"]["data"] == {"zona": "pistoiese", "casi": ["caso-1"]}
        if on_postgres():
            with pytest.raises(DBAPIError, match="append-only"):
                with engine.begin() as conn:
                    conn.execute(text("UPDATE audit_events SET actor = 'altro'"))
            with pytest.raises(DBAPIError, match="append-only"):
                with engine.begin() as conn:
                    conn.execute(text("DELETE FROM audit_events"))
        command.downgrade(schema.alembic_config(old_database), BEFORE)  # back: the data in clear again
        with engine.connect() as conn:
            back = conn.execute(text("SELECT data FROM audit_events WHERE instance_id = 'caso-1' ORDER BY id")).all()
        assert json.loads(back[0].data)["data"]["beneficiario"]["nome"] == "Ottavia" and back[1].data is None
    finally:
        engine.dispose()
