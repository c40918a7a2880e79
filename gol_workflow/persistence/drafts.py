"""Process drafts saved from the modeler (kept until deployed or replaced)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, RowMapping, insert, select, update

from .tables import process_drafts


class DraftRepository:
    """Reads and appends process drafts."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, values: dict[str, Any]) -> int:
        """Store a new draft; returns its id."""
        return int(self.conn.execute(insert(process_drafts).values(**values)).inserted_primary_key[0])

    def get(self, draft_id: int) -> RowMapping | None:
        """One draft."""
        return self.conn.execute(select(process_drafts).where(process_drafts.c.id == draft_id)).mappings().first()

    def latest(self, process_id: str) -> RowMapping | None:
        """The newest draft of a process."""
        stmt = (select(process_drafts).where(process_drafts.c.process_id == process_id)
                .order_by(process_drafts.c.id.desc()).limit(1))
        return self.conn.execute(stmt).mappings().first()

    def set_scenarios(self, draft_id: int, result: dict[str, Any]) -> None:
        """Record the scenario run on a draft."""
        self.conn.execute(update(process_drafts).where(process_drafts.c.id == draft_id).values(scenarios=result))
