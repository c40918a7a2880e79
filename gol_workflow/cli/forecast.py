"""`gol-workflow forecast`: the capacity forecast of a zone, printed (the same projection as the «Indicatori» page)."""

from __future__ import annotations

import argparse
from datetime import date
from zoneinfo import ZoneInfo

from ..services.indicators import forecast
from ..services.meetings.ats_agenda import case_managers
from . import common


def register(commands: argparse._SubParsersAction) -> None:
    """Add the `forecast` command."""
    parser = commands.add_parser("forecast", help="project arrivals week by week: agenda, waiting days, case managers")
    parser.add_argument("--zone", required=True)
    parser.add_argument("--start", type=date.fromisoformat, required=True, help="first day, YYYY-MM-DD")
    parser.add_argument("--weeks", type=int, default=26)
    parser.add_argument("--people", type=int, required=True, help="arrivals over the weeks")
    parser.add_argument("--case-managers", type=int, default=None,
                        help="how many case managers (default: the zone's active ATS accounts)")
    parser.add_argument("--cadence-weeks", type=int, default=None, help="the change tried: meetings every N weeks")
    parser.add_argument("--extra-case-managers", type=int, default=0, help="the change tried: case managers added")
    parser.add_argument("--agenda-capacity", type=int, default=None, help="the change tried: cases per meeting")
    parser.set_defaults(handler=_forecast)


def _forecast(args: argparse.Namespace) -> int:
    rt = common.runtime()
    zone = rt.zones.get(args.zone)
    if zone is None:
        print(f"unknown zone {args.zone!r} (known: {', '.join(sorted(rt.zones))})")
        return 2
    tz = ZoneInfo(rt.settings.timezone)
    if args.case_managers is not None:
        managers = [f"case manager {n + 1}" for n in range(args.case_managers)]
    else:
        with rt.uow(write=False) as uow:
            managers = [name for name, _ in case_managers(uow, zone.id)]
    arrivals = forecast.even_arrivals(zone, args.start, args.weeks, args.people, tz)
    change = forecast.Change(args.cadence_weeks, args.extra_case_managers, args.agenda_capacity)
    print(f"{zone.id}: {args.people} people over {args.weeks} weeks from {args.start}, {len(managers)} case managers")
    print(f"{'':<48} {'cases/meeting':>13} {'wait mean':>9} {'wait p90':>8} {'max load':>8}")
    for projection in (forecast.project(zone, tz, args.start, args.weeks, arrivals, managers),
                       forecast.project(zone, tz, args.start, args.weeks, arrivals, managers, change=change)):
        print(f"{projection.label:<48} {projection.mean_agenda or 0:>13} {projection.mean_wait or 0:>9} "
              f"{projection.p90_wait or 0:>8} {projection.max_load:>8}")
    return 0
