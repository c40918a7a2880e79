"""Percorso 4 forms that say what they need and refuse nonsense, on the web, the API and the service.

A repeated task starts empty (copying the last answers only on request); conditional fields say
when they apply and why they are required; cross-field rules refuse contradictory answers; the
codice fiscale at intake is checked against the person's data, with a confirmation for omocodia.
"""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from flask import Flask

from gol_workflow.domain.errors import ConfirmationNeeded, ValidationFailed
from gol_workflow.forms.cross_rules import CF_RULE
from gol_workflow.services.cases import case_start, monitoring
from gol_workflow.services.workflow import task_view
from gol_workflow.services.access import tokens
from gol_workflow.web import create_app
from tests.conftest import ADMIN
from tests.integration.percorso4_support import (  # noqa: F401 - fixtures
    MONITORING_PARTS,

    LUCIA,
    MARCO,
    PASSWORD,
    PROGETTO,
    Percorso4,
    codice_fiscale,
    local_day,
    p4,
    profilo,
    scheda,
    smtp,
)
from tests.web.conftest import Browser

FIVE = ["beneficiario", "ats", "centro_impiego", "servizio_sociale", "servizi_specialistici"]


def web(p4: Percorso4, username: str) -> Browser:
    """A browser logged in as an operator of the Percorso 4 service."""
    person = Browser(create_app(p4.rt, {"TESTING": True}).test_client())
    response = person.post("/accesso", {"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)
    person.get("/attivita")  # the signed-in session's form token
    return person


class Api:
    """An API client with an operator's bearer token."""

    def __init__(self, app: Flask, secret: str) -> None:
        self.client = app.test_client()
        self.headers = {"Authorization": f"Bearer {secret}"}

    def post(self, url: str, body: Any) -> Any:
        return self.client.post(url, json=body, headers=self.headers)

    def get(self, url: str) -> Any:
        return self.client.get(url, headers=self.headers)


def api(p4: Percorso4, username: str) -> Api:
    return Api(create_app(p4.rt, {"TESTING": True}), tokens.issue_token(p4.rt, username, ADMIN).secret)


def task_id(p4: Percorso4, element: str, case: str) -> str:
    found = p4.inbox(element=element, case_id=case)
    assert len(found) == 1, p4.ready(case)
    return str(found[0]["id"])


def page_text(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def checked_boxes(html: str, name: str) -> set[str]:
    found = set()
    for tag in re.findall(r"<input[^>]*>", html):
        if f'name="{name}"' in tag and " checked" in tag:
            found.add(re.search(r'value="([^"]*)"', tag).group(1))  # type: ignore[union-attr]
    return found


def into_the_path(p4: Percorso4, case: str, manager: str = "cm.rossi") -> None:
    p4.complete("profilazione", case, profilo(), "cpi.pistoia")
    p4.hold_meeting(p4.meetings_of(case)[-1]["id"], {case: scheda(presente=True)}, by="sds.pistoia")
    slot = p4.book_first_appointment(case, manager, "cpi.pistoia")
    p4.start_path(case, manager, slot)


def ask_monitoring(p4: Percorso4, case: str) -> None:
    monitoring.request_monitoring(p4.rt, case, "Verifica del tirocinio.", p4.actors["cpi.pistoia"])
    p4.rt.workflows.clear()
    assert p4.ready(case) == MONITORING_PARTS


def test_the_second_monitoring_starts_empty_and_copies_the_first_only_on_request(p4: Percorso4) -> None:
    case = p4.open_case("pistoiese", LUCIA)
    into_the_path(p4, case)
    p4.complete("progetto_individualizzato", case, PROGETTO, "cm.rossi")
    ask_monitoring(p4, case)
    first = {**p4.monitoraggio(), "partecipanti_monitoraggio": FIVE,
             "integrazioni_progetto": "Orario del tirocinio ridotto ad aprile."}
    p4.monitor(case, first, "cm.rossi")
    assert p4.data(case)["partecipanti_monitoraggio"] == FIVE  # the case holds the first answers
    assert p4.ready(case) == ["aggiorna_progetto"]  # small changes reach the project at once
    p4.complete("aggiorna_progetto", case, {**PROGETTO, "modifiche_concordate": "Orario ridotto."}, "cm.rossi")

    ask_monitoring(p4, case)
    p4.monitor_parts(case)
    view = p4.task_page("monitoraggio", case, "cm.rossi")
    assert view.values == {}
    browser = web(p4, "cm.rossi")
    html = browser.text(f"/attivita/{view.task['id']}")
    assert checked_boxes(html, "partecipanti_monitoraggio") == set()
    assert "Orario del tirocinio ridotto" not in html
    assert "Copia dall&#39;ultimo monitoraggio" in html or "Copia dall'ultimo monitoraggio" in html

    copied = browser.text(f"/attivita/{view.task['id']}?copia=precedente")
    assert checked_boxes(copied, "partecipanti_monitoraggio") == set(FIVE)
    assert "Orario del tirocinio ridotto ad aprile." in copied
    assert "controllarle e aggiornarle prima di completare" in page_text(copied)
    assert task_view.open_task(p4.rt, view.task["id"], p4.actors["cm.rossi"], copy_previous=True).values == first
    assert api(p4, "cm.rossi").get(f"/api/v1/tasks/{view.task['id']}").get_json()["previous_values"][
        "partecipanti_monitoraggio"] == FIVE

    # Five participants ticked in the second monitoring stay five.
    response = browser.post(f"/attivita/{view.task['id']}", {
        "data_monitoraggio": local_day(p4.now()), "partecipanti_monitoraggio": FIVE, "andamento": "regolare",
        "sintesi_monitoraggio": "Secondo incontro.", "modifica_sostanziale": "false", "chiusura_anticipata": "false"})
    assert response.status_code == 302, page_text(response.get_data(as_text=True))
    p4.rt.workflows.clear()
    data = p4.data(case)
    assert data["partecipanti_monitoraggio"] == FIVE
    assert data["sintesi_monitoraggio"] == "Secondo incontro."
    assert data["integrazioni_progetto"] is None  # not answered this time: April's answer does not stand


def test_a_field_that_does_not_apply_is_not_recorded(p4: Percorso4) -> None:
    case = p4.open_case("pistoiese", LUCIA)
    into_the_path(p4, case)
    p4.complete("progetto_individualizzato", case, PROGETTO, "cm.rossi")
    ask_monitoring(p4, case)
    p4.monitor(case, {**p4.monitoraggio(), "descrizione_modifica": "Una modifica di aprile."},
                "cm.rossi")
    assert p4.data(case)["descrizione_modifica"] is None  # no change asked: the description is not kept


def test_conditional_fields_say_when_they_apply_and_why_they_are_required(p4: Percorso4) -> None:
    case = p4.open_case("pistoiese", LUCIA)
    profiling = task_id(p4, "profilazione", case)
    browser = web(p4, "cpi.pistoia")
    html = browser.text(f"/attivita/{profiling}")
    assert "Da compilare solo se «Bisogni complessi e multidimensionali» è «Sì»." in unescape(html)
    assert 'data-mostra-se="[[&#34;bisogni_complessi&#34;, [&#34;true&#34;]]]"' in html
    assert "conditional-fields.js" in html

    response = browser.post(f"/attivita/{profiling}", {"bisogni_complessi": "true",
                                                         "fabbisogno_formativo": "aggiornamento"})
    assert response.status_code == 400
    why = "Obbligatorio perché hai indicato «Sì» in «Bisogni complessi e multidimensionali»."
    assert why in unescape(response.get_data(as_text=True))

    answer = api(p4, "cpi.pistoia").post(f"/api/v1/tasks/{profiling}/complete",
                                         {"data": {"bisogni_complessi": True, "fabbisogno_formativo": "aggiornamento",
                                                   "conosciuto_servizio_sociale": False, "bisogni_particolari": True}})
    assert answer.status_code == 400
    assert answer.get_json()["errors"] == {"servizi_specialistici": [
        "Obbligatorio perché hai indicato «Sì» in «Bisogni particolari»."]}

    # Without complex needs the dependent answers are not asked, and not kept if sent.
    p4.complete("profilazione", case, {"bisogni_complessi": False, "fabbisogno_formativo": "aggiornamento",
                                       "bisogni_particolari": True}, "cpi.pistoia")
    data = p4.data(case)
    assert data["bisogni_particolari"] is None and data["percorso"] == 2


def test_cross_field_rules_are_refused_with_their_message_on_the_web_and_the_api(p4: Percorso4) -> None:
    case = p4.open_case("pistoiese", LUCIA)
    into_the_path(p4, case)
    manager, cpi = web(p4, "cm.rossi"), web(p4, "cpi.pistoia")
    manager_api, cpi_api = api(p4, "cm.rossi"), api(p4, "cpi.pistoia")

    # An activity that ends before it starts.
    project = task_id(p4, "progetto_individualizzato", case)
    backwards = {**PROGETTO, "attivita": [{**PROGETTO["attivita"][0], "data_inizio": "2026-09-30",
                                           "data_fine": "2026-04-01"}]}
    message = "La fine prevista non può precedere l'inizio dell'attività."
    answer = manager_api.post(f"/api/v1/tasks/{project}/complete", {"data": backwards})
    assert answer.status_code == 400 and answer.get_json()["errors"] == {"attivita.0.data_fine": [message]}
    form = {"data_sottoscrizione_progetto": "02/03/2026", "attivita.0.misura": "tirocinio_inclusione",
            "attivita.0.descrizione": "Tirocinio", "attivita.0.data_inizio": "2026-09-30",
            "attivita.0.data_fine": "2026-04-01", "obiettivi.0.ambito": "inclusione_sociale",
            "obiettivi.0.obiettivo": "Gruppo", "obiettivi.0.risultato_atteso": "8 incontri",
            "impegni_beneficiario": "Presenza.", "sostegni_servizi": "Trasporto."}
    response = manager.post(f"/attivita/{project}", form)
    assert response.status_code == 400 and message in unescape(response.get_data(as_text=True))
    p4.complete("progetto_individualizzato", case, PROGETTO, "cm.rossi")

    # Someone both present and absent.
    ask_monitoring(p4, case)
    p4.monitor_parts(case)
    check = task_id(p4, "monitoraggio", case)
    both = {**p4.monitoraggio(), "chiusura_anticipata": True, "assenti_monitoraggio": ["centro_impiego"]}
    message = "Chi è indicato tra i presenti non può essere anche tra gli assenti."
    answer = manager_api.post(f"/api/v1/tasks/{check}/complete", {"data": both})
    assert answer.status_code == 400 and answer.get_json()["errors"] == {"assenti_monitoraggio": [message]}
    response = manager.post(f"/attivita/{check}", {
        "data_monitoraggio": local_day(p4.now()), "partecipanti_monitoraggio": ["beneficiario", "centro_impiego"],
        "assenti_monitoraggio": ["centro_impiego"], "andamento": "regolare", "sintesi_monitoraggio": "Incontro.",
        "modifica_sostanziale": "false", "chiusura_anticipata": "true"})
    assert response.status_code == 400 and message in unescape(response.get_data(as_text=True))
    p4.complete("monitoraggio", case, {**both, "assenti_monitoraggio": ["servizi_specialistici"]}, "cm.rossi")

    # "Inclusione sociale" with an apprenticeship contract.
    p4.final_parts(case)
    final = task_id(p4, "monitoraggio_finale", case)
    nonsense = {"data_monitoraggio_finale": local_day(p4.now()), "esito": "inclusione_sociale",
                "tipo_contratto": "apprendistato", "obiettivi_raggiunti": "in_parte"}
    message = "Un tipo di contratto si indica solo con l'esito «Occupato/a»: correggere l'esito o togliere il contratto."
    answer = cpi_api.post(f"/api/v1/tasks/{final}/complete", {"data": nonsense})
    assert answer.status_code == 400 and answer.get_json()["errors"] == {"tipo_contratto": [message]}
    response = cpi.post(f"/attivita/{final}", nonsense)
    assert response.status_code == 400 and message in unescape(response.get_data(as_text=True))
    p4.complete("monitoraggio_finale", case, {k: v for k, v in nonsense.items() if k != "tipo_contratto"},
                "cpi.pistoia")
    assert p4.header(case)["status"] == "completed"


WRONG = {**MARCO, "cognome": "Bianchi", "data_nascita": "1975-03-13"}  # a valid code of someone else's data


def test_codice_fiscale_that_does_not_match_the_person_is_a_warning_to_confirm(p4: Percorso4) -> None:
    cpi = p4.actors["cpi.pistoia"]
    with pytest.raises(ConfirmationNeeded) as refused:
        case_start.open_case(p4.rt, "percorso4", {"zona": "pistoiese", "beneficiario": WRONG}, cpi)
    assert refused.value.confirmations == [CF_RULE]
    warning = refused.value.errors["beneficiario.codice_fiscale"][0]
    assert "non corrisponde ai dati anagrafici" in warning and "«BNC»" in warning and "12/03/1975" in warning

    browser = web(p4, "cpi.pistoia")
    form = {"zona": "pistoiese", "beneficiario.codice_fiscale": WRONG["codice_fiscale"],
            "beneficiario.cognome": WRONG["cognome"], "beneficiario.nome": WRONG["nome"],
            "beneficiario.data_nascita": "13/03/1975"}
    response = browser.post("/casi/nuovo/percorso4", form)
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 400 and "non corrisponde ai dati anagrafici" in html
    assert "Confermo: codice fiscale corretto (omocodia o dati anagrafici diversi)" in html
    response = browser.post("/casi/nuovo/percorso4", {**form, "conferma": CF_RULE})
    assert response.status_code == 302, page_text(response.get_data(as_text=True))

    caller = api(p4, "cpi.pistoia")  # another person: the one above now has an open case
    body = {"process": "percorso4", "data": {"zona": "pistoiese",
                                            "beneficiario": {**LUCIA, "cognome": "Verdi", "data_nascita": "1980-01-02"}}}
    answer = caller.post("/api/v1/instances", body)
    assert answer.status_code == 400
    assert "non corrisponde" in answer.get_json()["errors"]["beneficiario.codice_fiscale"][0]
    assert caller.post("/api/v1/instances", {**body, "confirm_codice_fiscale": True}).status_code == 201

    # A matching code, omocodia included, needs no confirmation.
    omocode = {**LUCIA, "codice_fiscale": codice_fiscale("BNCLCU80A41GTMP")}
    assert case_start.open_case(p4.rt, "percorso4", {"zona": "pistoiese", "beneficiario": omocode}, cpi)


def test_validation_failed_is_still_the_type_of_a_plain_form_error(p4: Percorso4) -> None:
    case = p4.open_case("pistoiese", LUCIA)
    with pytest.raises(ValidationFailed) as refused:
        p4.complete("profilazione", case, {"bisogni_complessi": True}, "cpi.pistoia")
    assert not isinstance(refused.value, ConfirmationNeeded)
    assert refused.value.errors["fabbisogno_formativo"] == ["Campo obbligatorio."]
