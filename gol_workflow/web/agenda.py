"""The equipe agenda: next meetings of my zones, the cases on each, invitations, and .ics downloads."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Response, abort, render_template
from icalendar import Calendar, Event

from ..services import agenda as agenda_service
from ..services import authorization
from .context import actor, runtime
from .filters import zone_name

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
    rt, who = runtime(), actor()
    meeting = agenda_service.meeting(rt, who, meeting_id)
    calendar = Calendar()
    calendar.add("prodid", "-//GOL Percorso 4//Agenda equipe//IT")
    calendar.add("version", "2.0")
    event = Event()
    event.add("uid", f"{meeting.id}@gol-percorso4")
    event.add("summary", f"Equipe multidisciplinare GOL – {zone_name(meeting.zone)}")
    event.add("dtstart", meeting.scheduled_at)
    event.add("dtend", meeting.scheduled_at + MEETING_LENGTH)
    event.add("dtstamp", rt.now())
    if meeting.location:
        event.add("location", meeting.location)
    lines = [f"- {item.beneficiary}" for item in meeting.items]
    if meeting.hidden:
        lines.append(f"- altri {meeting.hidden} casi")
    event.add("description", "Ordine del giorno:\n" + ("\n".join(lines) if lines else "da definire"))
    calendar.add_component(event)
    response = Response(calendar.to_ical(), mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'attachment; filename="equipe-{meeting.id}.ics"'
    return response
