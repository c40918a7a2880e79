"""Read side of the equipe meetings and their agendas (the scheduler writes them)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Connection, RowMapping, Select, bindparam, select

from .tables import meeting_agenda, meetings


@cache
def _for_case_stmt() -> Select[Any]:
    """The meetings a case is on, soonest first (built once: the case file reads them on every view)."""
    return (select(meetings, meeting_agenda.c.reason)
            .join(meeting_agenda, meeting_agenda.c.meeting_id == meetings.c.id)
            .where(meeting_agenda.c.case_id == bindparam("b_case_id"))
            .order_by(meetings.c.scheduled_at))


class AgendaRepository:
    """Upcoming meetings per zone and the cases on each agenda."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def upcoming(self, zone: str, after: datetime, limit: int) -> Sequence[RowMapping]:
        """The next meetings of a zone that are not cancelled, soonest first."""
        stmt = (
            select(meetings)
            .where(meetings.c.zone == zone, meetings.c.scheduled_at >= after, meetings.c.status != "cancelled")
            .order_by(meetings.c.scheduled_at)
            .limit(limit)
        )
        return self.conn.execute(stmt).mappings().all()

    def get(self, meeting_id: str) -> RowMapping | None:
        """One meeting."""
        return self.conn.execute(select(meetings).where(meetings.c.id == meeting_id)).mappings().first()

    def items(self, meeting_ids: Iterable[str]) -> Sequence[RowMapping]:
        """Agenda items of some meetings, in the order they were added."""
        ids = list(meeting_ids)
        if not ids:
            return []
        stmt = (
            select(meeting_agenda)
            .where(meeting_agenda.c.meeting_id.in_(ids))
            .order_by(meeting_agenda.c.meeting_id, meeting_agenda.c.added_at, meeting_agenda.c.case_id)
        )
        return self.conn.execute(stmt).mappings().all()

    def for_case(self, case_id: str) -> Sequence[RowMapping]:
        """Meetings a case is (or was) on, soonest first."""
        return self.conn.execute(_for_case_stmt(), {"b_case_id": case_id}).mappings().all()
