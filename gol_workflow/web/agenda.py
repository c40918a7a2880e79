"""The equipe agenda: next meetings of my zones, the cases on each, invitations, and .ics downloads."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Response, abort, render_template

from ..services.meetings import agenda as agenda_service
from ..services.access import authorization
from .context import actor, runtime

bp = Blueprint("agenda", __name__, url_prefix="/agenda")
MEETING_LENGTH = timedelta(hours=2)


@bp.get("")
def index() -> str:
    """Next meetings for each of my zones."""
    rt, who = runtime(), actor()
    zones = authorization.agenda_zones(who, sorted(rt.zones))
    if not zones:
        abort(403)
    return render_template("agenda/index.html", agenda=agenda_service.upcoming(rt, who, zones))


@bp.get("/<meeting_id>.ics")
def ics(meeting_id: str) -> Response:
    """One meeting as an iCalendar invitation."""
    content = agenda_service.meeting_ics(runtime(), actor(), meeting_id)
    response = Response(content, mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'attachment; filename="equipe-{meeting_id}.ics"'
    return response
