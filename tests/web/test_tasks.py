"""The task page: the form from its JSON Schema, Italian errors next to fields, drafts, completion, conflicts."""

from __future__ import annotations

from gol_workflow.services.workflow import tasks as task_service

from .conftest import actor_of, ready, start_case

PROFILE = {
    "bisogni_particolari": "true",
    "servizi_specialistici": ["salute_mentale"],
    "case_manager": "ats.nord",
    "ore_settimanali": "20",
    "reddito": "1.234,50",
    "data_colloquio": "07/01/2026",
    "titolo_studio": "diploma",
    "patente": "b",
    "lingue": ["italiano", "inglese"],
    "note": "Vive con la madre.",
    "familiari.0.nome": "Rita",
    "familiari.0.relazione": "genitore",
}


def _open(web_runtime, browser, who="cpi.nord"):
    case_id = start_case(web_runtime, "nord")
    task_id = ready(web_runtime, case_id)[0]["id"]
    person = browser(who)
    return case_id, task_id, person


def test_form_renders_every_kind_of_field_with_labels(web_runtime, browser) -> None:
    _, task_id, person = _open(web_runtime, browser)
    page = person.text(f"/attivita/{task_id}")
    assert 'type="radio" name="bisogni_particolari"' in page
    assert 'type="checkbox" name="servizi_specialistici"' in page and "Salute mentale adulti" in page
    assert '<option value="ats.nord"' in page and '<option value="ats.altro"' in page
    assert 'type="number" id="campo-ore_settimanali"' in page and 'type="date" id="campo-data_colloquio"' in page
    assert "Licenza media" in page and "Patente B" in page
    assert 'name="familiari.0.nome"' in page and "Aggiungi familiare" in page
    assert "Verificare la situazione di Laura Bianchi." in page  # instructions rendered with the case data
    assert page.count("<label") >= 10


def test_missing_fields_show_italian_errors_and_keep_input(web_runtime, browser) -> None:
    _, task_id, person = _open(web_runtime, browser)
    person.text(f"/attivita/{task_id}")
    response = person.post(f"/attivita/{task_id}", {"note": "Testo da non perdere", "ore_settimanali": "tanti",
                                                     "azione": "completa"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'role="alert" id="riepilogo-errori"' in page
    assert 'id="campo-case_manager-errore"' in page and "Campo obbligatorio." in page
    assert "Inserire un numero intero." in page
    assert 'aria-invalid="true"' in page and 'aria-describedby="campo-data_colloquio-errore"' in page
    assert "Testo da non perdere" in page
    assert ready(web_runtime, ready(web_runtime, _case(web_runtime, task_id))[0]["case_id"])[0]["id"] == task_id


def _case(web_runtime, task_id):
    with web_runtime.uow(write=False) as uow:
        return uow.inbox.get(task_id)["case_id"]


def test_completion_stores_typed_data_and_says_what_happens_next(web_runtime, browser) -> None:
    case_id, task_id, person = _open(web_runtime, browser)
    person.text(f"/attivita/{task_id}")
    response = person.post(f"/attivita/{task_id}", {**PROFILE, "azione": "completa"})
    assert response.status_code == 302 and f"/attivita/fatta/{case_id}" in response.headers["Location"]
    done = person.text(response.headers["Location"])
    assert "Profilazione» è stata completata" in done
    assert "Valutazione in equipe" in done and 'id="prossima-attivita"' in done
    with web_runtime.uow(write=False) as uow:
        event = [e for e in uow.audit.for_instance(case_id) if e["action"] == "task.completed"][0]
    data = event["data"]["data"]
    assert data["bisogni_particolari"] is True and data["ore_settimanali"] == 20 and data["reddito"] == 1234.5
    assert data["data_colloquio"] == "2026-01-07" and data["familiari"] == [{"nome": "Rita", "relazione": "genitore"}]
    with web_runtime.uow(write=False) as uow:
        header = uow.instances.header(case_id)
    assert header["case_manager"] == "ats.nord" and header["specialist_services"] == ["salute_mentale"]


def test_unknown_choice_is_refused(web_runtime, browser) -> None:
    _, task_id, person = _open(web_runtime, browser)
    person.text(f"/attivita/{task_id}")
    response = person.post(f"/attivita/{task_id}", {**PROFILE, "case_manager": "cpi.sud", "azione": "completa"})
    assert response.status_code == 400 and "Scegliere uno dei valori proposti." in response.get_data(as_text=True)


def test_draft_is_kept_and_shown_again(web_runtime, browser) -> None:
    _, task_id, person = _open(web_runtime, browser)
    person.text(f"/attivita/{task_id}")
    response = person.post(f"/attivita/{task_id}", {"note": "Bozza di note", "azione": "bozza"})
    assert response.status_code == 302
    page = person.text(f"/attivita/{task_id}")
    assert "Bozza salvata" in page and "Bozza di note" in page


def test_repeating_group_rows_are_added_and_removed_without_javascript(web_runtime, browser) -> None:
    _, task_id, person = _open(web_runtime, browser)
    person.text(f"/attivita/{task_id}")
    page = person.post(f"/attivita/{task_id}", {"familiari.0.nome": "Rita", "azione": "aggiungi:familiari"}).get_data(as_text=True)
    assert 'name="familiari.1.nome"' in page and 'value="Rita"' in page
    page = person.post(f"/attivita/{task_id}", {"familiari.0.nome": "Rita", "familiari.1.nome": "Ugo",
                                                "azione": "rimuovi:familiari.0"}).get_data(as_text=True)
    assert 'value="Ugo"' in page and 'value="Rita"' not in page


def test_task_completed_meanwhile_by_someone_else(web_runtime, browser) -> None:
    _, task_id, person = _open(web_runtime, browser)
    person.text(f"/attivita/{task_id}")
    task_service.complete_task(web_runtime, task_id, {"bisogni_particolari": False, "case_manager": "ats.nord",
                                                      "data_colloquio": "2026-01-07"}, actor_of("cpi.nord.bis"),
                               options={"case_manager": ["ats.nord"]})
    response = person.post(f"/attivita/{task_id}", {**PROFILE, "azione": "completa"})
    assert response.status_code == 409
    assert "completata da <strong>cpi.nord.bis</strong>" in response.get_data(as_text=True)
    assert person.get(f"/attivita/{task_id}").status_code == 409


def test_task_page_read_is_audited(web_runtime, browser) -> None:
    case_id, task_id, person = _open(web_runtime, browser)
    person.text(f"/attivita/{task_id}")
    with web_runtime.uow(write=False) as uow:
        reads = [e for e in uow.audit.for_instance(case_id) if e["action"] == "case.viewed"]
    assert reads and reads[-1]["actor"] == "cpi.nord"


def test_new_case_from_the_start_form(web_runtime, browser) -> None:
    person = browser("cpi.nord")
    page = person.text("/casi/nuovo/caso_web")
    assert 'name="beneficiario.codice_fiscale"' in page and '<option value="nord"' in page and 'value="sud"' not in page
    wrong = person.post("/casi/nuovo/caso_web", {"beneficiario.codice_fiscale": "BNCLRA85M41G713A",
                                                 "beneficiario.nome": "Laura", "beneficiario.cognome": "Bianchi",
                                                 "zona": "nord"})
    assert wrong.status_code == 400
    assert "Il carattere di controllo del codice fiscale non è corretto." in wrong.get_data(as_text=True)
    ok = person.post("/casi/nuovo/caso_web", {"beneficiario.codice_fiscale": "bnclra85m41g713k",
                                              "beneficiario.nome": "Laura", "beneficiario.cognome": "Bianchi",
                                              "zona": "nord"})
    assert ok.status_code == 302
    assert '<td data-label="Attività">Profilazione</td>' in person.text("/attivita")


def test_only_cpi_may_open_cases(web_runtime, browser) -> None:
    for who in ("sds.nord", "ats.nord", "spec.nord", "analista"):
        assert browser(who).get("/casi/nuovo").status_code == 403


def test_a_task_taken_meanwhile_by_a_colleague_keeps_the_typed_input(web_runtime, browser) -> None:
    _, task_id, person = _open(web_runtime, browser)
    person.text(f"/attivita/{task_id}")
    task_service.claim(web_runtime, task_id, actor_of("cpi.nord.bis"))
    response = person.post(f"/attivita/{task_id}", {**PROFILE, "note": "Testo scritto con fatica", "azione": "completa"})
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert 'id="conflitto"' in page and "assegnata a" in page and "presa in carico" not in page
    assert "Testo scritto con fatica" in page and 'value="Rita"' in page
    assert ready(web_runtime, _case(web_runtime, task_id))[0]["id"] == task_id  # nothing was completed


def test_a_case_suspended_meanwhile_keeps_the_typed_input_and_says_so(web_runtime, browser) -> None:
    from gol_workflow.services.workflow import instances as instance_service

    case_id, task_id, person = _open(web_runtime, browser)
    person.text(f"/attivita/{task_id}")
    instance_service.suspend(web_runtime, case_id, actor_of("admin"), "verifica dei dati")
    response = person.post(f"/attivita/{task_id}", {**PROFILE, "note": "Testo scritto con fatica", "azione": "completa"})
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "caso è stato sospeso" in page and "Testo scritto con fatica" in page


def test_a_task_completed_meanwhile_says_who_and_gives_back_the_input(web_runtime, browser) -> None:
    _, task_id, person = _open(web_runtime, browser)
    person.text(f"/attivita/{task_id}")
    task_service.complete_task(web_runtime, task_id, {"bisogni_particolari": False, "case_manager": "ats.nord",
                                                      "data_colloquio": "2026-01-07"}, actor_of("cpi.nord.bis"),
                               options={"case_manager": ["ats.nord"]})
    response = person.post(f"/attivita/{task_id}", {**PROFILE, "note": "Testo scritto con fatica", "azione": "completa"})
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "cpi.nord.bis" in page and "05/01/2026" in page
    assert 'id="dati-inseriti"' in page and "Testo scritto con fatica" in page
