"""The equipe agenda as operators read it: next meetings per zone, the cases on each, invitations."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ...domain.errors import NotFound
from ...domain.model import Actor
from . import agenda_mail, calendar
from ..access import authorization
from ..cases.case_file import audit_read
from ..workflow.runtime import Runtime

MEETINGS_PER_ZONE = 4
FORESEEN = "prevista"  # a date of the zone's calendar the scheduler has not planned yet


@dataclass
class AgendaItem:
    """One case on a meeting's agenda, as far as this person may see it."""

    case_id: str
    beneficiary: str
    codice_fiscale: str | None
    services: list[str]
    reason: str


@dataclass
class Meeting:
    """One equipe meeting."""

    id: str
    zone: str
    scheduled_at: datetime
    cutoff_at: datetime
    location: str | None
    status: str
    items: list[AgendaItem] = field(default_factory=list)
    hidden: int = 0  # cases on the agenda this person may not see
    moved_for: str | None = None  # the public holiday that moved it off the zone's usual day

    @property
    def services(self) -> list[str]:
        """Specialist services invited for at least one case."""
        return sorted({s for item in self.items for s in item.services})


def _item(row: Mapping[str, Any]) -> AgendaItem:
    data = row["item"] if isinstance(row["item"], Mapping) else {}
    person = data.get("beneficiario") if isinstance(data.get("beneficiario"), Mapping) else {}
    name = data.get("beneficiary_name") or " ".join(
        str(person.get(k) or "") for k in ("nome", "cognome")).strip()
    services = data.get("servizi_specialistici") or data.get("specialist_services") or []
    return AgendaItem(
        case_id=str(row["case_id"]),
        beneficiary=name or "Beneficiario",
        codice_fiscale=data.get("codice_fiscale") or person.get("codice_fiscale"),
        services=[str(s) for s in services] if isinstance(services, list) else [],
        reason=str(row["reason"]),
    )


def _visible(actor: Actor, zone: str, item: AgendaItem) -> bool:
    if actor.role != "specialist":
        return True
    return authorization.can_see_case(actor, {"zone": zone, "specialist_services": item.services})


def upcoming(rt: Runtime, actor: Actor, zones: list[str]) -> dict[str, list[Meeting]]:
    """For each zone the person may read, the next meetings with their agenda."""
    now = rt.now()
    result: dict[str, list[Meeting]] = {}
    with rt.uow(write=False) as uow:
        for zone in authorization.agenda_zones(actor, zones):
            meetings = [_meeting(row) for row in uow.agenda.upcoming(zone, now, MEETINGS_PER_ZONE)]
            _fill(actor, meetings, uow.agenda.items([m.id for m in meetings]))
            result[zone] = _with_calendar(rt, zone, meetings, now)
    return result


def _with_calendar(rt: Runtime, zone_id: str, meetings: list[Meeting], now: datetime) -> list[Meeting]:
    """Say which meetings a holiday moved, and complete them with the next dates of the zone's calendar."""
    zone = rt.zones.get(zone_id)
    if zone is None:
        return meetings
    tz = ZoneInfo(rt.settings.timezone)
    for meeting in meetings:
        slot = calendar.next_open_slot(zone, meeting.cutoff_at - timedelta(seconds=1), tz)
        meeting.moved_for = slot.moved_for if slot.meeting_id == meeting.id else None
    known = {m.id for m in meetings}
    for slot in calendar.slots_from(zone, now, tz):
        if len(meetings) >= MEETINGS_PER_ZONE:
            break
        if slot.meeting_id not in known and slot.starts_at > now:
            meetings.append(Meeting(slot.meeting_id, zone_id, slot.starts_at, slot.cutoff_at, zone.location, FORESEEN,
                                    moved_for=slot.moved_for))
    return sorted(meetings, key=lambda m: m.scheduled_at)


def _meeting(row: Mapping[str, Any]) -> Meeting:
    return Meeting(row["id"], row["zone"], row["scheduled_at"], row["cutoff_at"], row["location"], row["status"])


def _fill(actor: Actor, meetings: list[Meeting], rows: Any) -> None:
    by_id = {m.id: m for m in meetings}
    for row in rows:
        meeting = by_id[row["meeting_id"]]
        item = _item(row)
        if _visible(actor, meeting.zone, item):
            meeting.items.append(item)
        else:
            meeting.hidden += 1


def meeting(rt: Runtime, actor: Actor, meeting_id: str) -> Meeting:
    """One meeting with its agenda (NotFound when the person may not read its zone)."""
    with rt.uow(write=False) as uow:
        row = uow.agenda.get(meeting_id)
        if row is None or not authorization.can_see_agenda(actor, row["zone"]):
            raise NotFound("meeting not found")
        found = _meeting(row)
        _fill(actor, [found], uow.agenda.items([meeting_id]))
    return found


def meeting_ics(rt: Runtime, actor: Actor, meeting_id: str) -> bytes:
    """A meeting as the iCalendar invitation the agenda e-mail carries (same UID, so calendars
    merge the two), its description listing only the cases this person may see."""
    found = meeting(rt, actor, meeting_id)
    zone = rt.zones.get(found.zone)
    lines = [f"- {item.beneficiary}" for item in found.items]
    if found.hidden:
        lines.append(f"- altri {found.hidden} casi")
    description = "Ordine del giorno:\n" + ("\n".join(lines) if lines else "da definire")
    if zone is None:
        raise NotFound("meeting not found")
    with rt.uow() as uow:  # the file names beneficiaries: each case whose name it carries records the read
        for item in found.items:
            audit_read(uow, rt, actor, item.case_id, "document.viewed", documento="agenda equipe (.ics)",
                       riunione=found.id)
        uow.commit()
    return agenda_mail.invitation(zone, found.scheduled_at, found.location or zone.location, description,
                                  found.id, list(zone.referents), rt.settings.smtp.sender, rt.now())

