"""Percorso 4 from access to closure in the browser only: a CPI operator, an SdS referent and an ATS case
manager carry one beneficiary through the year while the simulated clock moves through the 12 months.

Only the clock is moved outside the browser, exactly as a trainer does with `gol-workflow clock advance`
(both run `services.clock.step_to`, which fires every timer and equipe cut-off on the way).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from gol_workflow.forms.codice_fiscale import check_character
from gol_workflow.services.workflow import clock as clock_service
from gol_workflow.web import create_app
from tests.conftest import ADMIN, ROME
from tests.integration.percorso4_support import PASSWORD, Percorso4, build
from tests.integration.scheduling_support import SmtpServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CF = "BNCLCU80A41G713"  # + check character, typed by the operator


@pytest.fixture
def p4(settings: Any, clock: Any) -> Iterator[Percorso4]:
    server = SmtpServer()
    server.start()
    service = build(settings, clock, server)
    yield service
    server.stop()
    service.rt.db.dispose()


@pytest.fixture
def app(p4: Percorso4) -> Any:
    """The web app on the Percorso 4 service (overrides the small test app)."""
    return create_app(p4.rt, {"TESTING": True})


def fill(page: Any, values: dict[str, Any]) -> None:
    """Fill a rendered form by field name, as a person would: type, pick, tick."""
    for name, value in values.items():
        first = page.locator(f'[name="{name}"]').first
        kind = first.evaluate("e => e.tagName.toLowerCase() + ':' + (e.type || '')")
        if kind.startswith("select"):
            first.select_option(value)
        elif kind in ("input:radio", "input:checkbox"):
            wanted = {str(v) for v in (value if isinstance(value, list) else [value])}
            for box in page.locator(f'[name="{name}"]').all():  # set each box to the wanted state
                if box.is_checked() != (box.get_attribute("value") in wanted):
                    page.locator(f'label[for="{box.get_attribute("id")}"]').click()
        else:
            first.fill(str(value))


def open_task(person: Any, beneficiary: str, task: str) -> None:
    """From the inbox, open the task of this beneficiary (by the row's link)."""
    person.goto("/attivita")
    row = person.page.locator("tr", has_text=task).filter(has_text=beneficiary)
    row.get_by_role("link", name=beneficiary).click()
    person.page.wait_for_url("**/attivita/*")
    assert person.page.get_by_role("heading", level=1).inner_text() == task


def complete(person: Any, values: dict[str, Any]) -> str:
    """Fill and complete the open task; returns the "what happens next" text."""
    fill(person.page, values)
    person.page.get_by_role("button", name="Completa l'attività").click()
    person.page.wait_for_load_state()
    errors = person.page.locator("#riepilogo-errori")
    assert not errors.count(), errors.inner_text()
    person.page.wait_for_url("**/attivita/fatta/**")
    return person.page.locator("#cosa-succede").inner_text()


def _text(message: Any) -> str:
    body = message.get_body(preferencelist=("plain", "html"))
    return str(body.get_content()) if body is not None else ""


def advance_to(p4: Percorso4, moment: datetime) -> None:
    """The trainer moves the simulated clock (every timer passed fires at its moment)."""
    clock_service.step_to(p4.rt, moment, ADMIN)


def test_one_beneficiary_from_access_to_closure_in_the_browser(p4: Percorso4, page: Any) -> None:
    violations: dict[str, list[str]] = {}
    cpi, sds, ats = page(), page(), page()
    cpi.login("cpi.pistoia", PASSWORD)
    sds.login("sds.pistoia", PASSWORD)
    ats.login("cm.rossi", PASSWORD)

    # Step 1: access and assessment at the CPI.
    cpi.page.get_by_role("link", name="Nuovo caso").first.click()
    fill(cpi.page, {"beneficiario.codice_fiscale": (CF + check_character(CF)).lower(), "beneficiario.cognome": "Bianchi",
                    "beneficiario.nome": "Lucia", "beneficiario.data_nascita": "1980-01-01", "zona": "pistoiese"})
    cpi.page.get_by_role("button", name="Apri il caso").click()
    cpi.page.wait_for_url("**/attivita/fatta/**")
    cpi.page.locator("#prossima-attivita").click()
    violations["profilazione"] = cpi.axe()
    known = cpi.page.locator("#campo-conosciuto_servizio_sociale-blocco")  # shown only for complex needs
    assert known.is_hidden()
    fill(cpi.page, {"bisogni_complessi": "false"})
    assert known.is_hidden()
    fill(cpi.page, {"bisogni_complessi": "true"})
    assert known.is_visible()
    after = complete(cpi, {"bisogni_complessi": "true", "fabbisogno_formativo": "aggiornamento",
                           "conosciuto_servizio_sociale": "false", "bisogni_particolari": "false",
                           "note_assessment": "Disoccupata da oltre 24 mesi."})
    assert "attesa" in after.lower()
    case_url = cpi.page.get_by_role("link", name="Apri il fascicolo").get_attribute("href")
    case_id = case_url.rsplit("/", 1)[1]

    # Step 2: the case is on the next equipe agenda of its zone.
    cpi.goto("/agenda")
    assert "Lucia Bianchi" in cpi.page.locator("main").inner_text()
    violations["agenda"] = cpi.axe()
    meeting = p4.meetings_of(case_id)[-1]

    # Step 3: at the meeting the SdS referent writes the scheda di esito.
    advance_to(p4, meeting["scheduled_at"] + timedelta(minutes=5))
    assert any("Bianchi" in _text(message) for _, _, message in p4.smtp.mailbox.messages)  # the ordine del giorno
    open_task(sds, "Lucia Bianchi", "Scheda di esito")
    violations["scheda di esito"] = sds.axe()
    complete(sds, {"scheda_esito.servizi_presenti": ["centro_impiego", "servizio_sociale"],
                   "scheda_esito.referenti_presenti": "C. Pieri (CPI), S. Desideri (SdS)",
                   "scheda_esito.beneficiario_presente": "true", "scheda_esito.decisione": "presa_in_carico",
                   "scheda_esito.misure": ["orientamento_specialistico", "tirocinio_inclusione"],
                   "scheda_esito.obiettivo_inclusione_sociale": "Rafforzare la rete di relazioni.",
                   "scheda_esito.obiettivo_occupabilita": "Recuperare routine e competenze.",
                   "scheda_esito.obiettivo_inserimento_lavorativo": "Tirocinio in cooperativa sociale.",
                   "scheda_esito.referente_servizio_sociale": "S. Desideri"})
    # The CPI and the Social Services each confirm the decision, in their own queue; then it is final.
    open_task(cpi, "Lucia Bianchi", "Confermare la decisione dell'equipe")
    assert "Centro per l'Impiego: confermare la decisione" in cpi.page.locator("main").inner_text()
    violations["conferma"] = cpi.axe()
    complete(cpi, {"conferma_partecipante.esito": "conferma"})
    open_task(sds, "Lucia Bianchi", "Confermare la decisione dell'equipe")
    assert "Servizio Sociale: confermare la decisione" in sds.page.locator("main").inner_text()
    complete(sds, {"conferma_partecipante.esito": "conferma"})

    # Step 4: the CPI books the first appointment with the case manager.
    open_task(cpi, "Lucia Bianchi", "Prenotare il primo appuntamento con il case manager")
    slot = cpi.page.locator('[name="slot_appuntamento"] option').nth(1).get_attribute("value")
    complete(cpi, {"slot_appuntamento": slot, "case_manager": "cm.rossi"})
    cpi.goto(case_url)
    assert "Scheda di esito dell'equipe" in cpi.page.locator("main").inner_text()
    pdf = cpi.page.request.get(cpi.base + case_url + "/scheda-esito.pdf")
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF")

    # Step 5: first meeting with the case manager and the individual project.
    advance_to(p4, datetime.fromisoformat(slot) + timedelta(hours=1))
    start = datetime.fromisoformat(slot).astimezone(ROME).date().isoformat()
    open_task(ats, "Lucia Bianchi", "Primo colloquio con il case manager")
    complete(ats, {"presente_primo_colloquio": "true", "data_avvio_percorso": start,
                   "note_primo_colloquio": "Motivata."})
    ats.page.locator("#prossima-attivita").click()
    assert ats.page.get_by_role("heading", level=1).inner_text() == "Progetto individualizzato"
    violations["progetto"] = ats.axe()
    # The form starts from the scheda: its three objectives, its two measures.
    assert ats.page.locator('[name="obiettivi.2.obiettivo"]').input_value() == "Tirocinio in cooperativa sociale."
    assert "Tirocinio di inclusione sociale" in ats.page.locator("main").inner_text()
    ats.page.get_by_role("button", name="Aggiungi riga a Attività").click()  # a second row, without JavaScript help
    complete(ats, {"data_sottoscrizione_progetto": start,
                   "obiettivi.0.risultato_atteso": "Almeno 8 incontri",
                   "obiettivi.1.risultato_atteso": "Orari rispettati",
                   "obiettivi.2.risultato_atteso": "Sei mesi di tirocinio",
                   "attivita.0.misura": "tirocinio_inclusione", "attivita.0.descrizione": "Tirocinio in cooperativa",
                   "attivita.1.misura": "orientamento_specialistico", "attivita.1.descrizione": "Colloqui",
                   "impegni_beneficiario": "Presentarsi agli incontri.", "sostegni_servizi": "Trasporto dal Servizio Sociale."})

    # Step 6: monitoring in itinere through the year, on the reminders.
    end = datetime.fromisoformat(p4.data(case_id)["data_fine_percorso"])
    monitorings = 0
    while (due := p4.header(case_id)["next_due_at"]) is not None and due < end:
        advance_to(p4, due + timedelta(days=2))
        # The CPI and the Social Services record their parts; then the case manager the joint record.
        open_task(cpi, "Lucia Bianchi", "Monitoraggio: parte del Centro per l'Impiego")
        complete(cpi, {"parte_cpi.referente": "C. Pieri", "parte_cpi.partecipazione": "in_presenza",
                       "parte_cpi.valutazione": "Impegni rispettati."})
        open_task(sds, "Lucia Bianchi", "Monitoraggio: parte dei Servizi sociali")
        if not monitorings:
            violations["parte dei servizi sociali"] = sds.axe()
        complete(sds, {"parte_servizi_sociali.referente": "S. Desideri",
                       "parte_servizi_sociali.partecipazione": "contributo_scritto",
                       "parte_servizi_sociali.valutazione": "Rete familiare stabile."})
        open_task(ats, "Lucia Bianchi", "Monitoraggio in itinere")
        if monitorings:  # a repeated monitoring starts empty; the last answers are copied only on request
            boxes = ats.page.locator('[name="partecipanti_monitoraggio"]')
            assert not any(boxes.nth(i).is_checked() for i in range(boxes.count()))
            assert ats.page.get_by_role("button", name="Copia dall'ultimo monitoraggio").count() == 1
        complete(ats, {"data_monitoraggio": p4.now().date().isoformat(),
                       "partecipanti_monitoraggio": ["beneficiario", "ats"], "andamento": "regolare",
                       "sintesi_monitoraggio": "Attività svolte regolarmente.", "modifica_sostanziale": "false",
                       "chiusura_anticipata": "false"})
        monitorings += 1
    assert monitorings >= 3

    # Closure after 12 months: the final monitoring records the outcome.
    advance_to(p4, end + timedelta(hours=1))
    open_task(ats, "Lucia Bianchi", "Monitoraggio: parte del case manager")
    complete(ats, {"parte_ats.referente": "A. Rossi", "parte_ats.partecipazione": "in_presenza",
                   "parte_ats.valutazione": "Obiettivi raggiunti."})
    open_task(sds, "Lucia Bianchi", "Monitoraggio: parte dei Servizi sociali")
    complete(sds, {"parte_servizi_sociali.referente": "S. Desideri", "parte_servizi_sociali.partecipazione": "a_distanza",
                   "parte_servizi_sociali.valutazione": "Nessuna criticità."})
    open_task(cpi, "Lucia Bianchi", "Monitoraggio finale")
    violations["monitoraggio finale"] = cpi.axe()
    after = complete(cpi, {"data_monitoraggio_finale": p4.now().date().isoformat(), "esito": "occupato",
                           "tipo_contratto": "tempo_determinato", "obiettivi_raggiunti": "raggiunti"})
    assert "concluso" in after
    cpi.goto(case_url)
    text = cpi.page.locator("main").inner_text()
    assert "Concluso" in text and "Monitoraggio finale" in text
    violations["fascicolo concluso"] = cpi.axe()
    assert not {k: v for k, v in violations.items() if v}
    for person in (cpi, sds, ats):
        assert not person.csp_violations
