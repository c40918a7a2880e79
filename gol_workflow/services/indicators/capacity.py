"""The capacity forecast of a zone as the «Indicatori» page and the API ask for it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from ...domain.errors import Forbidden, NotFound
from ...domain.model import Actor
from ..access import authorization
from ..meetings.ats_agenda import case_managers
from ..workflow.runtime import Runtime
from . import forecast
from .report import bounds

RECENT_WEEKS = 12  # "the arrivals of the last months"


@dataclass(frozen=True)
class Forecast:
    """The projection as things are and with the change tried."""

    zone: str
    start: date
    weeks: int
    people: int
    from_recent: bool
    baseline: forecast.Projection
    changed: forecast.Projection


def forecast_zone(rt: Runtime, actor: Actor, zone_id: str, start: date, weeks: int, people: int | None,
                  change: forecast.Change) -> Forecast:
    """Project `people` arrivals over `weeks` from `start` (None: at the pace of the last 12 weeks)."""
    zone = rt.zones.get(zone_id)
    if zone is None:
        raise NotFound(f"zone {zone_id!r} is not configured")
    if zone_id not in authorization.indicator_zones(actor, sorted(rt.zones)):
        raise Forbidden(f"you may not read the indicators of zone {zone_id!r}")
    tz = ZoneInfo(rt.settings.timezone)
    today = rt.now().astimezone(tz).date()
    with rt.uow(write=False) as uow:
        managers = [name for name, _ in case_managers(uow, zone_id)]
        running = uow.indicators.active_paths(zone_id, bounds(start, start, tz).start)
        from_recent = people is None
        if people is None:
            recent = uow.indicators.arrivals(zone_id, bounds(today - timedelta(weeks=RECENT_WEEKS), today, tz))
            people = round(recent * weeks / RECENT_WEEKS)
    active = [(manager, end.astimezone(tz).date()) for manager, end in running]
    arrivals = forecast.even_arrivals(zone, start, weeks, people, tz)
    baseline = forecast.project(zone, tz, start, weeks, arrivals, managers, active)
    changed = forecast.project(zone, tz, start, weeks, arrivals, managers, active, change)
    return Forecast(zone_id, start, weeks, people, from_recent, baseline, changed)
