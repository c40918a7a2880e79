"""The equipe calendar of a zone: meeting days on Rome's calendar, holidays moved to the next working day."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from ...domain.zones import Zone

LOCAL_HOLIDAY = "festività locale"
_MAX_SHIFT_DAYS = 14


@dataclass(frozen=True)
class MeetingSlot:
    """One meeting of a zone's calendar: when it is held and when its agenda closes."""

    zone: str
    meeting_id: str
    starts_at: datetime  # aware, in the service time zone
    cutoff_at: datetime  # starts_at minus the zone's notice days, same local time
    nominal_day: date  # the day the cadence gives, before any holiday move
    moved_for: str | None = None  # the holiday that moved it, if any

    @property
    def moved(self) -> bool:
        """True when a holiday moved the meeting off its usual day."""
        return self.moved_for is not None


@lru_cache(maxsize=64)
def _national(year: int) -> dict[date, str]:
    return dict(holidays.Italy(years=year, language="it_IT").items())


def holiday_name(zone: Zone, day: date) -> str | None:
    """The name of the holiday on `day` for this zone (national or local), or None."""
    name = _national(day.year).get(day)
    if name:
        return name
    if (day.month, day.day) in zone.local_holidays:
        return LOCAL_HOLIDAY
    return None


def is_working_day(zone: Zone, day: date) -> bool:
    """Monday to Friday and not a national or local holiday."""
    return day.weekday() < 5 and holiday_name(zone, day) is None


def first_working_day(zone: Zone, day: date) -> tuple[date, str | None]:
    """`day` itself if working, else the next working day and the holiday that caused the move."""
    reason = None if is_working_day(zone, day) else (holiday_name(zone, day) or "giorno non lavorativo")
    for _ in range(_MAX_SHIFT_DAYS):
        if is_working_day(zone, day):
            return day, reason
        day += timedelta(days=1)
    raise ValueError(f"zone {zone.id}: no working day within {_MAX_SHIFT_DAYS} days of {day}")


def anchor_day(zone: Zone) -> date:
    """The first meeting day: `first_meeting`, or the first configured weekday after it."""
    offset = (zone.weekday - zone.first_meeting.weekday()) % 7
    return zone.first_meeting + timedelta(days=offset)


def at_local(day: date, moment: time, tz: ZoneInfo) -> datetime:
    """A local wall-clock time on a day, with the offset in force that day (DST-aware)."""
    return datetime.combine(day, moment, tzinfo=tz)


def slot_on(zone: Zone, nominal: date, tz: ZoneInfo) -> MeetingSlot:
    """The meeting whose cadence day is `nominal`, moved past holidays, with its cut-off."""
    day, reason = first_working_day(zone, nominal)
    starts = at_local(day, zone.meeting_time, tz)
    cutoff = at_local(day - timedelta(days=zone.notice_days), zone.meeting_time, tz)
    return MeetingSlot(zone.id, f"{zone.id}-{day:%Y%m%d}", starts, cutoff, nominal, reason)


def slots_from(zone: Zone, since: datetime, tz: ZoneInfo) -> Iterator[MeetingSlot]:
    """The zone's meetings whose cut-off is after `since`, in order (an endless iterator)."""
    step = 7 * zone.cadence_weeks
    anchor = anchor_day(zone)
    local_day = since.astimezone(tz).date()
    # Start one cadence early: a holiday move can put a meeting after its neighbour's day.
    index = max(0, (local_day - anchor).days // step - 1)
    seen: set[str] = set()
    while True:
        slot = slot_on(zone, anchor + timedelta(days=index * step), tz)
        index += 1
        if slot.cutoff_at > since and slot.meeting_id not in seen:
            seen.add(slot.meeting_id)
            yield slot


def next_open_slot(zone: Zone, now: datetime, tz: ZoneInfo) -> MeetingSlot:
    """The first meeting whose cut-off has not passed at `now` (a case arriving now joins it)."""
    return next(slots_from(zone, now, tz))


def slots_between(zone: Zone, since: datetime, until: datetime, tz: ZoneInfo) -> list[MeetingSlot]:
    """Meetings whose cut-off is after `since` and that start no later than `until`."""
    found = []
    for slot in slots_from(zone, since, tz):
        if slot.starts_at > until:
            break
        found.append(slot)
    return found
