"""ISO 8601 durations (P1Y2M3W4DT5H6M7S) applied on the calendar."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

_DURATION = re.compile(
    r"^P(?!$)(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


@dataclass(frozen=True)
class Duration:
    """A calendar duration: months and years vary in length, the rest do not."""

    years: int = 0
    months: int = 0
    weeks: int = 0
    days: int = 0
    hours: int = 0
    minutes: int = 0
    seconds: float = 0.0

    def after(self, moment: datetime, timezone: str = "Europe/Rome") -> datetime:
        """The instant this duration after `moment`, counting days on the local calendar."""
        zone = ZoneInfo(timezone)
        local = moment.astimezone(zone).replace(tzinfo=None)
        month_index = local.month - 1 + self.months + 12 * self.years
        year, month = local.year + month_index // 12, month_index % 12 + 1
        day = min(local.day, _days_in_month(year, month))
        local = local.replace(year=year, month=month, day=day)
        local += timedelta(weeks=self.weeks, days=self.days)
        result = local.replace(tzinfo=zone)
        return result + timedelta(hours=self.hours, minutes=self.minutes, seconds=self.seconds)


def _days_in_month(year: int, month: int) -> int:
    import calendar

    return calendar.monthrange(year, month)[1]


def parse_duration(text: str) -> Duration:
    """Parse an ISO 8601 duration; ValueError with a clear message otherwise."""
    match = _DURATION.match(text.strip().upper()) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"{text!r} is not an ISO 8601 duration such as P5D, PT2H or P1M")
    parts = {k: v for k, v in match.groupdict().items() if v is not None}
    return Duration(
        years=int(parts.get("years", 0)),
        months=int(parts.get("months", 0)),
        weeks=int(parts.get("weeks", 0)),
        days=int(parts.get("days", 0)),
        hours=int(parts.get("hours", 0)),
        minutes=int(parts.get("minutes", 0)),
        seconds=float(parts.get("seconds", 0)),
    )
