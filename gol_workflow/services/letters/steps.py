"""When letters are written: the service tasks of Percorso 4 and the convening of an equipe meeting."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from ...forms.summary import text_of
from ...persistence.uow import UnitOfWork
from ..cases.project import SCHEDA_FORM, case_form
from ..workflow.runtime import Runtime, ServiceCall
from .issuing import cpi_of, issue, italian_moment, moment_of



def lettera_esito(call: ServiceCall) -> dict[str, Any]:
    """Operator: the letter telling the person the equipe's decision, whatever it is."""
    rt, data = call.runtime, call.data
    case_id = str(data.get("case_id") or call.instance_id)
    scheda = data.get("scheda_esito") if isinstance(data.get("scheda_esito"), Mapping) else {}
    tz = ZoneInfo(rt.settings.timezone)
    meeting = moment_of(data.get("data_equipe"), tz)
    decision = str(scheda.get("decisione") or "")
    form = case_form(rt, call.uow, call.instance_id, SCHEDA_FORM)
    inner = (form.get("properties") or {}).get("scheda_esito") or {}
    misure_schema = (inner.get("properties") or {}).get("misure") or {}
    misure = text_of(scheda.get("misure"), misure_schema) if scheda.get("misure") else ""
    context = {"decisione": decision, "quando": f"il {italian_moment(meeting)}" if meeting else "",
               "misure": misure, "motivazione": str(scheda.get("motivazione") or "")}
    issued = issue(rt, call.uow, call.now, case_id, data, "lettera_esito", context,
                   key=f"{data.get('data_equipe')}|{decision}")
    return {"lettera_id": issued.id, "per_email": issued.emailed}


def lettera_appuntamento(call: ServiceCall) -> dict[str, Any]:
    """Operator: the letter with the first appointment: date, time, place, case manager, whom to ask."""
    rt, data = call.runtime, call.data
    case_id = str(data.get("case_id") or call.instance_id)
    tz = ZoneInfo(rt.settings.timezone)
    slot = moment_of(data.get("data_primo_appuntamento"), tz)
    manager = str(data.get("case_manager") or "")
    account = call.uow.users.by_username(manager) if manager else None
    zone = rt.zones.get(str(data.get("zona") or ""))
    cpi = cpi_of(zone)
    place = str(data.get("luogo_appuntamento") or "").strip() or ", ".join(p for p in (cpi.name, cpi.address) if p)
    context = {"quando": italian_moment(slot) if slot else "", "luogo": place,
               "case_manager": (account["full_name"] if account and account["full_name"] else manager)}
    issued = issue(rt, call.uow, call.now, case_id, data, "lettera_appuntamento", context,
                   key=str(data.get("data_primo_appuntamento")))
    return {"lettera_id": issued.id, "per_email": issued.emailed}


def convene_people(rt: Runtime, uow: UnitOfWork, now: datetime, zone_id: str, starts: datetime, place: str,
                   cases: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Convocation letters for the people on a meeting's agenda who take part (not known to the Social Service)."""
    issued = []
    when = italian_moment(starts.astimezone(ZoneInfo(rt.settings.timezone)))
    for case_id, item in cases.items():
        if item.get("conosciuto_servizio_sociale") is not False:
            continue
        data = {**item, "zona": zone_id}
        letter = issue(rt, uow, now, str(item.get("case_id") or case_id), data, "lettera_convocazione",
                       {"quando": when, "luogo": place or "la sede dell'equipe"}, key=starts.isoformat())
        issued.append(letter.id)
    return issued


def install_letters(rt: Runtime) -> None:
    """Register the letter operators."""
    rt.connectors["lettera_esito"] = lettera_esito
    rt.connectors["lettera_appuntamento"] = lettera_appuntamento
