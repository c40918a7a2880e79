"""Equipe meetings and their agendas."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, Select, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from .tables import meeting_agenda, meetings

PLANNED = "planned"


@cache
def _meeting_insert_stmt(dialect: str) -> Any:
    """Insert a meeting unless its id exists (built once per dialect; the values are the parameters)."""
    dialect_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return dialect_insert(meetings).on_conflict_do_nothing(index_elements=["id"])


@cache
def _agenda_insert_stmt() -> Any:
    """Put a case on a meeting's agenda (built once; the values are the parameters)."""
    return insert(meeting_agenda)


@cache
def _meeting_stmt(lock: bool) -> Select[Any]:
    """One meeting by id, locked for the transaction when asked (built once: every equipe booking reads it)."""
    stmt = select(meetings).where(meetings.c.id == bindparam("b_id"))
    return stmt.with_for_update() if lock else stmt


@cache
def _meetings_of_case_stmt() -> Select[Any]:
    # Built once: every booking onto an agenda reads it.
    return (
        select(meetings, meeting_agenda.c.reason, meeting_agenda.c.added_at)
        .join(meeting_agenda, meeting_agenda.c.meeting_id == meetings.c.id)
        .where(meeting_agenda.c.case_id == bindparam("b_case"))
        .order_by(meetings.c.scheduled_at)
    )


def _unleased(now: datetime) -> Any:
    return meetings.c.claimed_until.is_(None) | (meetings.c.claimed_until <= now)


class MeetingRepository:
    """Reads and writes meetings; convening work is claimed by the indexed (status, due_at)."""

    def __init__(self, conn: Connection, dialect: str) -> None:
        self.conn = conn
        self.dialect = dialect

    def get(self, meeting_id: str, lock: bool = False) -> RowMapping | None:
        """One meeting, locked for this transaction when asked (PostgreSQL)."""
        stmt = _meeting_stmt(lock and self.dialect == "postgresql")
        return self.conn.execute(stmt, {"b_id": meeting_id}).mappings().first()

    def add_if_missing(self, values: dict[str, Any]) -> bool:
        """Insert a meeting unless one with this id exists; True when inserted."""
        return self.conn.execute(_meeting_insert_stmt(self.dialect), values).rowcount == 1

    def update(self, meeting_id: str, values: dict[str, Any]) -> None:
        """Change a meeting."""
        self.conn.execute(update(meetings).where(meetings.c.id == meeting_id).values(**values))

    def claim_due(self, bound: datetime, limit: int, now: datetime | None = None) -> list[str]:
        """Ids of planned meetings whose cut-off has come by `bound`, oldest first, locked where possible.

        With `now`, meetings another scheduler holds under a lease still running at `now` are passed over.
        """
        stmt = select(meetings.c.id).where(meetings.c.status == PLANNED, meetings.c.due_at <= bound)
        if now is not None:
            stmt = stmt.where(_unleased(now))
        stmt = stmt.order_by(meetings.c.due_at).limit(limit)
        if self.dialect == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        return list(self.conn.execute(stmt).scalars())

    def lease(self, meeting_id: str, until: datetime) -> None:
        """Hold a claimed meeting for one scheduler until `until` and count the attempt."""
        self.conn.execute(
            update(meetings).where(meetings.c.id == meeting_id)
            .values(claimed_until=until, attempts=meetings.c.attempts + 1)
        )

    def earliest_due(self, now: datetime | None = None) -> datetime | None:
        """When the next planned meeting is to be convened; with `now`, when one can next be claimed."""
        stmt = select(func.min(meetings.c.due_at)).where(meetings.c.status == PLANNED)
        if now is None:
            return self.conn.execute(stmt).scalar()
        free = self.conn.execute(stmt.where(_unleased(now))).scalar()
        lease_end = self.conn.execute(
            select(func.min(meetings.c.claimed_until)).where(meetings.c.status == PLANNED,
                                                             meetings.c.claimed_until > now)
        ).scalar()
        return min((moment for moment in (free, lease_end) if moment is not None), default=None)

    def planned_due(self, limit: int) -> Sequence[RowMapping]:
        """Planned meetings by convening time, earliest first."""
        stmt = select(meetings).where(meetings.c.status == PLANNED).order_by(meetings.c.due_at).limit(limit)
        return self.conn.execute(stmt).mappings().all()

    def between(self, zone: str | None, since: datetime, until: datetime | None, limit: int) -> Sequence[RowMapping]:
        """Meetings scheduled from `since` (to `until`), of one zone or all, earliest first."""
        stmt = select(meetings).where(meetings.c.scheduled_at >= since)
        if until is not None:
            stmt = stmt.where(meetings.c.scheduled_at < until)
        if zone is not None:
            stmt = stmt.where(meetings.c.zone == zone)
        return self.conn.execute(stmt.order_by(meetings.c.scheduled_at).limit(limit)).mappings().all()

    def stale_planned(self, zone: str, since: datetime, keep: Sequence[str]) -> list[str]:
        """Planned meetings of a zone from `since` that are not in `keep` and have an empty agenda."""
        booked = select(meeting_agenda.c.meeting_id).where(meeting_agenda.c.meeting_id == meetings.c.id).exists()
        stmt = select(meetings.c.id).where(
            meetings.c.zone == zone,
            meetings.c.status == PLANNED,
            meetings.c.scheduled_at >= since,
            meetings.c.id.not_in(list(keep)),
            ~booked,
        )
        return list(self.conn.execute(stmt).scalars())

    def delete(self, meeting_ids: Sequence[str]) -> None:
        """Remove meetings (only empty planned ones are ever removed)."""
        if meeting_ids:
            self.conn.execute(delete(meetings).where(meetings.c.id.in_(list(meeting_ids))))

    # -- agenda --------------------------------------------------------------------------------

    def agenda(self, meeting_id: str) -> Sequence[RowMapping]:
        """The cases on a meeting's agenda, in the order they were added."""
        stmt = (
            select(meeting_agenda)
            .where(meeting_agenda.c.meeting_id == meeting_id)
            .order_by(meeting_agenda.c.added_at, meeting_agenda.c.case_id)
        )
        return self.conn.execute(stmt).mappings().all()

    def agenda_sizes(self, meeting_ids: Sequence[str]) -> dict[str, int]:
        """How many cases each meeting has on its agenda."""
        if not meeting_ids:
            return {}
        stmt = (
            select(meeting_agenda.c.meeting_id, func.count())
            .where(meeting_agenda.c.meeting_id.in_(list(meeting_ids)))
            .group_by(meeting_agenda.c.meeting_id)
        )
        return {row[0]: int(row[1]) for row in self.conn.execute(stmt)}

    def add_to_agenda(self, values: dict[str, Any]) -> None:
        """Put a case on a meeting's agenda."""
        self.conn.execute(_agenda_insert_stmt(), values)

    def update_agenda_item(self, meeting_id: str, case_id: str, values: dict[str, Any]) -> None:
        """Refresh what the agenda says about a case."""
        self.conn.execute(
            update(meeting_agenda)
            .where(meeting_agenda.c.meeting_id == meeting_id, meeting_agenda.c.case_id == case_id)
            .values(**values)
        )

    def remove_from_agenda(self, meeting_id: str, case_id: str) -> None:
        """Take a case off a meeting's agenda."""
        self.conn.execute(
            delete(meeting_agenda).where(meeting_agenda.c.meeting_id == meeting_id, meeting_agenda.c.case_id == case_id)
        )

    def meetings_of_case(self, case_id: str) -> Sequence[RowMapping]:
        """Every meeting a case was put on, with its status, earliest first."""
        return self.conn.execute(_meetings_of_case_stmt(), {"b_case": case_id}).mappings().all()
