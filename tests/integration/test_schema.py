"""The schema comes only from Alembic migrations, and they match the tables the code uses."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from gol_workflow.persistence import schema
from gol_workflow.persistence.database import create_db_engine
from gol_workflow.persistence.tables import metadata

from tests.conftest import on_postgres


def test_migrations_match_the_tables(db_url: str) -> None:
    engine = create_db_engine(db_url, pool_size=0)
    try:
        assert schema.current_revision(engine) == schema.head_revision()
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            differences = compare_metadata(context, metadata)
        assert differences == []
    finally:
        engine.dispose()


def test_upgrade_is_idempotent(db_url: str) -> None:
    engine = create_db_engine(db_url, pool_size=0)
    try:
        schema.upgrade(engine)
        schema.upgrade(engine)
        assert schema.current_revision(engine) == schema.head_revision()
    finally:
        engine.dispose()


@pytest.mark.skipif(not on_postgres(), reason="PostgreSQL storage settings")
def test_instances_are_stored_for_frequent_rewrites(db_url: str) -> None:
    engine = create_db_engine(db_url, pool_size=0)
    try:
        with engine.connect() as conn:
            compression = conn.exec_driver_sql(
                "SELECT attcompression FROM pg_attribute WHERE attrelid = 'instances'::regclass AND attname = 'state'"
            ).scalar_one()
            options = conn.exec_driver_sql("SELECT reloptions FROM pg_class WHERE oid = 'instances'::regclass").scalar_one()
    finally:
        engine.dispose()
    assert compression == "l"  # lz4 (the server here is built with it)
    assert "fillfactor=70" in options
