"""Creating the SQLAlchemy engine for SQLite (local) or PostgreSQL (production)."""

from __future__ import annotations

import os
import select
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from . import write_behind
from .checkpoints import BACKSTOP_PAGES, Checkpointer

Row = Mapping[str, Any]
"""A row as repositories return it (read by column name)."""

Database = Engine
"""The handle units of work open their connections from (what services hold, without knowing SQLAlchemy)."""


def printable_url(url: str) -> str:
    """A database URL as it may be shown or logged: without its password."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # a URL SQLAlchemy cannot parse is not shown at all: it may hold a secret
        return "the configured database"


def normalise_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs written without a driver."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def create_db_engine(url: str, pool_size: int = 10, transaction_pooler: bool = False) -> Engine:
    """Build an engine; SQLite gets WAL, foreign keys and write transactions that start immediately.

    With `transaction_pooler` (PgBouncer in transaction mode in front) no statement is prepared on
    the server: consecutive transactions of one connection may reach different server sessions.
    """
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _private_file(Path(parsed.database))
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        _configure_sqlite(engine)
        if parsed.database and parsed.database != ":memory:":
            _checkpoint_in_background(engine, parsed.database)
        return engine
    # No pre-ping: it costs a round trip per use case. After a server restart SQLAlchemy
    # invalidates the whole pool on the first disconnect error, so only that request fails.
    kwargs: dict[str, Any] = {"pool_size": pool_size, "max_overflow": pool_size, "pool_recycle": 1800}
    if pool_size == 0:
        kwargs = {"poolclass": NullPool}
    if transaction_pooler:
        kwargs["connect_args"] = {"prepare_threshold": None}
    engine = create_engine(url, **kwargs)
    write_behind.install(engine)
    event.listen(engine, "checkout", _refuse_dropped_connection)
    return engine


def _private_file(path: Path) -> None:
    """The SQLite file (case data) readable by its owner only: 0600 in a 0700 folder when created here.

    SQLite gives its -wal and -shm files the mode of the database file. A file made earlier
    with wider rights is narrowed to 0600 (when this user owns it).
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))  # an empty file is a valid database
    except FileExistsError:
        for existing in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            try:
                if existing.stat().st_mode & 0o077:
                    existing.chmod(0o600)
            except OSError:
                pass  # missing, or another user's: left as it is
def _refuse_dropped_connection(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Replace a pooled connection the server has dropped, before a use case gets it.

    An idle connection is never sent anything; if its socket is readable the server has
    closed it (pg_terminate_backend, a restart, an idle timeout) and said so. Looking costs
    a system call, not a round trip as a pre-ping would. The pool then connects afresh.
    """
    if getattr(dbapi_connection, "closed", False):
        raise DisconnectionError("the connection is closed")
    try:
        readable, _, _ = select.select([dbapi_connection.fileno()], [], [], 0)
    except (OSError, ValueError) as exc:
        raise DisconnectionError(str(exc)) from exc
    if readable:
        raise DisconnectionError("the server closed the connection")


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own is deferred-only).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        # Straight on the driver: through SQLAlchemy's execution path BEGIN cost ~40 µs of Python.
        connection.connection.dbapi_connection.execute(f"BEGIN {mode}")


_CHECKPOINTERS: WeakKeyDictionary[Engine, Checkpointer] = WeakKeyDictionary()


def checkpointer_of(engine: Engine) -> Checkpointer | None:
    """The background WAL checkpointer of a SQLite file database (None for other databases)."""
    return _CHECKPOINTERS.get(engine)


def _checkpoint_in_background(engine: Engine, path: str) -> None:
    checkpointer = _CHECKPOINTERS[engine] = Checkpointer(path)

    @event.listens_for(engine, "connect")
    def _backstop_only(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")

    @event.listens_for(engine, "commit")
    def _after_commit(_connection: Any) -> None:
        checkpointer.nudge()
