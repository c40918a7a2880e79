"""The service's own agenda of first appointments with the ATS case managers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, Select, bindparam, delete, insert, select
from sqlalchemy.exc import IntegrityError

from .tables import bookings, users


@cache
def _future_of_stmt() -> Select[Any]:
    # Built once: a case that ends with appointments still ahead needs it.
    return (
        select(bookings)
        .where(
            bookings.c.case_id == bindparam("b_case"),
            bookings.c.slot_at > bindparam("b_after", type_=bookings.c.slot_at.type),
        )
        .order_by(bookings.c.slot_at)
    )


class BookingRepository:
    """Adds, finds and removes bookings; a case manager has at most one booking per slot."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def lock_agenda_of(self, case_manager: str) -> None:
        """Hold a case manager's agenda until commit, so two bookings for them run one after the other.

        PostgreSQL locks the case manager's user row; SQLite already runs one writer at a time.
        """
        if self.conn.dialect.name == "postgresql":
            self.conn.execute(select(users.c.id).where(users.c.username == case_manager).with_for_update())

    def add(self, values: dict[str, Any]) -> bool:
        """Insert a booking; False when the case manager's slot is already taken (nothing is written)."""
        nested = self.conn.begin_nested()  # a unique violation must not abort the whole transaction
        try:
            self.conn.execute(insert(bookings).values(**values))
        except IntegrityError:
            nested.rollback()
            return False
        nested.commit()
        return True

    def holder(self, case_manager: str, slot_at: datetime) -> RowMapping | None:
        """The active booking of a case manager at a slot, if any."""
        stmt = select(bookings).where(
            bookings.c.case_manager == case_manager,
            bookings.c.slot_at == slot_at,
            bookings.c.cancelled_at.is_(None),
        )
        return self.conn.execute(stmt).mappings().first()

    def for_case(self, case_id: str) -> Sequence[RowMapping]:
        """Bookings of a case, oldest slot first."""
        stmt = select(bookings).where(bookings.c.case_id == case_id).order_by(bookings.c.slot_at)
        return self.conn.execute(stmt).mappings().all()

    def taken_between(
        self, case_managers: Iterable[str], start: datetime, end: datetime
    ) -> Sequence[RowMapping]:
        """Active bookings of these case managers with a slot in [start, end)."""
        names = sorted(set(case_managers))
        if not names:
            return []
        stmt = (
            select(bookings.c.case_manager, bookings.c.slot_at)
            .where(
                bookings.c.case_manager.in_(names),
                bookings.c.slot_at >= start,
                bookings.c.slot_at < end,
                bookings.c.cancelled_at.is_(None),
            )
            .order_by(bookings.c.slot_at)
        )
        return self.conn.execute(stmt).mappings().all()

    def remove(self, booking_ids: Iterable[str]) -> int:
        """Delete bookings (a superseded appointment frees its slot); returns how many."""
        ids = list(booking_ids)
        if not ids:
            return 0
        return int(self.conn.execute(delete(bookings).where(bookings.c.id.in_(ids))).rowcount)

    def future_of(self, case_id: str, after: datetime) -> Sequence[RowMapping]:
        """A case's bookings whose slot is still to come."""
        return self.conn.execute(_future_of_stmt(), {"b_case": case_id, "b_after": after}).mappings().all()
