"""The ATS agenda: first appointments on the calendar agreed with the ATS, one case per case manager and slot."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ...domain.errors import GolError
from ...domain.model import SYSTEM
from ...domain.zones import Zone
from ...persistence.uow import UnitOfWork
from . import calendar
from ..workflow.form_options import OptionContext, Options
from ..workflow.runtime import Runtime

SLOT_WEEKS = 4  # how far ahead the booking form offers slots
WEEKDAY_LABELS = ("lun", "mar", "mer", "gio", "ven", "sab", "dom")
ATS_ROLE = "ats"
BUSY = "Il case manager ha già un appuntamento a quest'ora: scegliere un altro orario o un altro case manager."
BOOKING_IDS = uuid.UUID("6f1c8f0e-3b0a-4b8e-9d5e-2a7c1b0e4d11")  # namespace of booking ids


class BookingRefused(GolError):
    """The appointment cannot be booked as asked (slot outside the calendar, taken, unknown case manager)."""


@dataclass(frozen=True)
class FreeSlot:
    """A slot of the ATS calendar with the case managers still free at that time."""

    at: datetime
    free: tuple[str, ...]


def zone_or_refuse(rt: Runtime, zone_id: Any) -> Zone:
    """The configured zone of a case, or a clear refusal naming the known ones."""
    zone = rt.zones.get(str(zone_id)) if zone_id else None
    if zone is None:
        raise BookingRefused(f"unknown zone {zone_id!r} (known: {', '.join(sorted(rt.zones)) or 'none'})")
    return zone


def case_managers(uow: UnitOfWork, zone_id: str) -> list[tuple[str, str]]:
    """(username, display name) of the active ATS case managers working in a zone."""
    return [
        (row["username"], row["full_name"] or row["username"])
        for row in uow.users.active_with_role(ATS_ROLE)
        if zone_id in (row["zones"] or [])
    ]


def calendar_slots(zone: Zone, now: datetime, tz: ZoneInfo, weeks: int = SLOT_WEEKS) -> list[datetime]:
    """The zone's ATS slots from tomorrow for `weeks` weeks, on working days only (Rome time)."""
    today = now.astimezone(tz).date()
    slots = []
    for offset in range(1, weeks * 7 + 1):
        day = today + timedelta(days=offset)
        if day.weekday() in zone.ats_weekdays and calendar.is_working_day(zone, day):
            slots.extend(calendar.at_local(day, moment, tz) for moment in sorted(zone.ats_times))
    return slots


def free_slots(rt: Runtime, uow: UnitOfWork, zone: Zone, now: datetime) -> list[FreeSlot]:
    """Calendar slots where at least one case manager of the zone is free (all slots when none is registered)."""
    tz = ZoneInfo(rt.settings.timezone)
    slots = calendar_slots(zone, now, tz)
    if not slots:
        return []
    managers = [name for name, _ in case_managers(uow, zone.id)]
    taken: dict[datetime, set[str]] = {}
    for row in uow.bookings.taken_between(managers, slots[0], slots[-1] + timedelta(minutes=1)):
        taken.setdefault(row["slot_at"], set()).add(row["case_manager"])
    found = []
    for slot in slots:
        free = tuple(m for m in managers if m not in taken.get(slot, set()))
        if free or not managers:
            found.append(FreeSlot(slot, free))
    return found


def slot_label(slot: datetime, tz: ZoneInfo, names: Mapping[str, str], free: tuple[str, ...]) -> str:
    """How the booking form shows a slot, e.g. 'mer 14/01/2026 ore 09:00 (liberi: Anna Neri)'."""
    local = slot.astimezone(tz)
    text = f"{WEEKDAY_LABELS[local.weekday()]} {local:%d/%m/%Y} ore {local:%H:%M}"
    if free:
        text += f" (liber{'o' if len(free) == 1 else 'i'}: {', '.join(names.get(m, m) for m in free)})"
    return text


def ats_slot_options(rt: Runtime, uow: UnitOfWork, ctx: OptionContext) -> Options:
    """`x-options: ats_slot`: free slots of the zone's ATS calendar for the next weeks."""
    zone = rt.zones.get(ctx.zone or "")
    if zone is None:
        return []
    tz = ZoneInfo(rt.settings.timezone)
    names = dict(case_managers(uow, zone.id))
    return [(s.at.astimezone(tz).isoformat(), slot_label(s.at, tz, names, s.free)) for s in free_slots(rt, uow, zone, ctx.now)]


def case_manager_options(rt: Runtime, uow: UnitOfWork, ctx: OptionContext) -> Options:
    """`x-options: case_manager`: the zone's case managers, the same ones a booking accepts."""
    return case_managers(uow, ctx.zone) if ctx.zone else []


def check_booking_form(rt: Runtime, uow: UnitOfWork, data: Mapping[str, Any], ctx: OptionContext) -> dict[str, list[str]]:
    """Field errors of the booking form that need the agenda: the chosen case manager must be free then."""
    try:
        slot = parse_slot(data.get("slot_appuntamento"))
    except BookingRefused:
        return {}  # the schema's own validation reports a malformed date
    manager = str(data.get("case_manager") or "")
    uow.bookings.lock_agenda_of(manager)  # a colleague booking the same person now waits for us, then sees it
    holder = uow.bookings.holder(manager, slot)
    if holder is None or (ctx.case is not None and holder["case_id"] == ctx.case.get("id")):
        return {}
    return {"case_manager": [BUSY]}


def parse_slot(value: Any) -> datetime:
    """An appointment time from the form: ISO 8601 with its offset."""
    try:
        slot = datetime.fromisoformat(str(value))
    except ValueError:
        raise BookingRefused(f"{value!r} is not an ISO 8601 date-time") from None
    if slot.tzinfo is None:
        raise BookingRefused(f"{value!r} has no UTC offset")
    return slot


def _check_slot(zone: Zone, slot: datetime, now: datetime, tz: ZoneInfo) -> None:
    local = slot.astimezone(tz)
    day: date = local.date()
    if local.weekday() not in zone.ats_weekdays or local.time().replace(tzinfo=None) not in zone.ats_times:
        raise BookingRefused(f"{local:%d/%m/%Y %H:%M} is not a slot of the calendar agreed with the ATS of {zone.name}")
    if not calendar.is_working_day(zone, day):
        raise BookingRefused(f"{local:%d/%m/%Y} is a holiday in {zone.name}")
    if slot <= now:
        raise BookingRefused(f"the slot {local:%d/%m/%Y %H:%M} has already passed: book another one")


def book(
    rt: Runtime, uow: UnitOfWork, zone: Zone, case_id: str, manager: str, slot: datetime, now: datetime
) -> str:
    """Record a first appointment in the agenda; returns the booking id (the same one when repeated)."""
    tz = ZoneInfo(rt.settings.timezone)
    if manager not in {name for name, _ in case_managers(uow, zone.id)}:
        raise BookingRefused(f"{manager!r} is not an active ATS case manager of {zone.name}")
    uow.bookings.lock_agenda_of(manager)
    holder = uow.bookings.holder(manager, slot)
    if holder is not None and holder["case_id"] == case_id:
        return str(holder["id"])  # a retried step finds its own booking
    _check_slot(zone, slot, now, tz)
    # The same booking always gets the same id: IDOL sees one idempotency key even if a step is replayed.
    booking_id = str(uuid.uuid5(BOOKING_IDS, f"{case_id}|{manager}|{slot.astimezone(UTC).isoformat()}"))
    values = {"id": booking_id, "case_id": case_id, "zone": zone.id, "case_manager": manager,
              "slot_at": slot, "created_at": now}
    if not uow.bookings.add(values):
        raise BookingRefused(f"{manager} already has an appointment on {slot.astimezone(tz):%d/%m/%Y at %H:%M}")
    superseded = [r for r in uow.bookings.for_case(case_id) if r["id"] != booking_id and r["slot_at"] > now]
    uow.bookings.remove(r["id"] for r in superseded)
    for row in superseded:
        uow.audit.record(now, SYSTEM.username, "booking.cancelled", case_id,
                         data={"case_manager": row["case_manager"], "slot": row["slot_at"].astimezone(tz).isoformat(),
                               "replaced_by": booking_id})
    return booking_id
