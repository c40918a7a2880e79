"""«Indicatori»: indicators of a zone or of the service, waiting times, forecast, exports, the meetings register.

For administrators (every zone, the whole service) and zone managers (their zones): aggregates
only, never a person. Each chart is drawn by Chart.js from the data table beside it (the table stays without JavaScript).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, Response, abort, flash, redirect, render_template, request, url_for

from ..domain.errors import Forbidden, NotFound, ValidationFailed
from ..domain.model import Actor
from ..services.access import authorization
from ..services.indicators import capacity, export, forecast
from ..services.indicators import report as indicator_report
from ..services.meetings import operator_meetings
from .context import actor, runtime
from .navigation import NavEntry, add_nav_entry

bp = Blueprint("indicators", __name__, url_prefix="/indicatori")
ALL = "tutte"


def init_app(app: Flask) -> None:
    """Register the page and its menu entry."""
    app.register_blueprint(bp)
    add_nav_entry(app, NavEntry("Indicatori", "indicators.index", _visible))


def _visible(who: Actor) -> bool:
    return bool(authorization.indicator_zones(who, sorted(runtime().zones)))


def _today() -> date:
    rt = runtime()
    return rt.now().astimezone(ZoneInfo(rt.settings.timezone)).date()


def _day(name: str, default: date) -> date:
    raw = request.args.get(name, "")
    try:
        return date.fromisoformat(raw) if raw else default
    except ValueError:
        abort(400)


def _int(name: str, default: int | None, low: int, high: int) -> int | None:
    raw = request.args.get(name, "")
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        abort(400)
    if not low <= value <= high:
        abort(400)
    return value


def _choice() -> tuple[str | None, date, date, list[str]]:
    """The zone (None: the whole service) and period asked, and the zones offered."""
    rt, who = runtime(), actor()
    zones = authorization.indicator_zones(who, sorted(rt.zones))
    if not zones:
        abort(403)
    service = authorization.can_read_service_indicators(who)
    asked = request.args.get("zona") or (ALL if service else zones[0])
    zone = None if asked == ALL else asked
    last = _day("al", _today())
    first = _day("dal", last.replace(month=1, day=1))
    return zone, first, last, zones


def _report() -> indicator_report.Report:
    zone, first, last, _ = _choice()
    try:
        return indicator_report.compute(runtime(), actor(), zone, first, last)
    except (Forbidden, NotFound):
        abort(403)


def _forecast() -> capacity.Forecast | None:
    rt, who = runtime(), actor()
    zones = authorization.indicator_zones(who, sorted(rt.zones))
    zone = request.args.get("p_zona") or ""
    if zone not in zones:
        return None
    today = _today()
    start = _day("p_inizio", today + timedelta(days=7 - today.weekday()))
    weeks = _int("p_settimane", 26, 1, forecast.MAX_WEEKS) or 26
    people = _int("p_persone", None, 0, forecast.MAX_PEOPLE)
    change = forecast.Change(_int("p_cadenza", None, 1, 4), _int("p_case_manager", 0, 0, 50) or 0,
                             _int("p_capienza", None, 1, 200))
    return capacity.forecast_zone(rt, who, zone, start, weeks, people, change)


@bp.get("")
def index() -> str:
    """The page: period and zone, indicators, waiting times, flow, forecast, the meetings register."""
    zone, first, last, zones = _choice()
    try:
        report = indicator_report.compute(runtime(), actor(), zone, first, last)
    except (Forbidden, NotFound):
        abort(403)
    except ValidationFailed as exc:
        for messages in exc.errors.values():
            for message in messages:
                flash(message, "error")
        report = indicator_report.compute(runtime(), actor(), zone, last.replace(month=1, day=1), last)
    try:
        projected = _forecast()
    except ValidationFailed as exc:
        projected = None
        for messages in exc.errors.values():
            for message in messages:
                flash(message, "error")
    who = actor()
    register_zones = [z for z in sorted(runtime().zones) if authorization.can_keep_meeting_register(who, z)]
    return render_template(
        "indicators/index.html", report=report, zones=zones, all_zones=ALL,
        service=authorization.can_read_service_indicators(who), query=request.args, projected=projected,
        wait_labels=indicator_report.WAIT_LABELS, register=operator_meetings.register(runtime(), who, register_zones),
        register_zones=register_zones, meeting_kinds=operator_meetings.KINDS, today=_today())


def _filename(report: indicator_report.Report, ext: str) -> str:
    return f"indicatori-{report.zone or ALL}-{report.first:%Y%m%d}-{report.last:%Y%m%d}.{ext}"


@bp.get("/esporta.csv")
def export_csv() -> Response:
    """The indicators and waiting times as CSV."""
    report = _report()
    response = Response("\ufeff" + export.to_csv(report), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{_filename(report, "csv")}"'
    return response


@bp.get("/esporta.xlsx")
def export_xlsx() -> Response:
    """The indicators and waiting times as a spreadsheet."""
    report = _report()
    response = Response(export.to_xlsx(report),
                        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response.headers["Content-Disposition"] = f'attachment; filename="{_filename(report, "xlsx")}"'
    return response


@bp.post("/incontri")
def add_meeting() -> Response:
    """Add a coordination or training meeting to a zone's register."""
    values: dict[str, Any] = {k: request.form.get(k, "") for k in ("zone", "held_on", "kind", "topic", "participants")}
    try:
        operator_meetings.record_meeting(runtime(), values, actor())
    except ValidationFailed as exc:
        for messages in exc.errors.values():
            for message in messages:
                flash(message, "error")
    except Forbidden:
        abort(403)
    else:
        flash("Incontro registrato.", "success")
    return redirect(url_for("indicators.index") + "#registro-incontri")
