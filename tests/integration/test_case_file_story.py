"""The case file tells a Percorso 4 case's story in Italian, on the web, in its PDF and over the API; its actions."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta

from pypdf import PdfReader

from gol_workflow.services.access import tokens
from gol_workflow.web import create_app
from tests.conftest import ADMIN
from tests.integration.percorso4_support import (  # noqa: F401 - fixtures
    MONITORING_PARTS,
    PROGETTO,
    SARA,
    Percorso4,
    local_day,
    p4,
    scheda,
    smtp,
)
from tests.integration.test_case_list_percorso4 import logged_in
from tests.integration.test_percorso4_path import answer_reminders_until, at, into_the_path
from tests.web.test_words import visible

# Codes of this walk that must never reach an operator (they are the process's data, not words).
CODES = ("presa_in_carico", "tirocinio_inclusione", "orientamento_specialistico", "in_formazione", "in_parte",
         "con_difficolta", "centro_impiego", "servizio_sociale", "modifica_sostanziale", "richiesta_monitoraggio",
         "esito_equipe", "equipe.booked", "task.completed", "cm.rossi", "sds.pistoia", "cpi.pistoia", "pistoiese",
         "inclusione_sociale", "prima_valutazione")


def walk_to_the_end(p4: Percorso4) -> str:
    """Sara Gialli's year: a substantial change reported from the case file in May, reviewed, closed in formazione."""
    case = p4.open_case("pistoiese", SARA)
    into_the_path(p4, case)
    end = datetime.fromisoformat(p4.data(case)["data_fine_percorso"])
    answer_reminders_until(p4, case, at(2026, 5, 1))
    p4.advance_to(at(2026, 5, 14, 10, 0))
    sds = logged_in(p4, "sds.pistoia")
    sds.text(f"/casi/{case}")
    sent = sds.post(f"/casi/{case}/modifica-sostanziale", {"descrizione": "Ha lasciato il tirocinio.", "conferma": "1"})
    assert sent.status_code == 302
    assert "Modifica sostanziale segnalata" in sds.text(f"/casi/{case}")
    p4.rt.workflows.clear()
    assert sorted(p4.ready(case)) == sorted(MONITORING_PARTS)  # the services' parts, then the joint record
    p4.monitor_parts(case)
    assert "Segnalata una modifica sostanziale del progetto: Ha lasciato il tirocinio." in \
        p4.data(case)["richiesta_monitoraggio"]["motivo"]  # what the case manager reads in the task
    p4.complete("monitoraggio", case, p4.monitoraggio(modifica=True), "cm.rossi")
    review = p4.meetings_of(case)[-1]
    p4.hold_meeting(review["id"], {case: scheda(presente=True, nota="corso di formazione", misure=["formazione"])},
                    by="sds.pistoia")
    p4.complete("aggiorna_progetto", case, {**PROGETTO, "modifiche_concordate": "Tirocinio sostituito da un corso.",
                                            "data_sottoscrizione_progetto": "2026-06-12"}, "cm.rossi")
    answer_reminders_until(p4, case, end)
    p4.advance_to(end + timedelta(minutes=1))
    p4.final_parts(case)
    p4.complete("monitoraggio_finale", case, {"data_monitoraggio_finale": local_day(p4.now()),
                                              "esito": "in_formazione", "obiettivi_raggiunti": "in_parte"},
                "cpi.pistoia")
    return case


def in_order(text: str, *parts: str) -> None:
    """Each part appears in the text after the one before it."""
    position = 0
    for part in parts:
        found = text.find(part, position)
        assert found >= 0, f"{part!r} not found after position {position}"
        position = found + len(part)


def test_a_case_walked_to_its_end_tells_its_story_on_the_page_in_the_pdf_and_over_the_api(p4: Percorso4) -> None:
    case = walk_to_the_end(p4)
    cpi = logged_in(p4, "cpi.pistoia")
    for _ in range(3):
        html = cpi.text(f"/casi/{case}")
    page = visible(html)
    assert [code for code in CODES if code in page] == []

    # The case in brief, from its record.
    in_order(page, "Il caso in sintesi", "Bisogni complessi Sì", "Percorso assegnato Percorso 4",
              "Decisione Presa in carico integrata: percorso confermato",
              "Misure Formazione (aggiornamento o riqualificazione)",
              "Primo appuntamento Data e ora 14/01/2026 ore 09:00 Case manager Anna Rossi",
              "Avvio del percorso 14/01/2026 Fine del percorso 14/01/2027 Monitoraggi svolti 4",
              "Modifiche sostanziali 1", "Monitoraggio finale 14/01/2027 Esito del percorso In formazione")
    # The story, step by step, with each outcome in words and who did it.
    in_order(page, "Storia del caso",
             "Caso aperto 05/01/2026 ore 08:00 · Carla Pieri",
             "Attività completata: Profilazione e assessment", "Carla Pieri",
             "Fabbisogno formativo Aggiornamento delle competenze (upskilling)",
             "Scheda di esito dell'equipe 13/01/2026 ore 09:31 · Sara Desideri",
             "Servizi presenti Centro per l'Impiego; Servizio Sociale",
             "Decisione dell'equipe Presa in carico integrata: percorso confermato",
             "Percorsi e misure individuati Orientamento specialistico; Tirocinio di inclusione sociale",
             "Appuntamento registrato su IDOL: 14/01/2026 ore 09:00 con Anna Rossi", "Sistema",
             "Attività completata: Prenotare il primo appuntamento con il case manager",
             "Data e ora 14/01/2026 ore 09:00 Case manager Anna Rossi",
             "Attività completata: Progetto individualizzato", "Anna Rossi",
             "Obiettivo Partecipare a un gruppo di auto mutuo aiuto", "Misura Tirocinio di inclusione sociale",
             "Attività completata: Monitoraggio in itinere", "Andamento Regolare, in linea con il progetto",
             "Modifica sostanziale segnalata: Ha lasciato il tirocinio. 14/05/2026 ore 10:00 · Sara Desideri",
             "Iscritto all'ordine del giorno dell'equipe: riunione del 26/05/2026 ore 09:30, modifica sostanziale",
             "Attività completata: Monitoraggio in itinere", "Serve una modifica sostanziale del progetto Sì",
             "Modifica proposta all'equipe Sostituire il tirocinio con un corso di formazione.",
             "Scheda di esito dell'equipe 26/05/2026", "Note corso di formazione",
             "Attività completata: Aggiornare il progetto individualizzato", "Tirocinio sostituito da un corso.",
             "Attività completata: Monitoraggio finale 14/01/2027 ore 00:01 · Carla Pieri",
             "Esito del percorso In formazione", "Obiettivi del progetto Raggiunti in parte")
    # Reads: one line per person, however many times.
    assert len(re.findall(r"Fascicolo consultato da Carla Pieri", page)) == 1
    assert re.search(r"Fascicolo consultato da Carla Pieri \(\d+ volte, ultima 14/01/2027 ore 00:01\)", page)
    assert "Fascicolo consultato da Sara Desideri" in page
    # A closed case offers no request any more.
    assert "Richiedi un monitoraggio" not in page and "Segnala una modifica sostanziale" not in page

    response = cpi.get(f"/casi/{case}/fascicolo.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "fascicolo-sara-gialli.pdf" in response.headers["Content-Disposition"]
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages).split())
    assert "Fascicolo del caso" in text and "Sara Gialli" in text and "GLLSRA85M45G713Q" in text
    assert "Esito del percorso In formazione" in text and "Modifica sostanziale segnalata" in text
    printed = p4.audit("document.viewed", case)
    assert [(e["actor"], e["data"]["documento"]) for e in printed] == [("cpi.pistoia", "fascicolo")]

    token = tokens.issue_token(p4.rt, "cm.rossi", ADMIN).secret
    api = create_app(p4.rt, {"TESTING": True}).test_client()
    body = api.get(f"/api/v1/cases/{case}", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert body["outcome"] == "in_formazione" and body["monitorings"] == 4
    steps = [(e["label"], e["detail"], e["author"]) for e in body["story"] if e["step"]]
    assert steps[:4] == [("Caso aperto", "", "Carla Pieri"),
                         ("Attività completata", "Profilazione e assessment", "Carla Pieri"),
                         ("Scheda di esito dell'equipe", "", "Sara Desideri"),
                         ("Attività completata", "Prenotare il primo appuntamento con il case manager", "Carla Pieri")]
    final = next(e for e in body["story"] if e["detail"] == "Monitoraggio finale")
    assert {"label": "Esito del percorso", "text": "In formazione", "depth": 0} in final["outcome"]
    chiusura = next(s for s in body["summary"] if s["title"] == "Chiusura")
    assert {"label": "Esito del percorso", "text": "In formazione"} in chiusura["facts"]
    assert any(r["author"] == "Carla Pieri" and r["times"] >= 3 for r in body["reads"])
    assert body["actions"] == ["case.attach", "case.record_placement"]  # closed: nothing to request
    pdf = api.get(f"/api/v1/cases/{case}/pdf", headers={"Authorization": f"Bearer {token}"})
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert "Sara Gialli" in "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)


def test_the_requests_are_offered_to_those_who_may_make_them_and_refused_to_others(p4: Percorso4) -> None:
    case = p4.open_case("pistoiese", SARA)
    cpi = logged_in(p4, "cpi.pistoia")
    page = cpi.text(f"/casi/{case}")
    assert "Segnala una modifica sostanziale" not in page  # not in the 12-month path yet
    early = cpi.post(f"/casi/{case}/modifica-sostanziale", {"descrizione": "Cambio.", "conferma": "1"})
    assert early.status_code == 302 and "non può ricevere richieste" in cpi.text(f"/casi/{case}")
    into_the_path(p4, case)

    for username in ("cpi.pistoia", "sds.pistoia", "cm.rossi"):
        page = logged_in(p4, username).text(f"/casi/{case}")
        assert 'href="#titolo-modifica">Segnala una modifica sostanziale</a>' in page, username
        assert 'href="#titolo-monitoraggio">Richiedi un monitoraggio</a>' in page, username
    for username in ("cm.verdi", "cpi.pescia"):  # another case manager, another zone: the case does not exist for them
        other = logged_in(p4, username)
        assert other.get(f"/casi/{case}").status_code == 404
        refused = other.post(f"/casi/{case}/modifica-sostanziale", {"descrizione": "Cambio.", "conferma": "1"})
        assert refused.status_code == 404

    manager = logged_in(p4, "cm.rossi")
    manager.text(f"/casi/{case}")
    unconfirmed = manager.post(f"/casi/{case}/modifica-sostanziale", {"descrizione": "Cambio di tirocinio."})
    assert unconfirmed.status_code == 302
    assert "confermare che va riportata in equipe" in manager.text(f"/casi/{case}")
    empty = manager.post(f"/casi/{case}/modifica-sostanziale", {"descrizione": " ", "conferma": "1"})
    assert empty.status_code == 302 and "Descrivere la modifica sostanziale." in manager.text(f"/casi/{case}")
    p4.rt.workflows.clear()
    assert p4.ready(case) == []  # nothing was sent
    no_token = manager.client.post(f"/casi/{case}/modifica-sostanziale",
                                   data={"descrizione": "Cambio.", "conferma": "1"})
    assert no_token.status_code == 400  # CSRF
    assert manager.post(f"/casi/{case}/modifica-sostanziale",
                        {"descrizione": "Cambio di tirocinio.", "conferma": "1"}).status_code == 302
    p4.rt.workflows.clear()
    assert sorted(p4.ready(case)) == sorted(MONITORING_PARTS)
    (delivered,) = [e for e in p4.audit("message.delivered", case) if e["data"]["message"] == "richiesta_monitoraggio"]
    assert delivered["actor"] == "cm.rossi" and delivered["data"]["richiesta"] == "modifica_sostanziale"
    assert "Segnala una modifica sostanziale" not in manager.text(f"/casi/{case}")  # a monitoring is open now
