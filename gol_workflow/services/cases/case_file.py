"""The case file read model: beneficiary, current step, history, open tasks, documents, attachments.

Every read of a case is written to the audit log with the person who read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ...domain import labels
from ...domain.errors import NotFound
from ...domain.model import Actor
from ...persistence.uow import UnitOfWork
from ..access import authorization
from ..workflow.instances import read_workflow
from ..workflow.runtime import Runtime

HISTORY_LIMIT = 500
SCHEDA_FORM = "scheda_esito.schema.json"
SCHEDA_KEYS = ("scheda_esito", "esito_equipe")

# Audit actions in Italian: one table for every page (domain/labels.py).
ACTION_LABELS = labels.ACTIONS


@dataclass
class CaseFile:
    """Everything the case page shows."""

    case: dict[str, Any]
    history: list[dict[str, Any]]
    open_tasks: list[dict[str, Any]]
    attachments: list[dict[str, Any]]
    meetings: list[dict[str, Any]]
    has_scheda: bool
    workable: set[str] = field(default_factory=set)  # ids of open tasks this person may work


def visible_case(uow: UnitOfWork, case_id: str, actor: Actor) -> dict[str, Any]:
    """The case header, or NotFound when it does not exist or the person may not see it."""
    header = uow.instances.header(case_id)
    if header is None or not authorization.can_see_case(actor, header):
        raise NotFound("case not found")
    return dict(header)


def audit_read(uow: UnitOfWork, rt: Runtime, actor: Actor, case_id: str, action: str, **details: Any) -> None:
    """Record who read what of a case (administrators' reads are marked as such)."""
    data = {k: v for k, v in details.items() if v is not None}
    if actor.is_admin:
        data["lettura_amministrativa"] = True
    uow.audit.record(rt.now(), actor.username, action, case_id, data=data or None)


def history(uow: UnitOfWork, case_id: str, limit: int = HISTORY_LIMIT) -> list[dict[str, Any]]:
    """What happened to a case, oldest first, with Italian labels."""
    rows = uow.audit.for_instance(case_id, limit)
    return [_event(row) for row in rows]


def _event(row: Mapping[str, Any]) -> dict[str, Any]:
    data = row["data"] if isinstance(row["data"], Mapping) else {}
    message = data.get("message")
    detail = (data.get("task") or (labels.message(str(message)) if message else None) or data.get("filename")
              or data.get("documento") or "")
    return {
        "at": row["at"],
        "actor": row["actor"],
        "action": row["action"],
        "label": labels.action(row["action"]),
        "detail": str(detail),
        "element_id": row["element_id"],
    }


def open_case(rt: Runtime, case_id: str, actor: Actor) -> CaseFile:
    """The case file, audited as a read."""
    with rt.uow() as uow:
        case = visible_case(uow, case_id, actor)
        events = history(uow, case_id)
        tasks = [dict(t) for t in uow.inbox_search.for_case(case_id)]
        workable = {t["id"] for t in tasks if authorization.can_work_task(actor, t, case)}
        attachments = [dict(a) for a in uow.attachments.for_instance(case_id)]
        meetings = [dict(m) for m in uow.agenda.for_case(case_id)]
        has_scheda = scheda_data(rt, uow, case) is not None
        audit_read(uow, rt, actor, case_id, "case.viewed")
        uow.commit()
    return CaseFile(case, events, tasks, attachments, meetings, has_scheda, workable)


def scheda_data(rt: Runtime, uow: UnitOfWork, case: Mapping[str, Any]) -> dict[str, Any] | None:
    """The scheda di esito of a case: the equipe's outcome as the case's data holds it."""
    data = read_workflow(rt, uow, str(case["id"]), lambda loaded: loaded.handle.data())
    for key in SCHEDA_KEYS:
        value = data.get(key)
        if isinstance(value, Mapping) and value:
            return dict(value)
    return None


@dataclass
class SchedaEsito:
    """The scheda di esito with what a printable page or PDF needs."""

    case: dict[str, Any]
    values: dict[str, Any]
    form: dict[str, Any] | None


def scheda_esito(rt: Runtime, case_id: str, actor: Actor, as_pdf: bool = False) -> SchedaEsito:
    """The scheda di esito of a case (NotFound when the equipe has not written it yet); audited."""
    with rt.uow() as uow:
        case = visible_case(uow, case_id, actor)
        values = scheda_data(rt, uow, case)
        if values is None:
            raise NotFound("the scheda di esito does not exist yet")
        version = rt.processes.get(uow, case["process_version_id"])
        form = _scheda_form(rt, uow, version.forms)
        audit_read(uow, rt, actor, case_id, "document.viewed", documento="scheda di esito", formato="pdf" if as_pdf else "html")
        uow.commit()
    return SchedaEsito(case, values, form)


def _scheda_form(rt: Runtime, uow: UnitOfWork, forms: Mapping[str, Any]) -> dict[str, Any] | None:
    """The schema of the scheda: the `scheda_esito` group of whichever form the equipe fills in."""
    found = _scheda_schema(forms)
    if found is not None:
        return found
    for row in uow.versions.latest_headers():  # the equipe form may live with the meeting process
        found = _scheda_schema(rt.processes.get(uow, int(row["id"])).forms)
        if found is not None:
            return found
    return None


def _scheda_schema(forms: Mapping[str, Any]) -> dict[str, Any] | None:
    names = sorted(forms, key=lambda name: name != SCHEDA_FORM)
    for name in names:
        prop = (forms[name].get("properties") or {}).get(SCHEDA_KEYS[0])
        if isinstance(prop, Mapping) and prop.get("type") == "object":
            return dict(prop)
    return None
