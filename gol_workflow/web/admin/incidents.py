"""Recent incidents grouped by process, element and message."""

from __future__ import annotations

from flask import render_template, request

from ...services.administration.incidents import recent_incidents
from ..context import actor, runtime
from .blueprint import bp

PERIODS = (1, 7, 30, 90)


@bp.get("/errori")
def incidents() -> str:
    """Failures of the last days, grouped, with links to the instances."""
    days = request.args.get("giorni", 7, type=int)
    days = days if days in PERIODS else 7
    report = recent_incidents(runtime(), actor(), days)
    return render_template("admin/incidents.html", report=report, days=days, periods=PERIODS)
