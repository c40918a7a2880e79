"""The scratch PostgreSQL database a benchmark fills: created when missing, emptied to the current migration."""

from __future__ import annotations

import psycopg

from gol_workflow.persistence import schema
from gol_workflow.persistence.database import create_db_engine


def ensure_database(url: str) -> None:
    """Create the benchmark database if it is missing (through the template1 maintenance database)."""
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/template1", autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')


def reset(url: str) -> None:
    """An empty schema at the current migration."""
    engine = create_db_engine(url, pool_size=0)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    schema.upgrade(engine)
    engine.dispose()
