"""Process-wide exclusive locks tied to the database: a PostgreSQL advisory lock or a file lock beside SQLite."""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
from pathlib import Path
from typing import IO

from sqlalchemy import Connection, Engine, text


def _advisory_key(name: str) -> int:
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class HeldLock:
    """A lock this process holds until `release()` (or until the process dies)."""

    def __init__(self, conn: Connection | None = None, handle: IO[str] | None = None, key: int = 0) -> None:
        self._conn = conn
        self._handle = handle
        self._key = key

    def release(self) -> None:
        """Let another process take the lock."""
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self._key})
                self._conn.commit()
            finally:
                # A pooled connection outlives close(): drop it so its session ends with it.
                self._conn.invalidate()
                self._conn.close()
                self._conn = None
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


def try_exclusive(engine: Engine, name: str) -> HeldLock | None:
    """Take the named lock for this process if nobody holds it; None otherwise."""
    if engine.dialect.name == "postgresql":
        key = _advisory_key(name)
        conn = engine.connect()
        taken = conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar()
        conn.commit()
        if not taken:
            conn.close()
            return None
        return HeldLock(conn=conn, key=key)
    return _file_lock(_lock_path(engine, name))


def _lock_path(engine: Engine, name: str) -> Path:
    database = engine.url.database
    if not database or database == ":memory:":
        return Path(tempfile.gettempdir()) / f"gol-workflow-{os.getpid()}-{name}.lock"
    return Path(f"{database}.{name}.lock")


def _file_lock(path: Path) -> HeldLock | None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a", encoding="utf-8")  # noqa: SIM115 - kept open while the lock is held
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return HeldLock(handle=handle)
