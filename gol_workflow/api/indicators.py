"""`/api/v1/indicators`: the indicators of a zone or of the whole service, the forecast, the operators' meetings."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ..services.indicators import capacity, forecast
from ..services.indicators import report as indicator_report
from ..services.meetings import operator_meetings
from .context import actor, runtime
from .openapi import Blueprint
from .schemas.indicators import (
    CreatedSchema,
    ForecastArgsSchema,
    ForecastSchema,
    IndicatorArgsSchema,
    IndicatorReportSchema,
    OperatorMeetingInSchema,
    OperatorMeetingListSchema,
)

bp = Blueprint("indicators", __name__, url_prefix="/api/v1/indicators",
               description="Indicators, waiting times and capacity forecast: aggregates only, fewer than 5 people "
                           "never shown; administrators (every zone and the whole service) and zone managers")


def today() -> date:
    """The service's today in its time zone."""
    rt = runtime()
    return rt.now().astimezone(ZoneInfo(rt.settings.timezone)).date()


def report_dict(report: indicator_report.Report) -> dict[str, Any]:
    """The report as the API and the exports give it."""
    return {"items": [v.as_dict() for v in report.items], "zone": report.zone, "zones": report.zones,
            "from_": report.first, "to": report.last, "waiting": report.waiting, "flow": report.flow}


@bp.get("")
@bp.arguments(IndicatorArgsSchema, location="query", as_kwargs=True)
@bp.response(200, IndicatorReportSchema)
@bp.problems(400, 403, 404)
def index(zone: str | None, from_: date | None, to: date | None) -> dict[str, Any]:
    """Every indicator of the catalogue for a zone (or the whole service) and period, with waiting times and flow."""
    last = to or today()
    first = from_ or last.replace(month=1, day=1)
    return report_dict(indicator_report.compute(runtime(), actor(), zone, first, last))


def projection_dict(p: forecast.Projection) -> dict[str, Any]:
    """One projection as the API gives it."""
    return {"label": p.label, "mean_agenda": p.mean_agenda, "mean_wait": p.mean_wait, "p90_wait": p.p90_wait,
            "max_load": p.max_load, "weeks": [{**dataclasses.asdict(w), "max_load": w.max_load} for w in p.weeks]}


@bp.get("/forecast")
@bp.arguments(ForecastArgsSchema, location="query", as_kwargs=True)
@bp.response(200, ForecastSchema)
@bp.problems(400, 403, 404)
def forecast_view(zone: str, start: date | None, weeks: int, people: int | None, cadence_weeks: int | None,
                  extra_case_managers: int, agenda_capacity: int | None) -> dict[str, Any]:
    """Week by week: agenda length, days to the first appointment, case managers' load, with and without a change."""
    first = start or today() + timedelta(days=7 - today().weekday())
    found = capacity.forecast_zone(runtime(), actor(), zone, first, weeks, people,
                                   forecast.Change(cadence_weeks, extra_case_managers, agenda_capacity))
    return {"zone": found.zone, "start": found.start, "weeks": found.weeks, "people": found.people,
            "from_recent": found.from_recent, "baseline": projection_dict(found.baseline),
            "changed": projection_dict(found.changed)}


@bp.get("/meetings")
@bp.response(200, OperatorMeetingListSchema)
@bp.problems()
def meetings() -> dict[str, Any]:
    """The coordination and training meetings of the zones the caller keeps the register of, latest first."""
    rt = runtime()
    items = operator_meetings.register(rt, actor(), sorted(rt.zones))
    return {"items": items, "total": len(items)}


@bp.post("/meetings")
@bp.arguments(OperatorMeetingInSchema)
@bp.response(201, CreatedSchema)
@bp.problems(400, 403)
def add_meeting(values: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """Add a meeting to a zone's register (the zone's managers, administrators)."""
    return {"id": operator_meetings.record_meeting(runtime(), values, actor())}, 201
