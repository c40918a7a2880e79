"""The equipe calendar: Rome wall-clock times across DST, holidays, cadence and the 5-day cut-off."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest

from gol_workflow.domain.zones import Zone
from gol_workflow.services.meetings import calendar
from gol_workflow.services.meetings.zones import load_zones
from tests.conftest import ROME
from tests.integration.scheduling_support import TEST_ZONES


@pytest.fixture(scope="module")
def zones() -> dict[str, Zone]:
    return load_zones(TEST_ZONES)


def slots(zone: Zone, since: datetime, count: int) -> list[calendar.MeetingSlot]:
    found = []
    for slot in calendar.slots_from(zone, since, ROME):
        found.append(slot)
        if len(found) == count:
            return found
    return found


def test_weekly_meeting_stays_at_0930_across_the_march_clock_change(zones: dict[str, Zone]) -> None:
    before, after = slots(zones["nord"], datetime(2026, 3, 18, 12, 0, tzinfo=ROME), 2)
    assert before.starts_at.date() == date(2026, 3, 24) and after.starts_at.date() == date(2026, 3, 31)
    assert before.starts_at.timetz().replace(tzinfo=None) == after.starts_at.timetz().replace(tzinfo=None) == time(9, 30)
    assert before.starts_at.utcoffset() == timedelta(hours=1)
    assert after.starts_at.utcoffset() == timedelta(hours=2)
    assert after.starts_at.astimezone(UTC) - before.starts_at.astimezone(UTC) == timedelta(days=7, hours=-1)
    # The cut-off of the 31 March meeting falls before the change: still 09:30 local, at +01:00.
    assert after.cutoff_at.isoformat() == "2026-03-26T09:30:00+01:00"


def test_weekly_meeting_stays_at_0930_across_the_october_clock_change(zones: dict[str, Zone]) -> None:
    before, after = slots(zones["nord"], datetime(2026, 10, 14, 12, 0, tzinfo=ROME), 2)
    assert before.starts_at.isoformat() == "2026-10-20T09:30:00+02:00"
    assert after.starts_at.isoformat() == "2026-10-27T09:30:00+01:00"
    assert after.starts_at.astimezone(UTC) - before.starts_at.astimezone(UTC) == timedelta(days=7, hours=1)
    assert after.cutoff_at.isoformat() == "2026-10-22T09:30:00+02:00"


@pytest.mark.parametrize(
    ("since", "usual", "moved_to", "holiday"),
    [
        (datetime(2026, 5, 27, tzinfo=ROME), date(2026, 6, 2), date(2026, 6, 3), "Festa della Repubblica"),
        (datetime(2026, 12, 2, tzinfo=ROME), date(2026, 12, 8), date(2026, 12, 9), "Immacolata Concezione"),
    ],
)
def test_meeting_on_a_national_holiday_moves_to_the_next_working_day(
    zones: dict[str, Zone], since: datetime, usual: date, moved_to: date, holiday: str
) -> None:
    slot = calendar.next_open_slot(zones["nord"], since, ROME)
    assert slot.nominal_day == usual
    assert slot.starts_at == datetime.combine(moved_to, time(9, 30), tzinfo=ROME)
    assert slot.moved_for == holiday
    assert slot.meeting_id == f"nord-{moved_to:%Y%m%d}"
    assert slot.cutoff_at == slot.starts_at - timedelta(days=5)  # the cut-off moves with it


def test_easter_monday_moves_a_monday_meeting_to_tuesday(zones: dict[str, Zone]) -> None:
    monday_zone = replace(zones["nord"], weekday=0, first_meeting=date(2026, 1, 12))
    slot = calendar.next_open_slot(monday_zone, datetime(2026, 3, 31, tzinfo=ROME), ROME)
    assert slot.nominal_day == date(2026, 4, 6)
    assert slot.starts_at.date() == date(2026, 4, 7)
    assert slot.moved_for == "Lunedì dell'Angelo"


def test_local_patron_saint_moves_the_meeting_and_its_cutoff(zones: dict[str, Zone]) -> None:
    # 25 July 2028 is a Tuesday: San Jacopo in Pistoia, listed in the zone's festivi_locali.
    slot = calendar.next_open_slot(zones["nord"], datetime(2028, 7, 19, tzinfo=ROME), ROME)
    assert slot.nominal_day == date(2028, 7, 25)
    assert slot.starts_at.isoformat() == "2028-07-26T09:30:00+02:00"
    assert slot.cutoff_at.isoformat() == "2028-07-21T09:30:00+02:00"
    assert slot.moved_for == calendar.LOCAL_HOLIDAY
    # A zone without that local holiday meets on the Tuesday.
    other = replace(zones["nord"], local_holidays=())
    assert calendar.next_open_slot(other, datetime(2028, 7, 19, tzinfo=ROME), ROME).starts_at.day == 25


def test_christmas_and_saint_stephen_push_a_friday_meeting_to_monday(zones: dict[str, Zone]) -> None:
    friday_zone = replace(zones["nord"], weekday=4, first_meeting=date(2026, 1, 9))
    slot = calendar.next_open_slot(friday_zone, datetime(2026, 12, 19, tzinfo=ROME), ROME)
    assert slot.nominal_day == date(2026, 12, 25)
    assert slot.starts_at.date() == date(2026, 12, 28)


def test_fortnightly_zone_meets_every_other_week_from_its_first_meeting(zones: dict[str, Zone]) -> None:
    days = [s.starts_at.date() for s in slots(zones["sud"], datetime(2026, 1, 1, tzinfo=ROME), 4)]
    assert days == [date(2026, 1, 15), date(2026, 1, 29), date(2026, 2, 12), date(2026, 2, 26)]
    assert all(s.starts_at.time() == time(10, 0) for s in slots(zones["sud"], datetime(2026, 1, 1, tzinfo=ROME), 4))
    # Months later the rhythm is still anchored on 15 January: 5 and 19 November, never the 12th.
    november = [s.starts_at.date() for s in slots(zones["sud"], datetime(2026, 10, 25, tzinfo=ROME), 2)]
    assert november == [date(2026, 11, 5), date(2026, 11, 19)]


def test_no_meeting_before_the_first_one(zones: dict[str, Zone]) -> None:
    first = calendar.next_open_slot(zones["nord"], datetime(2025, 11, 1, tzinfo=ROME), ROME)
    assert first.starts_at.date() == date(2026, 1, 13)


def test_case_arriving_three_days_before_a_meeting_goes_to_the_following_one(zones: dict[str, Zone]) -> None:
    nord = zones["nord"]
    six_days_before = datetime(2026, 1, 7, 11, 0, tzinfo=ROME)
    three_days_before = datetime(2026, 1, 10, 11, 0, tzinfo=ROME)
    assert calendar.next_open_slot(nord, six_days_before, ROME).starts_at.date() == date(2026, 1, 13)
    assert calendar.next_open_slot(nord, three_days_before, ROME).starts_at.date() == date(2026, 1, 20)


def test_cutoff_instant_itself_is_already_closed(zones: dict[str, Zone]) -> None:
    nord = zones["nord"]
    cutoff = datetime(2026, 1, 8, 9, 30, tzinfo=ROME)
    assert calendar.next_open_slot(nord, cutoff - timedelta(seconds=1), ROME).starts_at.day == 13
    assert calendar.next_open_slot(nord, cutoff, ROME).starts_at.day == 20


def test_slots_between_lists_both_cadences_in_order(zones: dict[str, Zone]) -> None:
    since = datetime(2026, 1, 5, 8, 0, tzinfo=ROME)
    found = calendar.slots_between(zones["nord"], since, since + timedelta(days=23), ROME)
    assert [s.meeting_id for s in found] == ["nord-20260113", "nord-20260120", "nord-20260127"]
    assert [s.meeting_id for s in calendar.slots_between(zones["sud"], since, since + timedelta(days=23), ROME)] == [
        "sud-20260115"
    ]
