"""Recording a placement during a case's 12-month path: tirocinio, job, social inclusion, sheltered workshop."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from ...domain.errors import InvalidState, NotFound, ValidationFailed
from ...domain.model import Actor
from ..access import authorization
from ..workflow.runtime import Runtime

ACTION = "case.record_placement"
# Kinds of placement (seed 002, Pordenone's indicators): work placements, placements with
# social-inclusion goals, placements in sheltered workshops.
KINDS: dict[str, str] = {
    "tirocinio": "Tirocinio",
    "assunzione": "Assunzione con contratto di lavoro",
    "inclusione_sociale": "Inserimento con obiettivi di integrazione sociale",
    "laboratorio_protetto": "Laboratorio protetto",
}
WORK_KINDS = ("tirocinio", "assunzione")
SECTORS: dict[str, str] = {
    "agricoltura": "Agricoltura",
    "industria": "Industria e artigianato",
    "costruzioni": "Costruzioni",
    "commercio": "Commercio e turismo",
    "servizi": "Servizi alle persone e alle imprese",
    "pubblica_amministrazione": "Pubblica amministrazione",
    "terzo_settore": "Cooperativa sociale o terzo settore",
}


@dataclass(frozen=True)
class Placement:
    """A placement as asked: kind, employer sector, start and (optional) end."""

    kind: str
    sector: str
    start_date: date
    end_date: date | None


def _day(value: Any, field: str, errors: dict[str, list[str]], required: bool) -> date | None:
    if value in (None, ""):
        if required:
            errors[field] = ["Indicare la data."]
        return None
    try:
        return value if isinstance(value, date) else date.fromisoformat(str(value))
    except ValueError:
        errors[field] = ["Data non valida (AAAA-MM-GG)."]
        return None


def parse(values: Mapping[str, Any]) -> Placement:
    """The placement from form or API fields, or ValidationFailed with Italian messages per field."""
    errors: dict[str, list[str]] = {}
    kind = str(values.get("kind") or "")
    sector = str(values.get("sector") or "")
    if kind not in KINDS:
        errors["kind"] = ["Scegliere il tipo di inserimento."]
    if sector not in SECTORS:
        errors["sector"] = ["Scegliere il settore del datore di lavoro o dell'ente ospitante."]
    start = _day(values.get("start_date"), "start_date", errors, required=True)
    end = _day(values.get("end_date"), "end_date", errors, required=False)
    if start is not None and end is not None and end < start:
        errors["end_date"] = ["La data di fine non può precedere quella di inizio."]
    if errors:
        raise ValidationFailed("the placement is not valid", errors)
    assert start is not None
    return Placement(kind, sector, start, end)


def may_record(rt: Runtime, case_id: str, actor: Actor) -> bool:
    """Whether this person may record placements on the case (the case file offers the action)."""
    with rt.uow(write=False) as uow:
        case = uow.instances.header(case_id)
        return case is not None and authorization.may(actor, ACTION, case)


def record_placement(rt: Runtime, case_id: str, values: Mapping[str, Any], actor: Actor) -> int:
    """Record a placement on a case whose path has started; returns its id (one transaction)."""
    placement = parse(values)
    now = rt.now()
    with rt.uow() as uow:
        case = uow.instances.header(case_id)
        if case is None or not authorization.can_see_case(actor, case):
            raise NotFound("case not found")
        authorization.require_action(actor, ACTION, case)
        record = uow.case_records.get(case_id)
        started = record["path_start_date"] if record is not None else None
        if started is None:
            raise InvalidState("a placement is recorded once the 12-month path has started")
        if placement.start_date < started:
            raise ValidationFailed("the placement starts before the path", {
                "start_date": [f"Il percorso è iniziato il {started:%d/%m/%Y}: l'inserimento non può iniziare prima."]})
        placement_id = uow.placements.add({
            "case_id": case_id, "zone": case["zone"] or "", "kind": placement.kind, "sector": placement.sector,
            "start_date": placement.start_date, "end_date": placement.end_date, "recorded_by": actor.username,
            "recorded_at": now})
        uow.audit.record(now, actor.username, "case.placement_recorded", case_id,
                         data={"placement": placement_id, "kind": placement.kind})
        uow.commit()
    return placement_id


def placements_of(rt: Runtime, case_id: str, actor: Actor) -> list[dict[str, Any]]:
    """The placements of a case the person may see."""
    with rt.uow(write=False) as uow:
        case = uow.instances.header(case_id)
        if case is None or not authorization.can_see_case(actor, case):
            raise NotFound("case not found")
        return [dict(row) for row in uow.placements.of_case(case_id)]
