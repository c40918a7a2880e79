"""The IDOL service tasks of Percorso 4: book the first appointment, share the scheda di esito.

Each step writes the service's own record and tells IDOL inside one savepoint: when IDOL
fails, nothing of the step stays behind, the instance goes to `error` on the element, and
the scheduler retries it with back-off (then an administrator can retry it).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from ...domain.model import SYSTEM
from ...persistence.uow import UnitOfWork
from ..meetings import ats_agenda
from ..cases import scheda_document
from ..workflow.form_checks import register_form_check
from ..workflow.form_options import register_option_source
from .idol import (
    AppointmentRequest,
    DocumentUpload,
    IdolError,
    IdolRefused,
    connector_of,
    install_connector,
)
from .idol_http import connector_from_settings
from ..workflow.runtime import Runtime, ServiceCall

SCHEDA_KIND = "scheda_esito"
SCHEDA_FORM = "scheda_esito.schema.json"
BOOKING_FORM = "prenota_primo_appuntamento.schema.json"
MEETING_PROCESS = "riunione_equipe"
SCHEDA_IDS = uuid.UUID("0b7e4a52-58a4-4d0c-9a3e-6c2f9d1e8b27")  # namespace of scheda attachment ids


def _person(data: Mapping[str, Any]) -> dict[str, str]:
    person = data.get("beneficiario")
    if not isinstance(person, Mapping):
        raise IdolError("the case has no beneficiario")
    return {k: str(person.get(k) or "") for k in ("codice_fiscale", "nome", "cognome")}


def idol_prenota_appuntamento(call: ServiceCall) -> dict[str, Any]:
    """Operator: record the first appointment in the ATS agenda and book it on IDOL."""
    rt, uow, data = call.runtime, call.uow, call.data
    case_id = str(data.get("case_id") or call.instance_id)
    zone = ats_agenda.zone_or_refuse(rt, data.get("zona"))
    slot = ats_agenda.parse_slot(data.get("slot_appuntamento"))
    manager = str(data.get("case_manager") or "")
    person = _person(data)
    connector = connector_of(rt)
    tz = ZoneInfo(rt.settings.timezone)
    with _reported(uow, call.now, case_id, "appuntamento", ""), uow.savepoint():
        booking_id = ats_agenda.book(rt, uow, zone, case_id, manager, slot, call.now)
        request = AppointmentRequest(booking_id, case_id, zone.id, person["codice_fiscale"], person["nome"],
                                     person["cognome"], manager, slot.astimezone(tz))
        appointment_id = connector.book_appointment(request)
        uow.audit.record(call.now, SYSTEM.username, "idol.appointment_booked", case_id,
                         data={"appuntamento": appointment_id, "case_manager": manager,
                               "slot": slot.astimezone(tz).isoformat(), "connettore": connector.name})
    return {
        "appuntamento_id": appointment_id,
        "data_primo_appuntamento": slot.astimezone(tz).isoformat(),
        "case_manager": manager,
    }


def idol_carica_scheda_esito(call: ServiceCall) -> dict[str, Any]:
    """Operator: attach the scheda di esito to the case as a PDF and upload it to IDOL, whatever the decision."""
    rt, uow, data = call.runtime, call.uow, call.data
    case_id = str(data.get("case_id") or call.instance_id)
    scheda = data.get("scheda_esito")
    if not isinstance(scheda, Mapping) or not scheda:
        raise IdolError("the case has no scheda_esito to share")
    person = _person(data)
    tz = ZoneInfo(rt.settings.timezone)
    zone = rt.zones.get(str(data.get("zona")))
    header = scheda_document.SchedaHeader(
        beneficiary=f"{person['nome']} {person['cognome']}".strip(),
        codice_fiscale=person["codice_fiscale"],
        zone=zone.name if zone else str(data.get("zona") or ""),
        meeting_at=_moment(data.get("data_equipe")),
    )
    content = scheda_document.render_pdf(header, scheda, _scheda_schema(rt, uow, call.instance_id), tz)
    filename = scheda_document.filename_for(header, tz)
    connector = connector_of(rt)
    decision = str(scheda.get("decisione") or "")
    with _reported(uow, call.now, case_id, "scheda_esito", decision), uow.savepoint():
        attachment_id = _attach(uow, case_id, filename, content, call.now)
        upload = DocumentUpload(attachment_id, case_id, str(data.get("zona") or ""), person["codice_fiscale"],
                                SCHEDA_KIND, filename, "application/pdf", content, hashlib.sha256(content).hexdigest(),
                                decision=decision,
                                meeting_at=str(data.get("data_equipe") or ""))
        document_id = connector.upload_document(upload)
        uow.audit.record(call.now, SYSTEM.username, "idol.document_uploaded", case_id,
                         data={"documento": document_id, "allegato": attachment_id, "filename": filename,
                               "decisione": upload.decision, "connettore": connector.name})
    return {"documento_id": document_id}


@contextmanager
def _reported(uow: UnitOfWork, now: datetime, case_id: str, what: str, decision: str) -> Iterator[None]:
    """Put a failed exchange with IDOL on the case file (the step's own writes are undone, this stays)."""
    try:
        yield
    except IdolRefused as exc:
        uow.audit.record(now, SYSTEM.username, "idol.refused", case_id,
                         data={"oggetto": what, "decisione": decision or None, "stato_http": exc.status,
                               "motivo": exc.detail or None})
        raise
    except IdolError as exc:
        uow.audit.record(now, SYSTEM.username, "idol.failed", case_id,
                         data={"oggetto": what, "decisione": decision or None, "motivo": exc.detail or None})
        raise


def _moment(value: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo else None


def _scheda_schema(rt: Runtime, uow: UnitOfWork, instance_id: str) -> Mapping[str, Any]:
    """The scheda's part of the equipe form: from the case's version, else the meeting process's."""
    header = uow.instances.header(instance_id)
    forms = rt.processes.get(uow, header["process_version_id"]).forms if header else {}
    form = forms.get(SCHEDA_FORM)
    if form is None:
        latest = uow.versions.latest_id(MEETING_PROCESS)
        form = rt.processes.get(uow, latest).forms.get(SCHEDA_FORM) if latest is not None else None
    inner = ((form or {}).get("properties") or {}).get("scheda_esito")
    return inner if isinstance(inner, Mapping) else {}


def _attach(uow: UnitOfWork, case_id: str, filename: str, content: bytes, now: datetime) -> str:
    """The attachment holding this exact scheda (a retried step reuses it), else a new one."""
    digest = hashlib.sha256(content).hexdigest()
    for row in uow.attachments.for_instance(case_id):
        if row["kind"] == SCHEDA_KIND and row["sha256"] == digest:
            return str(row["id"])
    attachment_id = str(uuid.uuid5(SCHEDA_IDS, f"{case_id}|{digest}"))  # stable: one idempotency key per scheda
    uow.attachments.add({
        "id": attachment_id, "instance_id": case_id, "kind": SCHEDA_KIND, "filename": filename,
        "content_type": "application/pdf", "size": len(content), "sha256": digest, "content": content,
        "uploaded_by": SYSTEM.username, "uploaded_at": now,
    })
    return attachment_id


def install_idol(rt: Runtime) -> None:
    """Register the IDOL operators, the configured connector, the booking form's choices and its check."""
    rt.connectors["idol_prenota_appuntamento"] = idol_prenota_appuntamento
    rt.connectors["idol_carica_scheda_esito"] = idol_carica_scheda_esito
    install_connector(rt, connector_from_settings(rt.settings))
    register_option_source(rt, "ats_slot", ats_agenda.ats_slot_options)
    register_option_source(rt, "case_manager", ats_agenda.case_manager_options)
    register_form_check(rt, BOOKING_FORM, ats_agenda.check_booking_form)
