"""Reading the equipe calendar and agendas (operators, admin console, API), and repairing a meeting."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ..domain.errors import InvalidState, NotFound
from ..domain.model import Actor
from . import agenda_mail, authorization, calendar
from .meetings import CANCELLED, CONVENED, FAILED, PLANNED, tz_of
from .runtime import Runtime

DEFAULT_WINDOW = timedelta(days=42)


@dataclass
class MeetingView:
    """A meeting as people read it: when, where, cut-off, status and the cases on its agenda."""

    id: str
    zone: str
    starts_at: datetime
    cutoff_at: datetime
    location: str
    status: str  # planned | convened | held | cancelled | failed
    instance_id: str | None
    last_error: str | None
    moved_for: str | None = None
    cases: list[dict[str, Any]] = field(default_factory=list)  # agenda items (beneficiario, motivo, servizi...)
    invited_services: dict[str, list[str]] = field(default_factory=dict)


def _status(row: Any, now: datetime) -> str:
    if row["status"] == CONVENED and row["scheduled_at"] <= now:
        return "held"
    return str(row["status"])


def _view(rt: Runtime, row: Any, items: list[dict[str, Any]], now: datetime) -> MeetingView:
    tz = tz_of(rt)
    zone = rt.zones.get(row["zone"])
    moved, invited = None, {}
    if zone is not None:
        slot = calendar.next_open_slot(zone, row["cutoff_at"] - timedelta(seconds=1), tz)
        moved = slot.moved_for if slot.meeting_id == row["id"] else None
        invited = agenda_mail.invited_services(zone, {str(item["case_id"]): item for item in items})
    return MeetingView(row["id"], row["zone"], row["scheduled_at"].astimezone(tz), row["cutoff_at"].astimezone(tz),
                       row["location"] or "", _status(row, now), row["instance_id"], row["last_error"], moved,
                       items, invited)


def upcoming_meetings(rt: Runtime, zone: str | None = None, days: int | None = None,
                      include_cancelled: bool = False) -> list[MeetingView]:
    """The meetings of the coming weeks (of one zone or all), soonest first, with their agendas."""
    now = rt.now()
    until = now + (timedelta(days=days) if days is not None else DEFAULT_WINDOW)
    with rt.uow(write=False) as uow:
        rows = [r for r in uow.meetings.between(zone, now - timedelta(hours=12), until, 500)
                if include_cancelled or r["status"] != CANCELLED]
        items = {r["id"]: [dict(a["item"]) for a in uow.meetings.agenda(r["id"])] for r in rows}
    return [_view(rt, row, items[row["id"]], now) for row in rows]


def meeting_detail(rt: Runtime, meeting_id: str) -> MeetingView:
    """One meeting with its agenda."""
    with rt.uow(write=False) as uow:
        row = uow.meetings.get(meeting_id)
        if row is None:
            raise NotFound(f"meeting {meeting_id} does not exist")
        items = [dict(a["item"]) for a in uow.meetings.agenda(meeting_id)]
    return _view(rt, row, items, rt.now())


def meetings_of_case(rt: Runtime, case_id: str) -> list[dict[str, Any]]:
    """Every meeting a case was booked onto, with the reason and status, earliest first."""
    now = rt.now()
    with rt.uow(write=False) as uow:
        rows = uow.meetings.meetings_of_case(case_id)
    return [{"id": r["id"], "zone": r["zone"], "starts_at": r["scheduled_at"], "cutoff_at": r["cutoff_at"],
             "status": _status(r, now), "reason": r["reason"], "instance_id": r["instance_id"]} for r in rows]


def retry_meeting(rt: Runtime, meeting_id: str, actor: Actor) -> None:
    """Try again to convene a meeting that could not be convened (administrators)."""
    authorization.require_admin(actor)
    now = rt.now()
    with rt.uow() as uow:
        row = uow.meetings.get(meeting_id, lock=True)
        if row is None:
            raise NotFound(f"meeting {meeting_id} does not exist")
        if row["status"] != FAILED:
            raise InvalidState("only a meeting that could not be convened can be retried")
        uow.meetings.update(meeting_id, {"status": PLANNED, "due_at": now, "attempts": 0})
        uow.audit.record(now, actor.username, "meeting.retried", None, data={"meeting": meeting_id})
        uow.commit()
