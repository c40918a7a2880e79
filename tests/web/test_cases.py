"""The case file: history, open tasks, scheda di esito as page and PDF, attachments checked by content."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader
from sqlalchemy import event, select

from gol_workflow.persistence.tables import audit_events
from gol_workflow.services.cases import attachments
from gol_workflow.services.workflow import tasks as task_service

from .conftest import actor_of, ready, start_case

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _through_equipe(rt) -> str:
    case_id = start_case(rt, "nord")
    task_service.complete_task(rt, ready(rt, case_id)[0]["id"],
                               {"bisogni_particolari": True, "servizi_specialistici": ["salute_mentale"],
                                "case_manager": "ats.nord", "data_colloquio": "2026-01-07"},
                               actor_of("cpi.nord"), options={"case_manager": ["ats.nord"],
                                                              "servizi_specialistici": ["salute_mentale"]})
    task_service.complete_task(rt, ready(rt, case_id)[0]["id"],
                               {"scheda_esito": {"percorso": "tirocinio", "obiettivi": "Autonomia negli spostamenti; tirocinio in cooperativa."}},
                               actor_of("sds.nord"))
    return case_id


def test_case_file_shows_history_and_open_tasks(web_runtime, browser) -> None:
    case_id = _through_equipe(web_runtime)
    page = browser("sds.nord").text(f"/casi/{case_id}")
    assert "Laura Bianchi" in page and "Primo colloquio ATS" in page
    assert "Caso aperto" in page and "Attività completata" in page and "Valutazione in equipe" in page
    assert "Ats Nord" in page and "Salute mentale adulti" in page and "salute_mentale" not in page
    with web_runtime.uow(write=False) as uow:
        reads = [e for e in uow.audit.for_instance(case_id) if e["action"] == "case.viewed"]
    assert reads[-1]["actor"] == "sds.nord"


def test_case_file_opens_the_sealed_history_with_the_key_read_beside_the_case(web_runtime, browser) -> None:
    """The key comes with the case's own row: the sealed outcome reads, and the read is sealed under that key."""
    case_id = _through_equipe(web_runtime)
    person = browser("sds.nord")
    sent: list[str] = []

    def note(conn, cursor, statement, *_) -> None:  # type: ignore[no-untyped-def]
        sent.append(" ".join(statement.split()))

    event.listen(web_runtime.db, "before_cursor_execute", note)
    try:
        page = person.text(f"/casi/{case_id}")
    finally:
        event.remove(web_runtime.db, "before_cursor_execute", note)
    assert "Autonomia negli spostamenti" in page
    assert not [s for s in sent if s.startswith("SELECT") and "FROM subject_keys" in s]
    with web_runtime.db.connect() as conn:
        subjects = {r[0] for r in conn.execute(select(audit_events.c.subject)
                                               .where(audit_events.c.instance_id == case_id))}
    assert len(subjects) == 1 and None not in subjects


def test_admin_reads_are_marked_in_the_audit_log(web_runtime, browser) -> None:
    case_id = start_case(web_runtime, "nord")
    browser("admin").text(f"/casi/{case_id}")
    with web_runtime.uow(write=False) as uow:
        read = [e for e in uow.audit.for_instance(case_id) if e["action"] == "case.viewed"][-1]
    assert read["actor"] == "admin" and read["data"]["lettura_amministrativa"] is True


def test_scheda_di_esito_printable_and_pdf(web_runtime, browser) -> None:
    case_id = _through_equipe(web_runtime)
    person = browser("ats.nord")
    page = person.text(f"/casi/{case_id}/scheda-esito")
    assert "Tirocinio di inclusione" in page and "Autonomia negli spostamenti" in page
    response = person.get(f"/casi/{case_id}/scheda-esito.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages)
    assert "Scheda di esito" in text and "Laura Bianchi" in text and "Tirocinio di inclusione" in text
    with web_runtime.uow(write=False) as uow:
        formats = [e["data"].get("formato") for e in uow.audit.for_instance(case_id) if e["action"] == "document.viewed"]
    assert formats == ["html", "pdf"]


def test_scheda_before_the_equipe_is_not_found(web_runtime, browser) -> None:
    case_id = start_case(web_runtime, "nord")
    assert browser("cpi.nord").get(f"/casi/{case_id}/scheda-esito.pdf").status_code == 404


def test_attachment_upload_and_download(web_runtime, browser) -> None:
    case_id = start_case(web_runtime, "nord")
    person = browser("cpi.nord")
    person.text(f"/casi/{case_id}")
    response = person.post(f"/casi/{case_id}/allegati", {"file": (io.BytesIO(PDF), "relazione sociale.pdf"),
                                                         "tipo": "relazione"}, content_type="multipart/form-data")
    assert response.status_code == 302
    page = person.text(f"/casi/{case_id}")
    assert "Allegato caricato." in page and "relazione sociale.pdf" in page
    with web_runtime.uow(write=False) as uow:
        attachment = uow.attachments.for_instance(case_id)[0]
    download = person.get(f"/casi/{case_id}/allegati/{attachment['id']}")
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert browser("cpi.sud").get(f"/casi/{case_id}/allegati/{attachment['id']}").status_code == 404


@pytest.mark.parametrize(("content", "name", "message"), [
    (b"MZ\x90\x00" + b"\x00" * 60, "documento.pdf", "Tipo di file non ammesso"),
    (b"<html><script>alert(1)</script></html>", "pagina.pdf", "Tipo di file non ammesso"),
    (PNG, "foto.pdf", "non corrisponde alla sua estensione"),
    (b"", "vuoto.pdf", "Il file è vuoto."),
])
def test_attachment_type_is_checked_by_content(web_runtime, browser, content, name, message) -> None:
    case_id = start_case(web_runtime, "nord")
    person = browser("cpi.nord")
    person.text(f"/casi/{case_id}")
    person.post(f"/casi/{case_id}/allegati", {"file": (io.BytesIO(content), name)}, content_type="multipart/form-data")
    assert message in person.text(f"/casi/{case_id}")
    with web_runtime.uow(write=False) as uow:
        assert list(uow.attachments.for_instance(case_id)) == []


def test_attachment_too_large_is_refused(web_runtime, browser, monkeypatch) -> None:
    monkeypatch.setattr(attachments, "MAX_BYTES", 100_000)  # the test client spools bigger bodies to files
    case_id = start_case(web_runtime, "nord")
    person = browser("cpi.nord")
    person.text(f"/casi/{case_id}")
    big = PDF + b"0" * 150_000
    person.post(f"/casi/{case_id}/allegati", {"file": (io.BytesIO(big), "grande.pdf")}, content_type="multipart/form-data")
    assert "Il file supera i 10 MB consentiti." in person.text(f"/casi/{case_id}")
    with web_runtime.uow(write=False) as uow:
        assert list(uow.attachments.for_instance(case_id)) == []
