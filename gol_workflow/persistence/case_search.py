"""Finding cases (instances) by the person they are about, and what a case still holds."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Connection, Select, bindparam, or_, select

from .meetings import PLANNED
from .tables import bookings, instances, meeting_agenda, meetings, pending_messages


@cache
def _loose_ends_stmt() -> Select[Any]:
    # Built once: every case that ends asks it.
    kept = select(pending_messages.c.id).where(pending_messages.c.correlation == bindparam("b_correlation"))
    booked = select(bookings.c.id).where(
        bookings.c.case_id == bindparam("b_case"),
        bookings.c.slot_at > bindparam("b_after", type_=bookings.c.slot_at.type),
    )
    listed = (
        select(meeting_agenda.c.case_id)
        .join(meetings, meetings.c.id == meeting_agenda.c.meeting_id)
        .where(meeting_agenda.c.case_id == bindparam("b_case"), meetings.c.status == PLANNED)
    )
    return select(or_(kept.exists(), booked.exists(), listed.exists()))


class CaseSearch:
    """Lookups on the indexed beneficiary columns of instances."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def ids_by_codice_fiscale(self, codice_fiscale: str, process_id: str | None = None) -> list[str]:
        """Cases of one person, oldest first."""
        stmt = select(instances.c.id).where(instances.c.codice_fiscale == codice_fiscale.upper())
        if process_id:
            stmt = stmt.where(instances.c.process_id == process_id)
        return list(self.conn.execute(stmt.order_by(instances.c.started_at)).scalars())

    def has_loose_ends(self, case_id: str, correlation: str, after: datetime) -> bool:
        """Whether a case keeps messages, future bookings or a place on a planned agenda (one query)."""
        params = {"b_correlation": correlation, "b_case": case_id, "b_after": after}
        return bool(self.conn.execute(_loose_ends_stmt(), params).scalar())
