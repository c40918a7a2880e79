"""Asking for a monitoring in itinere of a Percorso 4 case, or reporting a substantial change of its project.

Both go to the case the same way: the `richiesta_monitoraggio` message the 12-month path waits
for. The process has no other way in for a change: the seed has changes to the project looked
at in a monitoring ("monitoraggio ... ogni qualvolta si renda necessario apportare modifiche"),
whose form records a substantial change and sends the case back to the equipe. A report is a
monitoring request that says so: its reason reaches the case manager in the task's instructions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ...domain.errors import Forbidden, InvalidState, NotFound, ValidationFailed
from ...domain.model import Actor, InstanceStatus
from ...engine.runner import correlation_text
from ...persistence.uow import UnitOfWork
from ..access import authorization
from ..workflow.runtime import Runtime
from ..workflow.stepping import deliver_to

MESSAGE = "richiesta_monitoraggio"
CORRELATION_KEY = "chiave_caso"
MAX_REASON = 1000
ROLE_LABELS = {
    "cpi": "Centro per l'Impiego",
    "sds": "Servizi Sociali",
    "ats": "ATS, case manager",
    "admin": "amministrazione",
    "system": "sistema",
}
NOT_WAITING = (
    "the case is not in the 12-month path waiting for a monitoring request "
    "(it is before the start of the path, in a monitoring or review already, or closed)"
)


@dataclass(frozen=True)
class MonitoringRequest:
    """The request as the case received it."""

    case_id: str
    richiesto_da: str
    motivo: str


REQUEST = "monitoraggio"
CHANGE = "modifica_sostanziale"
ACTIONS = {REQUEST: "case.request_monitoring", CHANGE: "case.report_change"}
CHANGE_PREFIX = "Segnalata una modifica sostanziale del progetto: "


def _case(uow: UnitOfWork, case_id: str, actor: Actor, action: str = ACTIONS[REQUEST]) -> Mapping[str, Any]:
    case = uow.instances.header(case_id)
    if case is None or not authorization.can_see_case(actor, case):
        raise NotFound("case not found")  # existence is not revealed to those who may not see it
    if not authorization.may(actor, action, case):
        raise Forbidden("only the CPI and the social services of the zone, or the case manager, may do this")
    return case


def waits(uow: UnitOfWork, case: Mapping[str, Any]) -> bool:
    """Whether the case is in its 12-month path waiting for a monitoring request (or a change report)."""
    return _waits(uow, case)


def _waits(uow: UnitOfWork, case: Mapping[str, Any]) -> bool:
    correlation = correlation_text({CORRELATION_KEY: {"case_id": str(case["id"])}})
    running = case["status"] in (InstanceStatus.RUNNING, InstanceStatus.WAITING)
    return running and str(case["id"]) in uow.instances.subscribers(MESSAGE, correlation)


def _requester(uow: UnitOfWork, actor: Actor) -> str:
    user = uow.users.by_username(actor.username)
    name = (user["full_name"] if user is not None else None) or actor.username
    return f"{name} ({ROLE_LABELS.get(actor.role, actor.role)})"


def can_request(rt: Runtime, case_id: str, actor: Actor) -> bool:
    """True when this person may ask for a monitoring of this case now (to show the action or not)."""
    with rt.uow(write=False) as uow:
        try:
            case = _case(uow, case_id, actor)
        except (NotFound, Forbidden):
            return False
        return _waits(uow, case)


def request_monitoring(rt: Runtime, case_id: str, motivo: str, actor: Actor) -> MonitoringRequest:
    """Send `richiesta_monitoraggio` to a case in its 12-month path; refused (never kept) otherwise."""
    return _send(rt, case_id, _reason(motivo, "motivo", "Indicare il motivo della richiesta."), actor, REQUEST)


def report_change(rt: Runtime, case_id: str, descrizione: str, actor: Actor) -> MonitoringRequest:
    """Report a substantial change of the project: a monitoring request that says so (same message, same rules)."""
    text = _reason(descrizione, "descrizione", "Descrivere la modifica sostanziale.",
                   MAX_REASON - len(CHANGE_PREFIX))
    return _send(rt, case_id, text, actor, CHANGE)


def _reason(text: str, field_name: str, missing: str, limit: int = MAX_REASON) -> str:
    reason = (text or "").strip()
    if not reason:
        raise ValidationFailed(f"{field_name} mancante", {field_name: [missing]})
    if len(reason) > limit:
        raise ValidationFailed(f"{field_name} troppo lungo", {field_name: [f"Inserire al massimo {limit} caratteri."]})
    return reason


def _send(rt: Runtime, case_id: str, reason: str, actor: Actor, kind: str) -> MonitoringRequest:
    now = rt.now()
    with rt.uow() as uow:
        case = _case(uow, case_id, actor, ACTIONS[kind])
        if not _waits(uow, case):
            raise InvalidState(NOT_WAITING)
        motivo = CHANGE_PREFIX + reason if kind == CHANGE else reason
        request = MonitoringRequest(str(case["id"]), _requester(uow, actor), motivo)
        payload = {"case_id": request.case_id, "richiesto_da": request.richiesto_da, "motivo": request.motivo}
        deliver_to(rt, uow, request.case_id, MESSAGE, payload, now, actor, hops=0,
                   audit={"richiesta": kind, "motivo": reason})
        uow.commit()
    return request
