"""What the service tidies up when a case ends: messages kept for it, appointments and equipe agendas to come."""

from __future__ import annotations

from datetime import datetime

from ...domain.model import Actor
from ...persistence.uow import UnitOfWork
from ..meetings.agenda_withdrawal import withdraw_in
from ..integrations.message_buffer import CASE_PROPERTY, drop_for_ended_case


def release_future_appointments(uow: UnitOfWork, case_id: str, now: datetime, actor: Actor) -> int:
    """Free the ATS slots a closed case still holds (e.g. withdrawn before the first appointment)."""
    rows = uow.bookings.future_of(case_id, now)
    uow.bookings.remove(row["id"] for row in rows)
    for row in rows:
        uow.audit.record(now, actor.username, "booking.cancelled", case_id,
                         data={"case_manager": row["case_manager"], "slot": row["slot_at"].isoformat(),
                               "reason": "the case has ended"})
    return len(rows)


def on_case_ended(
    uow: UnitOfWork, case_id: str, status: str, now: datetime, actor: Actor, expect_none: bool = False
) -> None:
    """Called once, in the transaction that ends the case.

    With `expect_none` the case is expected to hold nothing: the transaction fails with
    ConcurrentChange if it does (for a step that will be done again, asking).
    """
    correlation = f"{CASE_PROPERTY}={case_id}"
    if expect_none:
        uow.case_search.expect_no_loose_ends(case_id, correlation, now)
        return
    if not uow.case_search.has_loose_ends(case_id, correlation, now):
        return  # the usual end: one query instead of three
    drop_for_ended_case(uow, case_id, status, now, actor)
    release_future_appointments(uow, case_id, now, actor)
    withdraw_in(uow, case_id, now, actor.username)
