"""Operators read Italian words, never internal names: actions, services, actors, the claim button."""

from __future__ import annotations

from html.parser import HTMLParser

from gol_workflow.domain import labels
from gol_workflow.services.workflow import tasks as task_service

from .conftest import actor_of, ready, start_case
from .test_agenda import _meeting

# Codes that must never reach an operator's eyes.
INTERNAL = sorted(set(labels.ACTIONS) | {"salute_mentale", "dipendenze", "richiesta_monitoraggio", "root", "sistema",
                                         "ats.nord", "cpi.nord", "sds.nord", "prima_valutazione"})


class _Visible(HTMLParser):
    """The text a person reads on a page (not markup, attributes or scripts)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def visible(html: str) -> str:
    parser = _Visible()
    parser.feed(html)
    return " ".join("".join(parser.parts).split())


def raw_codes(text: str) -> list[str]:
    return [code for code in INTERNAL if code in text]


def walked_case(rt) -> str:
    """A case profiled with a specialist service, past the equipe, with the service's own events by 'root'."""
    case_id = start_case(rt, "nord")
    task_service.complete_task(rt, ready(rt, case_id)[0]["id"],
                               {"bisogni_particolari": True, "servizi_specialistici": ["salute_mentale"],
                                "case_manager": "ats.nord", "data_colloquio": "2026-01-07"},
                               actor_of("cpi.nord"), options={"case_manager": ["ats.nord"],
                                                              "servizi_specialistici": ["salute_mentale"]})
    task_service.complete_task(rt, ready(rt, case_id)[0]["id"],
                               {"scheda_esito": {"percorso": "tirocinio", "obiettivi": "Autonomia."}},
                               actor_of("sds.nord"))
    with rt.uow() as uow:
        now = rt.now()
        uow.audit.record(now, "sistema", "equipe.booked", case_id, data={"meeting": "nord-20260113"})
        uow.audit.record(now, "root", "timer.fired", case_id, data={"due_at": now.isoformat()})  # a clock moved from the shell
        uow.audit.record(now, "root", "message.delivered", case_id, data={"message": "richiesta_monitoraggio"})
        uow.commit()
    _meeting(rt, "nord", 13, [(case_id, "Laura Bianchi", ["salute_mentale"])])
    return case_id


def test_pages_of_a_walked_case_show_italian_words_only(web_runtime, browser) -> None:
    case_id = walked_case(web_runtime)
    sds, ats = browser("sds.nord"), browser("ats.nord")
    case_page = visible(sds.text(f"/casi/{case_id}"))
    assert raw_codes(case_page) == []
    when = "05/01/2026 ore 08:00"
    assert f"Iscritto all'ordine del giorno dell'equipe: riunione del 13/01/2026 ore 09:30 {when} · Sistema" in case_page
    assert f"Scadenza raggiunta {when} · Sistema" in case_page
    assert f"Comunicazione ricevuta: richiesta di monitoraggio {when} · Amministrazione" in case_page
    assert f"Attività completata: Profilazione {when} · Cpi Nord" in case_page
    assert "Salute mentale adulti" in case_page and "Ats Nord" in case_page
    task_page = visible(ats.text(f"/attivita/{ready(web_runtime, case_id)[0]['id']}"))
    assert raw_codes(task_page) == [] and f"Scadenza raggiunta {when} · Sistema" in task_page
    for person in (ats, browser("cpi.nord")):
        assert raw_codes(visible(person.text("/attivita"))) == []
    agenda = visible(sds.text("/agenda"))
    assert raw_codes(agenda) == [] and "servizi invitati: Salute mentale adulti" in agenda


def test_the_claim_button_says_assign_to_me(web_runtime, browser) -> None:
    case_id = start_case(web_runtime, "nord")
    task_id = ready(web_runtime, case_id)[0]["id"]
    person = browser("cpi.nord")
    inbox = person.text("/attivita")
    assert "Assegna a me" in inbox and "Prendi in carico" not in inbox and "Non assegnate" in inbox
    assert "Assegna a me" in person.text(f"/attivita/{task_id}")
    person.post(f"/attivita/{task_id}/prendi", {"next": "/attivita"})
    page = person.text("/attivita")
    assert "Attività assegnata a lei." in page and "Rilascia" in page
    colleague = browser("cpi.nord.bis")
    assert "Cpi Nord" in visible(colleague.text("/attivita"))  # "Assegnata a" shows the name, not the username
