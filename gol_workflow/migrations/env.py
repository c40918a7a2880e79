"""Alembic environment: runs migrations on the connection or URL the CLI provides."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from gol_workflow.persistence.database import create_db_engine
from gol_workflow.persistence.tables import metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate using the connection given by the caller, or a fresh engine."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_db_engine(config.get_main_option("sqlalchemy.url"), pool_size=0)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported: run `gol-workflow db upgrade`")
run_migrations_online()
