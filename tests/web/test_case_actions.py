"""Acting on a case outside its tasks: allowed per action, not because one can see the case; one open case per person."""

from __future__ import annotations

import io
import re

from sqlalchemy import func, select

from gol_workflow.persistence.sealing import opened
from gol_workflow.persistence.tables import audit_events, instances

from .authorization_world import build_world
from .conftest import valid_cf

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
LAURA = {"beneficiario.codice_fiscale": valid_cf("BNCLRA85M41G713"), "beneficiario.nome": "Laura",
         "beneficiario.cognome": "Bianchi", "zona": "nord"}


def _count(rt, table, *where) -> int:
    with rt.uow(write=False) as uow:
        return uow.conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def test_a_specialist_who_sees_the_case_may_not_attach_or_ask_for_a_monitoring(web_runtime, browser) -> None:
    case_id = build_world(web_runtime)["N"]
    specialist = browser("spec.nord")
    page = specialist.text(f"/casi/{case_id}")  # they may read it
    assert "Laura Bianchi" in page and "Carica un allegato" not in page and "Segnala una modifica" not in page
    events = _count(web_runtime, audit_events, audit_events.c.instance_id == case_id)
    upload = specialist.post(f"/casi/{case_id}/allegati", {"file": (io.BytesIO(PDF), "relazione.pdf"),
                                                           "tipo": "relazione"}, content_type="multipart/form-data")
    assert upload.status_code == 403
    assert specialist.post(f"/casi/{case_id}/monitoraggio", {"motivo": "Ricaduta"}).status_code == 403
    change = {"descrizione": "Ricaduta", "conferma": "1"}
    assert specialist.post(f"/casi/{case_id}/modifica-sostanziale", change).status_code == 403
    assert specialist.post(f"/casi/{case_id}/modifica-sostanziale", {"descrizione": "Ricaduta"}).status_code == 403
    with web_runtime.uow(write=False) as uow:
        assert uow.attachments.for_instance(case_id) == []
    assert _count(web_runtime, audit_events, audit_events.c.instance_id == case_id) == events
    assert "Carica un allegato" in browser("sds.nord").text(f"/casi/{case_id}")


def test_a_second_case_for_the_same_codice_fiscale_is_refused_with_a_link_to_the_open_one(web_runtime,
                                                                                         browser) -> None:
    person, colleague = browser("cpi.nord"), browser("cpi.nord.bis")
    for who in (person, colleague):
        who.text("/casi/nuovo/caso_web")
    assert person.post("/casi/nuovo/caso_web", LAURA).status_code == 302
    again = colleague.post("/casi/nuovo/caso_web", LAURA)
    assert again.status_code == 409
    page = again.get_data(as_text=True)
    with web_runtime.uow(write=False) as uow:
        (first,) = uow.conn.execute(select(instances.c.id)).scalars()
    assert "Per questo codice fiscale c&#39;è già un caso aperto" in page
    assert f'href="/casi/{first}"' in page and "secondo_caso" not in page
    assert _count(web_runtime, instances) == 1


def test_an_administrator_may_open_a_second_case_giving_a_reason(web_runtime, browser) -> None:
    person, admin = browser("cpi.nord"), browser("admin")
    for who in (person, admin):
        who.text("/casi/nuovo/caso_web")
    assert person.post("/casi/nuovo/caso_web", LAURA).status_code == 302
    refused = admin.post("/casi/nuovo/caso_web", LAURA)
    assert refused.status_code == 409 and 'name="secondo_caso"' in refused.get_data(as_text=True)
    first = re.search(r'name="caso_aperto" value="([^"]+)"', refused.get_data(as_text=True)).group(1)
    no_reason = admin.post("/casi/nuovo/caso_web", {**LAURA, "secondo_caso": "1", "caso_aperto": first})
    assert no_reason.status_code == 400 and "Indicare il motivo del secondo caso." in no_reason.get_data(as_text=True)
    ok = admin.post("/casi/nuovo/caso_web", {**LAURA, "secondo_caso": "1", "caso_aperto": first,
                                             "motivo_secondo_caso": "Doppia presa in carico concordata"})
    assert ok.status_code == 302
    assert _count(web_runtime, instances) == 2
    with web_runtime.uow(write=False) as uow:
        started = opened(uow.conn, uow.conn.execute(
            select(audit_events).where(audit_events.c.action == "instance.started")).mappings().all())
        in_clear = uow.conn.execute(select(func.count()).select_from(audit_events).where(
            audit_events.c.data.contains("Doppia presa in carico concordata"))).scalar_one()
    assert ["Doppia presa in carico concordata" in str(e["data"]) for e in started].count(True) == 1
    assert in_clear == 0  # the reason is about the person: sealed in the log, read through the case's key
