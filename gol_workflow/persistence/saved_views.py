"""An administrator's saved filters of the instance list."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Connection, RowMapping, Select, bindparam, delete, insert, select, update

from .tables import saved_views


@cache
def _of_stmt() -> Select[Any]:
    """One person's views by name (built once: the instance list reads them on every page)."""
    return select(saved_views).where(saved_views.c.username == bindparam("b_username")).order_by(saved_views.c.name)


class SavedViewRepository:
    """Saved views, each one person's own."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def of(self, username: str) -> Sequence[RowMapping]:
        """One person's views by name."""
        return self.conn.execute(_of_stmt(), {"b_username": username}).mappings().all()

    def save(self, username: str, name: str, query: str, at: datetime) -> int:
        """Keep a view under a name, replacing the person's view of the same name; its id."""
        found = self.conn.execute(select(saved_views.c.id).where(
            saved_views.c.username == username, saved_views.c.name == name)).scalar()
        if found is not None:
            self.conn.execute(update(saved_views).where(saved_views.c.id == found).values(query=query, created_at=at))
            return int(found)
        result = self.conn.execute(insert(saved_views).values(username=username, name=name, query=query, created_at=at))
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def delete(self, username: str, view_id: int) -> bool:
        """Remove one of the person's views; False when it is not theirs or does not exist."""
        stmt = delete(saved_views).where(saved_views.c.id == view_id, saved_views.c.username == username)
        return self.conn.execute(stmt).rowcount == 1
