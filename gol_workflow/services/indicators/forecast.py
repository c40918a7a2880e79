"""Capacity forecast: arrivals projected week by week through the zone's real calendar and the service's own rules.

The rules are the service's, not a model of them: a case is booked at profiling on the zone's
next equipe meeting whose agenda is still open (`meetings.calendar`, holidays and local feasts
moving meetings as they do in the service); after the meeting the CPI books the first free slot
of the ATS calendar from the next day (`meetings.ats_agenda.calendar_slots`, one case per case
manager and slot); the path then lasts 12 months with its case manager. What the user may try:
another cadence, more case managers, an agenda holding at most N cases per meeting (the cases
beyond wait for the next meeting, as a postponed case does).
"""

from __future__ import annotations

import bisect
import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

from ...domain.errors import ValidationFailed
from ...domain.zones import Zone
from ..meetings import calendar
from ..meetings.ats_agenda import calendar_slots

ARRIVAL_TIME = time(10, 0)  # profiling happens during the CPI's morning
PATH = relativedelta(months=12)
MAX_WEEKS = 156
MAX_PEOPLE = 20000


@dataclass(frozen=True)
class Change:
    """What the user tries: a cadence in weeks, case managers added, a cap on the cases per meeting."""

    cadence_weeks: int | None = None
    extra_case_managers: int = 0
    agenda_capacity: int | None = None  # None: every case booked goes on the next meeting (the service's rule)

    @property
    def label(self) -> str:
        """Italian description of the change."""
        parts = []
        if self.cadence_weeks:
            parts.append("riunioni settimanali" if self.cadence_weeks == 1 else f"riunioni ogni {self.cadence_weeks} "
                                                                                "settimane")
        if self.extra_case_managers:
            parts.append(f"{self.extra_case_managers} case manager in più")
        if self.agenda_capacity:
            parts.append(f"al massimo {self.agenda_capacity} casi per riunione")
        return ", ".join(parts) or "situazione attuale"


@dataclass(frozen=True)
class Week:
    """One projected week."""

    start: date
    arrivals: int
    meetings: int
    agenda_length: float | None  # mean cases per meeting held this week
    wait_days: float | None  # mean days from profiling to the first appointment of this week's arrivals
    loads: dict[str, int]  # cases in their path per case manager at the end of the week

    @property
    def max_load(self) -> int:
        """The busiest case manager's cases."""
        return max(self.loads.values(), default=0)


@dataclass
class Projection:
    """A projection over the weeks, with its summary figures."""

    label: str
    weeks: list[Week] = field(default_factory=list)
    agenda_lengths: list[int] = field(default_factory=list)  # cases of each meeting held, in order
    waits: list[int] = field(default_factory=list)  # days to the first appointment, per case in arrival order
    meeting_of_case: list[datetime] = field(default_factory=list)
    appointment_of_case: list[datetime] = field(default_factory=list)
    assigned: dict[str, int] = field(default_factory=dict)  # cases given to each case manager by the projection

    @property
    def mean_agenda(self) -> float | None:
        """Mean cases per meeting held."""
        return round(sum(self.agenda_lengths) / len(self.agenda_lengths), 2) if self.agenda_lengths else None

    @property
    def mean_wait(self) -> float | None:
        """Mean days to the first appointment."""
        return round(sum(self.waits) / len(self.waits), 2) if self.waits else None

    @property
    def p90_wait(self) -> float | None:
        """90th percentile of the days to the first appointment."""
        if not self.waits:
            return None
        ordered = sorted(self.waits)
        position = 0.9 * (len(ordered) - 1)
        low = math.floor(position)
        high = min(low + 1, len(ordered) - 1)
        return round(ordered[low] + (ordered[high] - ordered[low]) * (position - low), 2)

    @property
    def max_load(self) -> int:
        """The highest load any case manager reaches."""
        return max((w.max_load for w in self.weeks), default=0)


def even_arrivals(zone: Zone, start: date, weeks: int, people: int, tz: ZoneInfo) -> list[datetime]:
    """`people` arrivals spread evenly over the zone's working days of the window, at 10:00."""
    if not 2000 <= start.year <= 2100:
        raise ValidationFailed("start out of range", {"start": ["Anni dal 2000 al 2100."]})
    if weeks < 1 or weeks > MAX_WEEKS:
        raise ValidationFailed("weeks out of range", {"weeks": [f"Da 1 a {MAX_WEEKS} settimane."]})
    if people < 0 or people > MAX_PEOPLE:
        raise ValidationFailed("arrivals out of range", {"people": [f"Da 0 a {MAX_PEOPLE} persone."]})
    days = [start + timedelta(days=n) for n in range(weeks * 7) if calendar.is_working_day(zone, start +
                                                                                            timedelta(days=n))]
    return [calendar.at_local(days[(i * len(days)) // people], ARRIVAL_TIME, tz) for i in range(people)] if days else []


class _AtsSlots:
    """The zone's ATS calendar slots in order (`ats_agenda.calendar_slots`), read as far as the bookings need."""

    def __init__(self, zone: Zone, tz: ZoneInfo, since: date) -> None:
        self.zone, self.tz = zone, tz
        self.next_week = since - timedelta(days=1)
        self.known: list[datetime] = []
        self.days: list[date] = []

    def _extend(self) -> None:
        for _ in range(520):  # a zone with an empty ATS calendar has no slot to give
            found = calendar_slots(self.zone, calendar.at_local(self.next_week, time(12), self.tz), self.tz, weeks=1)
            self.next_week += timedelta(days=7)
            if found:
                self.known.extend(found)
                self.days.extend(s.astimezone(self.tz).date() for s in found)
                return
        raise ValidationFailed("no ATS slot", {"zone": ["Il calendario ATS della zona non ha orari."]})

    def at(self, position: int) -> datetime:
        while len(self.known) <= position:
            self._extend()
        return self.known[position]

    def first_after(self, day: date) -> int:
        """The position of the first slot on a day after `day` (the CPI books from the next day)."""
        while not self.days or self.days[-1] <= day:
            self._extend()
        return bisect.bisect_right(self.days, day)


class _Meetings:
    """The zone's meetings in order, read from its calendar as far as the bookings need."""

    def __init__(self, zone: Zone, since: datetime, tz: ZoneInfo) -> None:
        self._source = calendar.slots_from(zone, since, tz)
        self.known: list[calendar.MeetingSlot] = []

    def from_index(self, index: int) -> calendar.MeetingSlot:
        while len(self.known) <= index:
            self.known.append(next(self._source))
        return self.known[index]


def project(zone: Zone, tz: ZoneInfo, start: date, weeks: int, arrivals: Sequence[datetime],
            case_managers: Sequence[str], active: Sequence[tuple[str, date]] = (), change: Change = Change()
            ) -> Projection:
    """Week by week: meetings and their agenda, days to the first appointment, each case manager's load.

    `active` are the paths already running: (case manager, end date).
    """
    if change.cadence_weeks:
        zone = dataclasses.replace(zone, cadence_weeks=change.cadence_weeks)
    managers = list(case_managers) + [f"case manager {n + 1} (nuovo)" for n in range(change.extra_case_managers)]
    if not managers:
        raise ValidationFailed("no case manager", {"case_managers": ["La zona non ha case manager ATS."]})
    result = Projection(change.label)
    ordered = sorted(arrivals)
    first = calendar.at_local(start, time(), tz)
    slots = _Meetings(zone, first - timedelta(days=1), tz)
    on_agenda: dict[str, int] = {}
    meeting_at: list[datetime] = []
    index = cursor = 0  # the first meeting open at the arrival; the first one not yet full
    for arrival in ordered:
        while slots.from_index(index).cutoff_at <= arrival:
            index += 1
        cursor = max(cursor, index)
        while change.agenda_capacity is not None and on_agenda.get(slots.from_index(cursor).meeting_id, 0) >= \
                change.agenda_capacity:
            cursor += 1
        slot = slots.from_index(cursor)
        on_agenda[slot.meeting_id] = on_agenda.get(slot.meeting_id, 0) + 1
        meeting_at.append(slot.starts_at)
    held = [(s.starts_at, on_agenda[s.meeting_id]) for s in slots.known if s.meeting_id in on_agenda]
    result.agenda_lengths = [n for _, n in held]

    # The first appointment: the CPI books after the meeting, the first slot with a free case manager.
    starts: dict[str, list[date]] = {m: [] for m in managers}  # sorted, per case manager
    ends: dict[str, list[date]] = {m: [] for m in managers}
    for manager, end in active:
        bisect.insort(starts.setdefault(manager, []), end - PATH)
        bisect.insort(ends.setdefault(manager, []), end)
    ats = _AtsSlots(zone, tz, start)
    taken: dict[datetime, set[str]] = {}
    appointments: list[datetime] = []
    first_free = 0  # every slot before it has all its case managers taken

    def running(manager: str, day: date) -> int:
        return len(ends[manager]) - bisect.bisect_right(ends[manager], day)

    for index in sorted(range(len(ordered)), key=lambda i: (meeting_at[i], ordered[i])):
        position = max(ats.first_after(meeting_at[index].astimezone(tz).date()), first_free)
        while True:
            at = ats.at(position)
            free = [m for m in managers if m not in taken.get(at, ())]
            if free:
                break
            position += 1
        day = at.astimezone(tz).date()
        chosen = min(free, key=lambda m: running(m, day))
        taken.setdefault(at, set()).add(chosen)
        result.assigned[chosen] = result.assigned.get(chosen, 0) + 1
        bisect.insort(starts[chosen], day)
        bisect.insort(ends[chosen], day + PATH)
        while len(taken.get(ats.at(first_free), ())) >= len(managers):
            first_free += 1
        appointments.append(at)
    by_arrival = dict(zip(sorted(range(len(ordered)), key=lambda i: (meeting_at[i], ordered[i])), appointments))
    result.appointment_of_case = [by_arrival[i] for i in range(len(ordered))]
    result.meeting_of_case = meeting_at
    result.waits = [(result.appointment_of_case[i].astimezone(tz).date() - ordered[i].astimezone(tz).date()).days
                    for i in range(len(ordered))]
    for w in range(weeks):
        week_start = start + timedelta(days=7 * w)
        week_end = week_start + timedelta(days=7)
        lo, hi = calendar.at_local(week_start, time(), tz), calendar.at_local(week_end, time(), tz)
        this_week = range(bisect.bisect_left(ordered, lo), bisect.bisect_left(ordered, hi))
        meetings_now = [n for at, n in held if lo <= at < hi]
        waits = [result.waits[i] for i in this_week]
        # paths running at the end of the week: started before it ends, ending on or after its last day
        loads = {m: bisect.bisect_left(starts[m], week_end) - bisect.bisect_left(ends[m], week_end) for m in ends}
        result.weeks.append(Week(week_start, len(this_week), len(meetings_now),
                                 round(sum(meetings_now) / len(meetings_now), 2) if meetings_now else None,
                                 round(sum(waits) / len(waits), 2) if waits else None, loads))
    return result
