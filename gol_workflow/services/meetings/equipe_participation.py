"""The equipe decides together: who must take part in a scheda di esito, and each participant's confirmation."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ...domain.model import Actor
from ...persistence.uow import UnitOfWork
from ..workflow.completion_records import register_completion_record
from ..workflow.form_checks import FieldErrors, register_form_check
from ..workflow.form_options import OptionContext
from ..workflow.runtime import Runtime

SCHEDA_FORM = "scheda_esito.schema.json"
CONFIRMATION_FORM = "conferma_decisione.schema.json"
CPI, SOCIAL_SERVICES = "centro_impiego", "servizio_sociale"
PARTICIPANT_NAMES = {CPI: "Centro per l'Impiego", SOCIAL_SERVICES: "Servizio Sociale"}
PRESENT = "scheda_esito.servizi_presenti"
INVITED = "scheda_esito.servizi_specialistici_invitati"


def participant_name(rt: Runtime, zone_id: str | None, participant: str) -> str:
    """A participant as operators name it: the CPI, the Social Services, or the zone's name of the service."""
    if participant in PARTICIPANT_NAMES:
        return PARTICIPANT_NAMES[participant]
    zone = rt.zones.get(str(zone_id)) if zone_id else None
    service = zone.service(participant) if zone is not None else None
    return service.name if service is not None else participant


def check_scheda(rt: Runtime, uow: UnitOfWork, data: Mapping[str, Any], ctx: OptionContext) -> FieldErrors:
    """CPI and the zone's Social Services took part; every invited specialist service is present or excused."""
    scheda = data.get("scheda_esito") if isinstance(data.get("scheda_esito"), Mapping) else {}
    present = set(scheda.get("servizi_presenti") or [])
    errors: FieldErrors = {}
    for required in (CPI, SOCIAL_SERVICES):
        if required not in present:
            errors.setdefault(PRESENT, []).append(
                f"Senza il {PARTICIPANT_NAMES[required]} la scheda non è valida: "
                "l'equipe decide insieme al Centro per l'Impiego e al Servizio Sociale della zona.")
    zone = ctx.zone or (ctx.case or {}).get("zone")
    invited = [str(s) for s in ((ctx.case or {}).get("specialist_services") or [])]
    declared = [e for e in (scheda.get("servizi_specialistici_invitati") or []) if isinstance(e, Mapping)]
    named = {str(e.get("servizio")) for e in declared}
    for service in invited:
        if service not in named:
            errors.setdefault(INVITED, []).append(
                f"{participant_name(rt, zone, service)} è invitato per questo caso: indicare se era presente "
                "o ha dichiarato la propria assenza.")
    for service in sorted(named - set(invited)):
        errors.setdefault(INVITED, []).append(
            f"{participant_name(rt, zone, service)} non è invitato per questo caso.")
    if len(named) != len(declared):
        errors.setdefault(INVITED, []).append("Ogni servizio invitato va indicato una sola volta.")
    return errors


def record_scheda(rt: Runtime, uow: UnitOfWork, task: Mapping[str, Any], data: Mapping[str, Any], actor: Actor,
                  now: datetime) -> None:
    """The case's history shows who took part according to the drafted scheda."""
    scheda = data.get("scheda_esito") if isinstance(data.get("scheda_esito"), Mapping) else {}
    present = [PARTICIPANT_NAMES.get(p, p) for p in scheda.get("servizi_presenti") or []
               if p in PARTICIPANT_NAMES]
    invited = [e for e in scheda.get("servizi_specialistici_invitati") or [] if isinstance(e, Mapping)]
    present += [participant_name(rt, task.get("zone"), str(e.get("servizio"))) for e in invited if e.get("presente")]
    absent = [participant_name(rt, task.get("zone"), str(e.get("servizio"))) for e in invited if not e.get("presente")]
    summary = "Partecipanti: " + ", ".join(present) + (f"; assenza dichiarata: {', '.join(absent)}" if absent else "")
    uow.audit.record(now, actor.username, "equipe.scheda_drafted", str(task["case_id"]), str(task["id"]),
                     str(task["element_id"]),
                     data={"task": summary, "decisione": scheda.get("decisione"), "partecipanti": present,
                           "assenti": absent, "discussione": task["instance_id"]})


def record_confirmation(rt: Runtime, uow: UnitOfWork, task: Mapping[str, Any], data: Mapping[str, Any],
                        actor: Actor, now: datetime) -> None:
    """The case's history shows each participant's confirmation or dissent, with its reason."""
    answer = data.get("conferma_partecipante") if isinstance(data.get("conferma_partecipante"), Mapping) else {}
    name = participant_name(rt, task.get("zone"), str(task.get("participant") or ""))
    agreed = answer.get("esito") == "conferma"
    reason = answer.get("motivazione")
    summary = f"{name}: conferma la decisione" if agreed else f"{name}: dissenso – {reason}"
    uow.audit.record(now, actor.username, "equipe.confirmed" if agreed else "equipe.dissented",
                     str(task["case_id"]), str(task["id"]), str(task["element_id"]),
                     data={"task": summary, "partecipante": task.get("participant"), "motivazione": reason,
                           "discussione": task["instance_id"]})


def install_participation(rt: Runtime) -> None:
    """Register the scheda's participation check and the records of drafting and confirming."""
    register_form_check(rt, SCHEDA_FORM, check_scheda)
    register_completion_record(rt, SCHEDA_FORM, record_scheda)
    register_completion_record(rt, CONFIRMATION_FORM, record_confirmation)
