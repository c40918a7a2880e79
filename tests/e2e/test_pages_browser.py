"""Every operator page in a real Chromium: axe-core finds no serious violation, keyboard use, failure paths."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gol_workflow.services.cases import attachments
from gol_workflow.services.workflow import tasks as task_service
from tests.web.conftest import actor_of, ready, start_case

pytestmark = pytest.mark.browser


def _check(page, label: str, found: dict[str, list[str]]) -> None:
    violations = page.axe()
    if violations:
        found[label] = violations


def _equipe_case(rt) -> str:
    case_id = start_case(rt, "nord")
    task_service.complete_task(rt, ready(rt, case_id)[0]["id"],
                               {"bisogni_particolari": False, "case_manager": "ats.nord", "data_colloquio": "2026-01-07"},
                               actor_of("cpi.nord"), options={"case_manager": ["ats.nord"]})
    task_service.complete_task(rt, ready(rt, case_id)[0]["id"],
                               {"scheda_esito": {"percorso": "tirocinio", "obiettivi": "Autonomia."}}, actor_of("sds.nord"))
    attachments.upload(rt, case_id, "relazione.pdf", b"%PDF-1.4\n%%EOF\n", "relazione", actor_of("cpi.nord"))
    with rt.uow() as uow:
        cutoff = datetime(2026, 1, 8, 8, 30, tzinfo=UTC)
        uow.meetings.add_if_missing({"id": "nord-20260113", "zone": "nord", "scheduled_at": datetime(2026, 1, 13, 8, 30, tzinfo=UTC),
                                     "cutoff_at": cutoff, "due_at": cutoff, "attempts": 0, "location": "Sala riunioni",
                                     "status": "planned", "created_at": cutoff})
        uow.meetings.add_to_agenda({"meeting_id": "nord-20260113", "case_id": case_id, "reason": "prima_valutazione",
                                    "added_at": cutoff, "item": {"case_id": case_id, "beneficiario": {"nome": "Laura", "cognome": "Bianchi"},
                                                                "servizi_specialistici": ["salute_mentale"]}})
        uow.commit()
    return case_id


def test_every_page_has_no_serious_accessibility_violation(web_runtime, page) -> None:
    rt = web_runtime
    done_case = _equipe_case(rt)
    fresh = start_case(rt, "nord", "Gino", "Rossi", "RSSGNI70A01G713")
    task_id = ready(rt, fresh)[0]["id"]
    found: dict[str, list[str]] = {}
    person = page()
    person.goto("/accesso")
    _check(person, "accesso", found)
    person.page.get_by_label("Nome utente").fill("cpi.nord")
    person.page.get_by_label("Password").fill("sbagliata-1234")
    person.page.get_by_role("button", name="Accedi").click()
    _check(person, "accesso con errore", found)
    person.login("cpi.nord")
    _check(person, "attività", found)
    for path, label in [(f"/attivita/{task_id}", "attività: modulo"), ("/casi", "casi"),
                        ("/casi?stato=aperto&ordina=nome&verso=asc", "casi filtrati"), (f"/casi/{done_case}", "fascicolo"),
                        (f"/casi/{done_case}/scheda-esito", "scheda di esito"), ("/casi/nuovo/caso_web", "nuovo caso"),
                        ("/agenda", "agenda equipe"), ("/preferenze", "preferenze"),
                        ("/casi/inesistente", "pagina non trovata")]:
        person.goto(path)
        _check(person, label, found)
    person.goto(f"/attivita/{task_id}")
    person.page.get_by_role("button", name="Completa l'attività").click()
    _check(person, "attività: modulo con errori", found)
    person.goto("/attivita")
    person.page.locator(f'[data-task-id="{task_id}"] button', has_text="Assegna a me").click()
    person.goto(f"/attivita/{task_id}")
    person.page.get_by_label("Data del colloquio").fill("2026-01-07")
    person.page.get_by_label("Case manager ATS").select_option("ats.nord")
    person.page.get_by_role("group", name="Bisogni particolari").locator("label", has_text="No").click()
    person.page.get_by_role("button", name="Completa l'attività").click()
    person.page.wait_for_url("**/attivita/fatta/**")
    _check(person, "attività completata", found)
    assert not found, "\n".join(f"{k}: {v}" for k, vs in found.items() for v in vs)
    assert not person.csp_violations, "\n".join(v[:200] for v in person.csp_violations)


def test_keyboard_only_login_and_visible_focus(web_runtime, page) -> None:
    start_case(web_runtime, "nord")
    person = page()
    person.goto("/accesso")
    keyboard = person.page.keyboard
    assert person.page.evaluate("document.activeElement.id") == "username"  # the form is ready to type in
    keyboard.type("cpi.nord")
    keyboard.press("Tab")
    keyboard.type("password-di-prova")
    keyboard.press("Enter")
    person.page.wait_for_url("**/attivita**")
    keyboard.press("Tab")
    assert person.page.evaluate("document.activeElement.textContent.trim()") == "Vai al contenuto principale"
    assert person.page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    keyboard.press("Enter")
    assert person.page.evaluate("document.activeElement.id") == "contenuto"
    for _ in range(30):  # Tab through the filters to the first task
        keyboard.press("Tab")
        if person.page.evaluate("document.activeElement.textContent.trim()") == "Laura Bianchi":
            break
    else:
        pytest.fail("the task link cannot be reached with the keyboard")
    assert person.page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    keyboard.press("Enter")
    person.page.wait_for_url("**/attivita/*")
    assert person.page.get_by_role("heading", level=1).inner_text() == "Profilazione"


def test_wrong_codice_fiscale_is_explained_next_to_the_field(web_runtime, page) -> None:
    person = page()
    person.login("cpi.nord")
    person.goto("/casi/nuovo/caso_web")
    person.page.get_by_label("Codice fiscale").fill("BNCLRA85M41G713A")
    person.page.locator("#campo-beneficiario-nome").fill("Laura")
    person.page.get_by_label("Cognome").fill("Bianchi")
    person.page.get_by_label("Zona").select_option("nord")
    person.page.get_by_role("button", name="Apri il caso").click()
    error = person.page.locator("#campo-beneficiario-codice_fiscale-errore")
    assert "Il carattere di controllo del codice fiscale non è corretto." in error.inner_text()
    assert person.page.get_by_label("Codice fiscale").get_attribute("aria-invalid") == "true"
    assert person.page.get_by_label("Cognome").input_value() == "Bianchi"  # input kept
    assert person.page.evaluate("document.activeElement.id") == "riepilogo-errori"
    person.page.get_by_label("Codice fiscale").fill("BNCLRA85M41G713K")
    person.page.get_by_role("button", name="Apri il caso").click()
    person.page.wait_for_url("**/attivita/fatta/**")
    assert "Profilazione" in person.page.locator("#cosa-succede").inner_text()


def test_missing_required_field_and_task_completed_by_someone_else(web_runtime, page) -> None:
    case_id = start_case(web_runtime, "nord")
    task_id = ready(web_runtime, case_id)[0]["id"]
    person = page()
    person.login("cpi.nord")
    person.goto(f"/attivita/{task_id}")
    person.page.get_by_label("Note").fill("Appunti da conservare")
    person.page.get_by_role("button", name="Completa l'attività").click()
    summary = person.page.locator("#riepilogo-errori")
    assert "Case manager ATS: Campo obbligatorio." in summary.inner_text()
    assert person.page.locator("#campo-data_colloquio-errore").inner_text().strip() == "Campo obbligatorio."
    assert person.page.get_by_label("Note").input_value() == "Appunti da conservare"
    task_service.complete_task(web_runtime, task_id, {"bisogni_particolari": False, "case_manager": "ats.nord",
                                                      "data_colloquio": "2026-01-07"}, actor_of("cpi.nord.bis"),
                               options={"case_manager": ["ats.nord"]})
    person.page.get_by_label("Data del colloquio").fill("2026-01-08")
    person.page.get_by_label("Case manager ATS").select_option("ats.nord")
    person.page.get_by_role("group", name="Bisogni particolari").locator("label", has_text="No").click()
    person.page.get_by_role("button", name="Completa l'attività").click()
    alert = person.page.locator("#attivita-gia-completata")
    assert "completata da" in alert.inner_text()


def test_the_work_is_done_without_javascript(web_runtime, page) -> None:
    case_id = start_case(web_runtime, "nord")
    person = page(javascript=False)
    person.login("cpi.nord")
    person.page.get_by_role("link", name="Laura Bianchi").click()
    person.page.get_by_role("button", name="Aggiungi familiare").click()  # a repeating group row, server side
    assert person.page.locator('[name="familiari.1.nome"]').count() == 1
    person.page.get_by_label("Data del colloquio").fill("2026-01-07")
    person.page.get_by_label("Case manager ATS").select_option("ats.nord")
    person.page.get_by_role("group", name="Bisogni particolari").locator("label", has_text="No").click()
    person.page.locator('[name="familiari.0.nome"]').fill("Rita")
    person.page.get_by_role("button", name="Completa l'attività").click()
    person.page.wait_for_url("**/attivita/fatta/**")
    assert "Valutazione in equipe" in person.page.locator("#cosa-succede").inner_text()
    with web_runtime.uow(write=False) as uow:
        event = [e for e in uow.audit.for_instance(case_id) if e["action"] == "task.completed"][0]
    assert event["data"]["data"]["familiari"] == [{"nome": "Rita"}]
