"""Percorso 4 by role through the case list and the case file, in the browser: the CPI opens a case and finds
it on /casi, the equipe's SdS referent reaches it from the list, the ATS case manager finds it under
"I miei casi" on a phone and asks for a monitoring from the case file; a second monitoring starts empty.

The steps between (profiling, booking, first meeting, project) go through the same use cases the web runs,
with each operator's account; only the clock is moved outside the browser, as a trainer does.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest

from gol_workflow.forms.codice_fiscale import check_character
from tests.e2e.conftest import PHONE
from tests.e2e.test_percorso4_browser import app, complete, fill, open_task, p4  # noqa: F401 - fixtures
from tests.integration.percorso4_support import LUCIA, MARCO, PASSWORD, PROGETTO, Percorso4, profilo, scheda

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CF = "BNCLCU80A41G713"
FIRST = {"partecipanti_monitoraggio": ["beneficiario", "ats", "centro_impiego"], "andamento": "regolare",
         "sintesi_monitoraggio": "Tirocinio avviato, presenze regolari.", "modifica_sostanziale": "false",
         "chiusura_anticipata": "false"}


def _check(person: Any, label: str, found: dict[str, list[str]]) -> None:
    problems = person.sideways() + person.axe()
    if problems:
        found[label] = problems


def _find_on_case_list(person: Any, beneficiary: str, mine: bool = False) -> None:
    """From the case list (optionally "I miei casi"), open the case file of this beneficiary."""
    person.goto("/casi")
    if mine:
        person.page.get_by_role("navigation", name="Quali casi").get_by_role("link", name="I miei casi").click()
        person.page.wait_for_url("**miei=1**")
    person.page.locator("#tabella-casi tbody tr", has_text=beneficiary).get_by_role("link", name=beneficiary).click()
    person.page.wait_for_url(re.compile(r".*/casi/[0-9a-f-]{36}$"))
    assert person.page.get_by_role("heading", level=1).inner_text() == beneficiary


def _ask_for_monitoring(person: Any, reason: str) -> None:
    """On the case file: the action "Richiedi un monitoraggio", its reason, sent."""
    action = person.page.get_by_role("link", name="Richiedi un monitoraggio").or_(
        person.page.get_by_role("button", name="Richiedi un monitoraggio"))
    action.first.click()
    person.page.get_by_label(re.compile("Motivo")).fill(reason)
    with person.page.expect_navigation():
        person.page.get_by_role("button", name="Richiedi un monitoraggio").click()
    assert "Richiesta di monitoraggio inviata" in person.page.locator("main").inner_text()


def _into_the_path(p4: Percorso4, case_id: str, manager: str = "cm.rossi") -> None:
    """Booking, first meeting with the case manager and the individual project (the case enters its 12 months)."""
    slot = p4.book_first_appointment(case_id, manager, "cpi.pistoia")
    p4.start_path(case_id, manager, slot)
    p4.complete("progetto_individualizzato", case_id, PROGETTO, manager)


def _monitoring_answers(person: Any) -> dict[str, Any]:
    """What the monitoring form on screen holds."""
    page = person.page
    return {
        "data": page.locator('[name="data_monitoraggio"]').input_value(),
        "partecipanti": sorted(b.get_attribute("value")
                               for b in page.locator('[name="partecipanti_monitoraggio"]').all() if b.is_checked()),
        "andamento": [b.get_attribute("value") for b in page.locator('[name="andamento"]').all() if b.is_checked()],
        "sintesi": page.locator('[name="sintesi_monitoraggio"]').input_value(),
    }


def test_by_role_through_the_case_list_and_the_case_file(p4: Percorso4, page: Any) -> None:
    found: dict[str, list[str]] = {}
    cpi, sds, ats = page(), page(width=PHONE), page(width=PHONE)
    cpi.login("cpi.pistoia", PASSWORD)
    sds.login("sds.pistoia", PASSWORD)
    ats.login("cm.rossi", PASSWORD)
    other = p4.open_case("pistoiese", MARCO)  # a case of the zone that is not the case manager's

    # The CPI operator opens the case from the case list, then finds it there by codice fiscale.
    cpi.goto("/casi")
    cpi.page.get_by_role("link", name="Nuovo caso").first.click()
    fill(cpi.page, {"beneficiario.codice_fiscale": CF + check_character(CF), "beneficiario.cognome": "Bianchi",
                    "beneficiario.nome": "Lucia", "beneficiario.data_nascita": "1980-01-01", "zona": "pistoiese"})
    cpi.page.get_by_role("button", name="Apri il caso").click()
    cpi.page.wait_for_url("**/attivita/fatta/**")
    cpi.goto("/casi")
    cpi.page.get_by_label("Beneficiario (parte del nome o codice fiscale)").fill((CF + check_character(CF)).lower())
    cpi.page.get_by_role("button", name="Filtra").click()
    cpi.page.wait_for_url("**cerca=**")
    assert cpi.page.locator("#tabella-casi tbody tr").count() == 1
    _check(cpi, "casi (CPI)", found)
    cpi.page.get_by_role("link", name="Lucia Bianchi").click()
    cpi.page.wait_for_url(re.compile(r".*/casi/[0-9a-f-]{36}$"))
    case_url = cpi.page.url
    case_id = case_url.rsplit("/", 1)[1]
    assert cpi.page.get_by_role("heading", level=1).inner_text() == "Lucia Bianchi"
    _check(cpi, "fascicolo (CPI)", found)
    p4.complete("profilazione", case_id, profilo(), "cpi.pistoia")

    # At the equipe the SdS referent, on a phone, reaches the case from the list and writes the scheda.
    meeting = p4.meetings_of(case_id)[-1]
    p4.advance_to(meeting["scheduled_at"] + timedelta(minutes=5))
    _find_on_case_list(sds, "Lucia Bianchi")
    _check(sds, "fascicolo (SdS, 320 px)", found)
    open_task(sds, "Lucia Bianchi", "Scheda di esito")
    _check(sds, "scheda di esito: modulo (320 px)", found)
    complete(sds, {f"scheda_esito.{k}": str(v).lower() if isinstance(v, bool) else v
                   for k, v in scheda(presente=True)["scheda_esito"].items() if v not in ("", [])})
    p4.confirm(case_id, "cpi.pistoia")  # each participant confirms the decision (tests/e2e/test_percorso4_browser.py
    p4.confirm(case_id, "sds.pistoia")  # walks those pages)
    _into_the_path(p4, case_id)

    # The ATS case manager, on a phone, finds the case under "I miei casi" and asks for a monitoring from its file.
    ats.goto("/casi?miei=1")
    mine = ats.page.locator("#tabella-casi tbody tr")
    assert mine.count() == 1 and "Lucia Bianchi" in mine.inner_text() and other not in ats.page.content()
    _check(ats, "i miei casi (ATS, 320 px)", found)
    _find_on_case_list(ats, "Lucia Bianchi", mine=True)
    _check(ats, "fascicolo (ATS, 320 px)", found)
    _ask_for_monitoring(ats, "Verifica dopo il primo mese di tirocinio.")
    _check(ats, "fascicolo dopo la richiesta (ATS, 320 px)", found)
    p4.monitor_parts(case_id)  # the CPI's and the Social Services' parts come before the joint record
    open_task(ats, "Lucia Bianchi", "Monitoraggio in itinere")
    assert "Verifica dopo il primo mese di tirocinio." in ats.page.locator("main").inner_text()
    _check(ats, "monitoraggio: modulo (ATS, 320 px)", found)
    complete(ats, {"data_monitoraggio": p4.now().date().isoformat(), **FIRST})
    ats.goto(case_url.replace(cpi.base, ""))
    assert ats.page.get_by_role("heading", level=1).inner_text() == "Lucia Bianchi"
    _check(ats, "fascicolo dopo il monitoraggio (ATS, 320 px)", found)
    assert not found, "\n".join(f"{k}: {v}" for k, vs in found.items() for v in vs)
    for person in (cpi, sds, ats):
        assert not person.csp_violations


def test_a_second_monitoring_starts_empty_and_copies_the_last_one_only_on_request(p4: Percorso4, page: Any) -> None:
    case_id = p4.open_case("pistoiese", LUCIA)
    p4.complete("profilazione", case_id, profilo(), "cpi.pistoia")
    p4.hold_meeting(p4.meetings_of(case_id)[-1]["id"], {case_id: scheda(presente=True)}, by="sds.pistoia")
    _into_the_path(p4, case_id)
    cpi, ats = page(), page(width=PHONE)
    cpi.login("cpi.pistoia", PASSWORD)
    ats.login("cm.rossi", PASSWORD)

    cpi.goto(f"/casi/{case_id}")
    _ask_for_monitoring(cpi, "Primo monitoraggio concordato.")
    p4.monitor_parts(case_id)
    open_task(ats, "Lucia Bianchi", "Monitoraggio in itinere")
    complete(ats, {"data_monitoraggio": p4.now().date().isoformat(), **FIRST})
    first_day = p4.now().date().isoformat()

    p4.advance_to(p4.now() + timedelta(days=20))
    cpi.goto(f"/casi/{case_id}")
    _ask_for_monitoring(cpi, "Il beneficiario ha lasciato il tirocinio.")
    p4.monitor_parts(case_id)
    open_task(ats, "Lucia Bianchi", "Monitoraggio in itinere")
    empty = {"data": "", "partecipanti": [], "andamento": [], "sintesi": ""}
    assert _monitoring_answers(ats) == empty  # nothing of the first monitoring is on the form
    assert ats.sideways() == [] and ats.axe() == []

    copy = ats.page.get_by_role("button", name="Copia dall'ultimo monitoraggio")
    assert copy.count() == 1
    copy.click()
    ats.page.wait_for_url("**copia=precedente**")
    assert ats.page.locator("#valori-copiati").is_visible()
    assert _monitoring_answers(ats) == {"data": first_day, "partecipanti": sorted(FIRST["partecipanti_monitoraggio"]),
                                        "andamento": ["regolare"], "sintesi": FIRST["sintesi_monitoraggio"]}
    open_task(ats, "Lucia Bianchi", "Monitoraggio in itinere")
    assert _monitoring_answers(ats) == empty  # the copy was only offered on the page, never saved

    everyone = ["beneficiario", "ats", "centro_impiego", "servizio_sociale", "servizi_specialistici"]
    complete(ats, {"data_monitoraggio": p4.now().date().isoformat(), "partecipanti_monitoraggio": everyone,
                   "andamento": "con_difficolta", "sintesi_monitoraggio": "Tirocinio interrotto.",
                   "modifica_sostanziale": "false", "chiusura_anticipata": "false"})
    recorded = [e["data"]["data"] for e in p4.audit("task.completed", case_id)
                if e["data"]["data"].get("sintesi_monitoraggio")]
    assert [r["partecipanti_monitoraggio"] for r in recorded] == [FIRST["partecipanti_monitoraggio"], everyone]
    assert recorded[-1]["sintesi_monitoraggio"] == "Tirocinio interrotto."
