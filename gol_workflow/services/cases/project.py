"""The individual project follows the scheda di esito: it starts from it, and is printed for the person to sign."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from ...domain.model import SYSTEM
from ...forms.summary import rows, text_of
from ...persistence.uow import UnitOfWork
from ..letters import document
from ..letters.issuing import moment_of, person_of, slug
from ..workflow.runtime import Runtime, ServiceCall

PROJECT_KIND = "progetto_da_firmare"
PROJECT_FORM = "progetto_individualizzato.schema.json"
SCHEDA_FORM = "scheda_esito.schema.json"
MEETING_PROCESS = "riunione_equipe"
AREAS = (("inclusione_sociale", "obiettivo_inclusione_sociale", "Obiettivi di inclusione sociale"),
         ("occupabilita", "obiettivo_occupabilita", "Obiettivi di occupabilità"),
         ("inserimento_lavorativo", "obiettivo_inserimento_lavorativo", "Obiettivi di inserimento lavorativo"))
PROJECT_IDS = uuid.UUID("8c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f")  # namespace of printed project ids
# The fields of the project printed for signature, in the form's order (the form decides the labels).
PRINTED = ("data_sottoscrizione_progetto", "obiettivi", "attivita", "aree_non_applicabili", "misure_non_attivate",
           "impegni_beneficiario", "sostegni_servizi", "note_progetto", "modifiche_concordate")


def case_form(rt: Runtime, uow: UnitOfWork, instance_id: str, name: str) -> Mapping[str, Any]:
    """A form of the case's version (the scheda: of the meeting process when the case's version lacks it)."""
    header = uow.instances.header(instance_id)
    form = rt.processes.get(uow, header["process_version_id"]).forms.get(name) if header else None
    if form is None and name == SCHEDA_FORM:
        latest = uow.versions.latest_id(MEETING_PROCESS)
        form = rt.processes.get(uow, latest).forms.get(name) if latest is not None else None
    return form or {}


def from_scheda(scheda: Mapping[str, Any], misure_schema: Mapping[str, Any]) -> dict[str, Any]:
    """What the project starts from: the equipe's measures and the objectives of each area, and a text to show."""
    misure = [str(m) for m in scheda.get("misure") or []]
    lines = [f"Misure: {text_of(misure, misure_schema)}." if misure else "Misure: nessuna indicata."]
    obiettivi = []
    for area, field, title in AREAS:
        text = " ".join(str(scheda.get(field) or "").split())
        lines.append(f"{title}: {text or 'nessuno indicato'}.")
        if text:
            obiettivi.append({"ambito": area, "obiettivo": text[:500], "risultato_atteso": ""})
    return {"indicazioni": " ".join(lines), "misure": misure, "obiettivi": obiettivi}


def progetto_dalla_scheda(call: ServiceCall) -> dict[str, Any]:
    """Operator: the scheda's measures and objectives for the project form."""
    scheda = call.data.get("scheda_esito")
    scheda = scheda if isinstance(scheda, Mapping) else {}
    form = case_form(call.runtime, call.uow, call.instance_id, SCHEDA_FORM)
    inner = (form.get("properties") or {}).get("scheda_esito") or {}
    misure_schema = (inner.get("properties") or {}).get("misure") or {}
    return from_scheda(scheda, misure_schema)


def progetto_da_firmare(call: ServiceCall) -> dict[str, Any]:
    """Operator: the project as a PDF for the person to sign, attached to the case (once per content)."""
    rt, uow, data = call.runtime, call.uow, call.data
    case_id = str(data.get("case_id") or call.instance_id)
    tz = ZoneInfo(rt.settings.timezone)
    schema = case_form(rt, uow, call.instance_id, PROJECT_FORM)
    person = person_of(data)
    zone = rt.zones.get(str(data.get("zona") or ""))
    manager = str(data.get("case_manager") or "")
    account = uow.users.by_username(manager) if manager else None
    end = moment_of(data.get("data_fine_percorso"), tz)
    values = {k: data[k] for k in PRINTED if data.get(k) not in (None, "", [])}
    header = [("Beneficiario", f"{person['nome']} {person['cognome']}".strip()),
              ("Codice fiscale", person["codice_fiscale"]), ("Zona", zone.name if zone else str(data.get("zona") or "")),
              ("Case manager", account["full_name"] if account and account["full_name"] else manager),
              ("Fine del percorso", f"{end:%d/%m/%Y}" if end else "—"),
              ("Indicazioni della scheda di esito", str(data.get("indicazioni_scheda") or "—"))]
    created = _created(data, tz)
    content = document.render_sheet(
        "Progetto individualizzato (patto)", "GOL Percorso 4 «Lavoro e Inclusione» – da firmare", header,
        rows(values, {"properties": {k: v for k, v in (schema.get("properties") or {}).items() if k in PRINTED}}),
        ["Firma del beneficiario ________________________________",
         "Firma del case manager ________________________________", "Data ____________________"], created)
    digest = hashlib.sha256(content).hexdigest()
    document_id = str(uuid.uuid5(PROJECT_IDS, f"{case_id}|{digest}"))
    if uow.attachments.get(document_id) is None:
        day = str(data.get("data_sottoscrizione_progetto") or f"{call.now.astimezone(tz):%Y-%m-%d}")
        filename = f"progetto-{slug(person['cognome'] + ' ' + person['nome'])}-{day[:10]}.pdf"
        uow.attachments.add({
            "id": document_id, "instance_id": case_id, "kind": PROJECT_KIND, "filename": filename,
            "content_type": "application/pdf", "size": len(content), "sha256": digest, "content": content,
            "uploaded_by": SYSTEM.username, "uploaded_at": call.now,
        })
        uow.audit.record(call.now, SYSTEM.username, "project.printed", case_id,
                         data={"allegato": document_id, "filename": filename})
    return {"documento_id": document_id}


def _created(data: Mapping[str, Any], tz: ZoneInfo) -> datetime:
    """The signing date as the PDF's date, so the same project always gives the same bytes."""
    try:
        return datetime.fromisoformat(str(data.get("data_sottoscrizione_progetto"))[:10]).replace(tzinfo=tz)
    except ValueError:
        return datetime(2000, 1, 1, tzinfo=tz)


def install_project(rt: Runtime) -> None:
    """Register the project operators."""
    rt.connectors["progetto_dalla_scheda"] = progetto_dalla_scheda
    rt.connectors["progetto_da_firmare"] = progetto_da_firmare
