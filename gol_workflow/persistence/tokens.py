"""API tokens: only a SHA-256 of each token is stored, never the token itself."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, RowMapping, insert, select, update

from . import write_behind
from .fastpath import HotPath
from .tables import api_tokens


def find_by_hash(engine: Engine, token_hash: str) -> dict[str, Any] | None:
    """The live token with this hash and its account (not revoked, account active), read outside any transaction.

    This check precedes every API call, so it is one statement on the driver's cursor; on
    PostgreSQL it runs in autocommit, which spares the BEGIN and ROLLBACK round trips a unit
    of work would add around a single read.
    """
    with engine.connect() as conn:
        if engine.dialect.name != "postgresql":
            return HotPath(conn).live_token(token_hash)
        write_behind.start(conn)
        try:
            return HotPath(conn).live_token(token_hash)
        finally:
            write_behind.stop(conn)


class TokenRepository:
    """Reads and writes API token rows."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, values: dict[str, Any]) -> int:
        """Store a new token (its hash); returns its id."""
        result = self.conn.execute(insert(api_tokens).values(**values))
        return int(result.inserted_primary_key[0])

    def touch(self, token_id: int, at: datetime) -> None:
        """Note when a token was last used."""
        self.conn.execute(update(api_tokens).where(api_tokens.c.id == token_id).values(last_used_at=at))

    def for_user(self, user_id: int) -> Sequence[RowMapping]:
        """Every token of a user (without hashes), newest first."""
        stmt = (
            select(api_tokens.c.id, api_tokens.c.label, api_tokens.c.created_at, api_tokens.c.last_used_at,
                   api_tokens.c.revoked_at)
            .where(api_tokens.c.user_id == user_id)
            .order_by(api_tokens.c.id.desc())
        )
        return self.conn.execute(stmt).mappings().all()

    def revoke(self, user_id: int, token_id: int | None, at: datetime) -> int:
        """Revoke one token of a user (or all when `token_id` is None); returns how many were revoked."""
        stmt = update(api_tokens).where(api_tokens.c.user_id == user_id, api_tokens.c.revoked_at.is_(None))
        if token_id is not None:
            stmt = stmt.where(api_tokens.c.id == token_id)
        return int(self.conn.execute(stmt.values(revoked_at=at)).rowcount)
