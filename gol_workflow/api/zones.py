"""`/api/v1/zones`: the configured zones and the next equipe meetings of each."""

from __future__ import annotations

from typing import Any

from ..domain.errors import Forbidden, NotFound
from ..domain.zones import WEEKDAYS, Zone
from ..services.meetings import agenda as agenda_service
from ..services.access import authorization
from .context import actor, runtime
from .openapi import Blueprint
from .schemas.zones import MeetingListSchema, ZoneListSchema

bp = Blueprint("zones", __name__, url_prefix="/api/v1/zones", description="Zones and their equipe meetings")


def _zone(zone: Zone, visible: bool) -> dict[str, Any]:
    equipe = {"weekday": WEEKDAYS[zone.weekday], "time": zone.meeting_time.strftime("%H:%M"),
              "cadence_weeks": zone.cadence_weeks, "location": zone.location, "notice_days": zone.notice_days}
    services = [{"id": s.id, "name": s.name} for s in zone.services]
    social = zone.social_services
    return {"id": zone.id, "name": zone.name, "sds": zone.sds, "territory": zone.territory,
            "social_services": {"kind": social.kind, "name": social.name, "email": social.email},
            "cpi": [{"name": c.name, "address": c.address, "email": c.email} for c in zone.cpis],
            "equipe": equipe, "specialist_services": services, "agenda_visible": visible}


@bp.get("")
@bp.response(200, ZoneListSchema)
@bp.problems()
def index() -> dict[str, Any]:
    """Every configured zone, saying whether the caller may read its meetings."""
    who = actor()
    zones = [_zone(z, authorization.can_see_agenda(who, z.id)) for _, z in sorted(runtime().zones.items())]
    return {"items": zones, "total": len(zones)}


@bp.get("/<string:zone>/meetings")
@bp.response(200, MeetingListSchema)
@bp.problems(403, 404)
def meetings(zone: str) -> dict[str, Any]:
    """The zone's next meetings with date, cut-off and agenda (only the cases the caller may see)."""
    rt, who = runtime(), actor()
    if zone not in rt.zones:
        raise NotFound(f"zone {zone!r} is not configured")
    if not authorization.can_see_agenda(who, zone):
        raise Forbidden(f"you may not read the agenda of zone {zone!r}")
    items = agenda_service.upcoming(rt, who, [zone]).get(zone, [])
    return {"items": items, "total": len(items)}
