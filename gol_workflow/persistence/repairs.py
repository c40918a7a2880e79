"""Writes only administrators make: carrying open-task rows over a repair, hurrying an e-mail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, update

from .outbox import FAILED, PENDING
from .tables import outbox, tasks

CARRIED = frozenset({"draft", "assignee", "created_at", "due_at"})


class RepairRepository:
    """Small targeted updates used by the admin console."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def carry_over(self, task_id: str, values: dict[str, Any]) -> None:
        """Give a re-created open task the draft, assignee and dates of the row it replaces."""
        kept = {k: v for k, v in values.items() if k in CARRIED}
        if kept:
            self.conn.execute(update(tasks).where(tasks.c.id == task_id).values(**kept))

    def send_now(self, message_id: int, at: datetime) -> bool:
        """Make a waiting or refused e-mail due at once (the sender picks it up on its next pass)."""
        stmt = (
            update(outbox)
            .where(outbox.c.id == message_id, outbox.c.status.in_((PENDING, FAILED)))
            .values(status=PENDING, next_attempt_at=at)
        )
        return self.conn.execute(stmt).rowcount == 1
