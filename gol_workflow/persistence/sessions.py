"""Web sessions kept in the database: the browser holds a random id, the table its SHA-256."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Connection, Engine, RowMapping, Select, bindparam, delete, insert, or_, select, update

from .tables import users, web_sessions


@cache
def _resume_stmt() -> Select[Any]:
    """A session with the account it belongs to (one statement: it precedes every page)."""
    return (
        select(web_sessions.c.id, web_sessions.c.data, web_sessions.c.created_at, web_sessions.c.last_seen_at,
               users.c.id.label("user_id"), users.c.username, users.c.full_name, users.c.role, users.c.zones,
               users.c.services, users.c.active, users.c.last_login_at)
        .join(users, users.c.id == web_sessions.c.user_id)
        .where(web_sessions.c.id == bindparam("b_id"))
    )


def find(engine: Engine, session_hash: str) -> RowMapping | None:
    """The session with this hash and its account, read outside any transaction (autocommit on PostgreSQL)."""
    conn = engine.connect()
    if engine.dialect.name == "postgresql":
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
    with conn:
        return conn.execute(_resume_stmt(), {"b_id": session_hash}).mappings().first()


class SessionRepository:
    """Creates, refreshes and ends session rows."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, values: dict[str, Any]) -> None:
        """Store a new session."""
        self.conn.execute(insert(web_sessions).values(**values))

    def touch(self, session_hash: str, at: datetime, data: dict[str, Any] | None = None) -> None:
        """Note the session was used (and store its data when it changed)."""
        values: dict[str, Any] = {"last_seen_at": at}
        if data is not None:
            values["data"] = data
        self.conn.execute(update(web_sessions).where(web_sessions.c.id == session_hash).values(**values))

    def end(self, session_hash: str) -> int:
        """Delete one session; returns how many rows went (0 or 1)."""
        return int(self.conn.execute(delete(web_sessions).where(web_sessions.c.id == session_hash)).rowcount)

    def end_for_user(self, user_id: int, keep: str | None = None) -> int:
        """Delete every session of an account (but `keep`); returns how many."""
        stmt = delete(web_sessions).where(web_sessions.c.user_id == user_id)
        if keep is not None:
            stmt = stmt.where(web_sessions.c.id != keep)
        return int(self.conn.execute(stmt).rowcount)

    def count_for_user(self, user_id: int) -> int:
        """How many sessions an account has open (expired ones not yet removed included)."""
        rows = self.conn.execute(select(web_sessions.c.id).where(web_sessions.c.user_id == user_id)).all()
        return len(rows)

    def purge_expired(self, idle_before: datetime, created_before: datetime) -> int:
        """Delete sessions idle since before `idle_before` or created before `created_before`."""
        stmt = delete(web_sessions).where(or_(web_sessions.c.last_seen_at < idle_before,
                                              web_sessions.c.created_at < created_before))
        return int(self.conn.execute(stmt).rowcount)
