"""The few counts that say whether the service keeps up: each answered from an index, whatever the size."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, text

from .tables import instances, meetings, outbox, scheduler_heartbeats


class HealthQueries:
    """Backlogs and liveness, read in one short transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def ping(self) -> None:
        """One round trip to the database."""
        self.conn.execute(text("SELECT 1"))

    def backlog(self, now: datetime) -> dict[str, Any]:
        """What waits: e-mail to send or failed, instances in error, timers and cut-offs overdue, the last heartbeat."""
        count = func.count()
        row: dict[str, Any] = {
            "outbox_waiting": self.conn.scalar(
                select(count).select_from(outbox).where(outbox.c.status.in_(("pending", "sending")))),
            "outbox_failed": self.conn.scalar(select(count).select_from(outbox).where(outbox.c.status == "failed")),
            "instances_in_error": self.conn.scalar(
                select(count).select_from(instances).where(instances.c.status == "error")),
            "timers_overdue": self.conn.scalar(
                select(count).select_from(instances).where(instances.c.next_due_at < now)),
            "oldest_timer_due_at": self.conn.scalar(select(func.min(instances.c.next_due_at))),
            "cutoffs_overdue": self.conn.scalar(
                select(count).select_from(meetings).where(meetings.c.status == "planned", meetings.c.due_at < now)),
            "last_heartbeat_at": self.conn.scalar(select(func.max(scheduler_heartbeats.c.beat_at))),
        }
        return row
