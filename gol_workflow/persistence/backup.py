"""Backing up and restoring the whole database: SQLite's online backup, PostgreSQL's pg_dump/pg_restore.

Everything the service holds is in the database (attachments included), so a copy of the
database is a copy of the service. Both ways copy a consistent snapshot while the service
runs: SQLite's backup API copies pages under its own read transaction, pg_dump reads in
one repeatable-read transaction.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine, func, inspect, select
from sqlalchemy.engine import make_url

from .database import create_db_engine
from .tables import attachments, instances


class BackupFailed(RuntimeError):
    """A backup or restore could not be made; the message says why in plain words."""


@dataclass(frozen=True)
class Inventory:
    """What a database holds, to compare a restored copy with its original."""

    revision: str | None
    instances: int
    attachments: int
    attachment_bytes: int
    timers_pending: int


def dialect_of(url: str) -> str:
    """`sqlite` or `postgresql`."""
    name = make_url(url).get_backend_name()
    if name not in ("sqlite", "postgresql"):
        raise BackupFailed(f"backups support SQLite and PostgreSQL, not {name}")
    return name


def _libpq_url(url: str) -> str:
    """The URL as pg_dump and pg_restore read it (no SQLAlchemy driver name)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupFailed("an in-memory SQLite database cannot be backed up")
    return Path(database)


def backup(url: str, destination: Path) -> Inventory:
    """Write a consistent copy of the running database to `destination`; returns what the copy holds."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".partial")
    if dialect_of(url) == "sqlite":
        source = sqlite3.connect(_sqlite_path(url))
        try:
            target = sqlite3.connect(partial)
            try:
                source.backup(target)
            finally:
                target.close()
        finally:
            source.close()
        copy = create_db_engine(f"sqlite:///{partial}", pool_size=1)
        try:
            held = inventory(copy)
        finally:
            copy.dispose()
    else:
        held = _dump_postgres(url, partial)
    partial.replace(destination)  # a backup file exists only once complete
    return held


def _dump_postgres(url: str, partial: Path) -> Inventory:
    """pg_dump under a snapshot this connection exported, counted in that same snapshot."""
    engine = create_db_engine(url, pool_size=1)
    try:
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
            snapshot = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
            held = _count(conn)
            _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}",
                  f"--file={partial}", f"--dbname={_libpq_url(url)}"], "pg_dump")
            conn.rollback()
        return held
    finally:
        engine.dispose()


def restore(source: Path, url: str, replace: bool = False) -> None:
    """Load a backup into the database at `url`; refused when it already holds a schema, unless `replace`."""
    if not source.is_file():
        raise BackupFailed(f"no backup file at {source}")
    engine = create_db_engine(url, pool_size=1)
    try:
        occupied = bool(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    if occupied and not replace:
        raise BackupFailed("the target database already holds tables: restore into an empty database, or pass "
                           "--replace to overwrite it")
    if dialect_of(url) == "sqlite":
        target = _sqlite_path(url)
        target.parent.mkdir(parents=True, exist_ok=True)
        for leftover in (target.with_name(target.name + "-wal"), target.with_name(target.name + "-shm")):
            leftover.unlink(missing_ok=True)
        partial = target.with_name(target.name + ".restoring")
        shutil.copyfile(source, partial)
        partial.replace(target)
        target.chmod(0o600)
    else:
        options = ["--clean", "--if-exists"] if replace else []
        _run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", *options,
              f"--dbname={_libpq_url(url)}", str(source)], "pg_restore")


def inventory(engine: Engine) -> Inventory:
    """Counts and sizes that a faithful copy shares with its original."""
    with engine.connect() as conn:
        return _count(conn)


def _count(conn: Connection) -> Inventory:
    from alembic.runtime.migration import MigrationContext

    count = func.count()
    return Inventory(
        revision=MigrationContext.configure(conn).get_current_revision(),
        instances=conn.scalar(select(count).select_from(instances)) or 0,
        attachments=conn.scalar(select(count).select_from(attachments)) or 0,
        attachment_bytes=int(conn.scalar(select(func.coalesce(func.sum(attachments.c.size), 0))) or 0),
        timers_pending=conn.scalar(select(count).select_from(instances)
                                   .where(instances.c.next_due_at.is_not(None))) or 0,
    )


def damaged_attachments(engine: Engine) -> list[str]:
    """Ids of attachments whose content no longer matches the SHA-256 recorded at upload."""
    import hashlib

    damaged = []
    with engine.connect() as conn:
        rows = conn.execute(select(attachments.c.id, attachments.c.sha256, attachments.c.content)
                            .execution_options(yield_per=50))
        for row in rows:
            if hashlib.sha256(row.content).hexdigest() != row.sha256:
                damaged.append(row.id)
    return damaged


def _run(command: list[str], tool: str) -> None:
    if shutil.which(command[0]) is None:
        raise BackupFailed(f"{tool} is not installed (Debian: postgresql-client)")
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupFailed(f"{tool} failed: {result.stderr.strip().splitlines()[-1] if result.stderr.strip() else result.returncode}")
