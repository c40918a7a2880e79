"""The data subject's rights over the API and the admin console: the art. 15 archive, the accesses, unusual reading."""

from __future__ import annotations

import io
import json
import zipfile

from gol_workflow.services.administration import subject_access
from gol_workflow.services.cases import attachments
from gol_workflow.services.workflow import tasks as task_service
from tests.api.conftest import assert_problem
from tests.conftest import ADMIN
from tests.web.conftest import actor_of, ready, start_case, valid_cf

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
CF = valid_cf("LCCGNV85M41G713")
PROFILE = {"bisogni_particolari": True, "servizi_specialistici": ["salute_mentale"], "case_manager": "ats.nord",
           "data_colloquio": "2026-01-07"}


def _person_with_a_case(rt) -> str:
    case_id = start_case(rt, "nord", nome="Ginevra", cognome="Lucchesi", prefix="LCCGNV85M41G713")
    task_service.complete_task(rt, ready(rt, case_id)[0]["id"], PROFILE, actor_of("cpi.nord"),
                               options={"case_manager": ["ats.nord"], "servizi_specialistici": ["salute_mentale"]})
    attachments.upload(rt, case_id, "relazione.pdf", PDF, "relazione", actor_of("cpi.nord"))
    return case_id


def test_the_art_15_archive_holds_cases_data_documents_and_who_read_them(api, api_runtime) -> None:
    case_id = _person_with_a_case(api_runtime)
    assert api("sds.nord").get(f"/api/v1/cases/{case_id}").status_code == 200  # a read that must be reported
    response = api("admin").get(f"/api/v1/people/{CF.lower()}/export")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    names = archive.namelist()
    assert {"leggimi.txt", "dati.json"} <= set(names)
    [document] = [n for n in names if n.startswith("allegati/")]
    assert archive.read(document) == PDF
    data = json.loads(archive.read("dati.json"))
    [case] = data["casi"]
    assert case["id"] == case_id and case["dati"]["beneficiario"]["cognome"] == "Lucchesi"
    assert case["dati"]["case_manager"] == "ats.nord"
    who_did = {(e["actor"], e["action"]) for e in data["eventi"]}
    assert {("cpi.nord", "instance.started"), ("cpi.nord", "task.completed"), ("cpi.nord", "attachment.uploaded"),
            ("sds.nord", "case.viewed")} <= who_did
    text = archive.read("leggimi.txt").decode()
    assert CF in text and "Fascicolo consultato" in text and "Ginevra" in text


def test_the_accesses_list_reads_and_changes_and_records_the_export_itself(api, api_runtime) -> None:
    case_id = _person_with_a_case(api_runtime)
    api("sds.nord").get(f"/api/v1/cases/{case_id}")
    api("admin").get(f"/api/v1/people/{CF}/export")
    body = api("admin").get(f"/api/v1/people/{CF}/accesses").get_json()
    kinds = {(item["actor"], item["action"], item["kind"]) for item in body["items"]}
    assert ("sds.nord", "case.viewed", "lettura") in kinds and ("cpi.nord", "task.completed", "modifica") in kinds
    assert ("admin", "person.exported", "lettura") in kinds
    assert body["total"] == len(body["items"]) and body["items"][0]["at"] >= body["items"][-1]["at"]
    assert {item["actor_name"] for item in body["items"] if item["actor"] == "sds.nord"} == {"Sds Nord"}


def test_only_administrators_and_a_valid_codice_fiscale(api, api_runtime) -> None:
    _person_with_a_case(api_runtime)
    assert_problem(api("cpi.nord").get(f"/api/v1/people/{CF}/export"), 403)
    assert_problem(api("cpi.nord").get(f"/api/v1/people/{CF}/accesses"), 403)
    body = assert_problem(api("admin").get("/api/v1/people/NONVALIDO/accesses"), 400, "validation-failed")
    assert "codice_fiscale" in body["errors"]


def test_the_console_page_lists_accesses_downloads_and_flags_reading_outside_ones_zones(app, api_runtime) -> None:
    from tests.web.conftest import Browser, PASSWORD

    case_id = _person_with_a_case(api_runtime)
    with api_runtime.uow() as uow:  # an operator of sud reading a nord case, as after a change of assignment
        uow.audit.record(api_runtime.now(), "cpi.sud", "case.viewed", case_id)
        uow.commit()
    admin = Browser(app.test_client())
    assert admin.post("/accesso", {"username": "admin", "password": PASSWORD}).status_code == 302
    page = admin.text(f"/admin/protezione-dati?codice_fiscale={CF}")
    assert "Chi ha letto o modificato i dati" in page and "Cpi Sud" in page
    assert 'data-operatore="cpi.sud"' in page and 'data-operatore="cpi.nord"' not in page
    download = admin.post("/admin/protezione-dati/archivio", {"codice_fiscale": CF})
    assert download.status_code == 200 and download.mimetype == "application/zip"
    assert "Codice fiscale non valido" in admin.text("/admin/protezione-dati?codice_fiscale=XYZ")
    operator = Browser(app.test_client())
    operator.post("/accesso", {"username": "cpi.nord", "password": PASSWORD})
    assert operator.get(f"/admin/protezione-dati?codice_fiscale={CF}").status_code in (403, 404)


def test_the_console_page_sets_and_lifts_a_legal_hold_and_shows_each_retention_pass(app, api_runtime) -> None:
    from tests.web.conftest import Browser, PASSWORD

    case_id = _person_with_a_case(api_runtime)
    admin = Browser(app.test_client())
    assert admin.post("/accesso", {"username": "admin", "password": PASSWORD}).status_code == 302
    assert "Nessun caso con blocco legale" in admin.text("/admin/protezione-dati")
    refused = admin.post("/admin/protezione-dati/blocco-legale", {"id_caso": case_id, "motivo": " "})
    assert refused.status_code == 302 and "Indicare il motivo" in admin.text("/admin/protezione-dati")
    assert admin.post("/admin/protezione-dati/blocco-legale", {"id_caso": case_id, "motivo": "Esposto in Procura",
                                                               "azione": "imposta"}).status_code == 302
    page = admin.text("/admin/protezione-dati")
    assert f'data-caso="{case_id}"' in page and "Esposto in Procura" in page
    assert "Blocco legale impostato" in page
    admin.post("/admin/protezione-dati/blocco-legale", {"id_caso": "nessuno", "motivo": "prova"})
    assert "Non esiste un caso" in admin.text("/admin/protezione-dati")
    done = admin.post("/admin/protezione-dati/conservazione", {"modalita": "prova"})
    assert done.status_code == 302 and "/admin/protezione-dati/conservazione/" in done.headers["Location"]
    detail = admin.text(done.headers["Location"])
    assert "prova: nulla è stato modificato" in detail and "Nessun caso da anonimizzare" in detail
    assert 'id="tabella-conservazione"' in admin.text("/admin/protezione-dati")
    assert admin.post("/admin/protezione-dati/blocco-legale", {"id_caso": case_id, "motivo": "Archiviato",
                                                               "azione": "rimuovi"}).status_code == 302
    assert "Nessun caso con blocco legale" in admin.text("/admin/protezione-dati")
    kinds = [a.action for a in subject_access.accesses(api_runtime, ADMIN, CF)]
    assert "case.legal_hold_set" in kinds and "case.legal_hold_cleared" in kinds
