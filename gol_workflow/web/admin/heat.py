"""Where the cases of a process version are: the diagram coloured by how many wait at each element, the
time spent in each, the same numbers as a table, and the cases at one element."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import render_template, request

from ...services.administration import heat as heat_service
from ..context import actor, runtime
from .blueprint import ID, bp



def human_seconds(seconds: float | None) -> str:
    """A duration in the words of the page: minutes, hours or days, rounded."""
    if seconds is None:
        return "—"
    if seconds < 3600:
        return f"{max(1, round(seconds / 60))} min"
    if seconds < 2 * 86400:
        return f"{round(seconds / 3600)} h"
    return f"{round(seconds / 86400)} g"


def _day(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name) or "")
    except ValueError:
        return None


@bp.get(f"/processi/<process_id>/versioni/<{ID}:version>/mappa")
def heat(process_id: str, version: int) -> tuple[str, int]:
    """The heat of a version over a period (the last 30 days unless chosen)."""
    rt = runtime()
    tz = ZoneInfo(rt.settings.timezone)
    start, end = _day("da"), _day("a")
    status = 200
    if start and end and start > end:
        start, end, status = None, None, 400
    until = datetime.combine(end + timedelta(days=1), time(), tz) if end else None
    since = datetime.combine(start, time(), tz) if start else None
    if since and not until:
        until = max(rt.now(), since + timedelta(days=1))
    result = heat_service.heat_of(rt, actor(), process_id, version, since, until)
    marks = {"elements": [{"element": e.element_id, "name": e.name, "waiting": e.waiting,
                           "times": f"{human_seconds(e.p50_seconds)} · {human_seconds(e.p90_seconds)}"
                           if e.p50_seconds is not None else None} for e in result.elements]}
    return render_template("admin/heat.html", h=result, marks=json.dumps(marks), human=human_seconds,
                           since=result.since.astimezone(tz).date(),
                           until=(result.until.astimezone(tz) - timedelta(microseconds=1)).date(),
                           wrong_period=status == 400), status


@bp.get(f"/processi/<process_id>/versioni/<{ID}:version>/mappa/<element_id>")
def heat_cases(process_id: str, version: int, element_id: str) -> str:
    """The cases waiting at one element now (a fragment for the map, or a page of its own)."""
    name, cases = heat_service.cases_at(runtime(), actor(), process_id, version, element_id)
    fragment = request.headers.get("HX-Request") == "true"
    return render_template("admin/heat_cases.html", cases=cases, name=name, process_id=process_id, version=version,
                           element_id=element_id, fragment=fragment)
