"""The register of the operators' coordination and training meetings, one per zone (seed 003)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from ...domain.errors import Forbidden, ValidationFailed
from ...domain.model import Actor
from ..access import authorization
from ..workflow.runtime import Runtime

KINDS: dict[str, str] = {
    "coordinamento": "Incontro di coordinamento",
    "formazione": "Incontro informativo o formativo",
}
MAX_TOPIC = 255


def _parse(rt: Runtime, values: Mapping[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    zone = str(values.get("zone") or "")
    kind = str(values.get("kind") or "")
    topic = str(values.get("topic") or "").strip()
    held: date | None = None
    participants = 0
    if zone not in rt.zones:
        errors["zone"] = ["Scegliere la zona."]
    if kind not in KINDS:
        errors["kind"] = ["Scegliere il tipo di incontro."]
    if not topic:
        errors["topic"] = ["Indicare l'argomento."]
    elif len(topic) > MAX_TOPIC:
        errors["topic"] = [f"Al massimo {MAX_TOPIC} caratteri."]
    try:
        raw = values.get("held_on")
        held = raw if isinstance(raw, date) else date.fromisoformat(str(raw or ""))
    except ValueError:
        errors["held_on"] = ["Data non valida (AAAA-MM-GG)."]
    try:
        participants = int(values.get("participants") or 0)
        if participants < 1:
            raise ValueError
    except (TypeError, ValueError):
        errors["participants"] = ["Indicare quanti operatori hanno partecipato (almeno 1)."]
    if errors:
        raise ValidationFailed("the meeting is not valid", errors)
    return {"zone": zone, "kind": kind, "topic": topic, "held_on": held, "participants": participants}


def record_meeting(rt: Runtime, values: Mapping[str, Any], actor: Actor) -> int:
    """Add a meeting to a zone's register; returns its id."""
    row = _parse(rt, values)
    if not authorization.can_keep_meeting_register(actor, row["zone"]):
        raise Forbidden("you may not keep the meeting register of this zone")
    now = rt.now()
    with rt.uow() as uow:
        meeting_id = uow.operator_meetings.add({**row, "recorded_by": actor.username, "recorded_at": now})
        uow.audit.record(now, actor.username, "zone.operator_meeting_recorded", None,
                         data={"meeting": meeting_id, "zone": row["zone"], "kind": row["kind"]})
        uow.commit()
    return meeting_id


def register(rt: Runtime, actor: Actor, zones: list[str], since: date | None = None,
             until: date | None = None) -> list[dict[str, Any]]:
    """The meetings of the zones this person may read, latest first."""
    allowed = [z for z in zones if authorization.can_keep_meeting_register(actor, z)]
    if not allowed:
        return []
    with rt.uow(write=False) as uow:
        return [dict(row) for row in uow.operator_meetings.of_zones(allowed, since, until)]
