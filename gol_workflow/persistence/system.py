"""Small system tables: the simulated clock and scheduler heartbeats."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, insert, select, update

from .tables import clock_state, scheduler_heartbeats


class SystemRepository:
    """The simulated clock's stored time and scheduler liveness."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def simulated_now(self) -> datetime | None:
        """The stored simulated time, if set."""
        return self.conn.execute(select(clock_state.c.now).where(clock_state.c.id == 1)).scalar()

    def set_simulated_now(self, moment: datetime) -> None:
        """Store the simulated time."""
        if self.conn.execute(update(clock_state).where(clock_state.c.id == 1).values(now=moment)).rowcount == 0:
            self.conn.execute(insert(clock_state).values(id=1, now=moment))

    def heartbeat(self, name: str, at: datetime, details: dict[str, Any]) -> None:
        """Record that a scheduler is alive."""
        stmt = update(scheduler_heartbeats).where(scheduler_heartbeats.c.name == name)
        if self.conn.execute(stmt.values(beat_at=at, details=details)).rowcount == 0:
            self.conn.execute(insert(scheduler_heartbeats).values(name=name, beat_at=at, details=details))

    def heartbeats(self) -> Sequence[RowMapping]:
        """Every scheduler's last heartbeat, newest first."""
        stmt = select(scheduler_heartbeats).order_by(scheduler_heartbeats.c.beat_at.desc())
        return self.conn.execute(stmt).mappings().all()
