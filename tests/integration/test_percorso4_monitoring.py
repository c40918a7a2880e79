"""Monitoring in itinere on request, and equipe outcomes that arrive for a case no longer waiting for them."""

from __future__ import annotations

from datetime import datetime, timedelta
from html import unescape

import pytest

from gol_workflow.domain.errors import InvalidState, NotFound, ValidationFailed
from gol_workflow.domain.model import Actor
from gol_workflow.services.workflow import instances as instance_service
from gol_workflow.services.cases import monitoring
from tests.conftest import ADMIN, ROME
from tests.integration.percorso4_support import (  # noqa: F401 - fixtures
    MONITORING_PARTS,
    FINAL_PARTS,
    LUCIA,
    MARCO,
    PROGETTO,
    Percorso4,
    local_day,
    p4,
    profilo,
    scheda,
    smtp,
)


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ROME)


def in_the_path(p4: Percorso4, cases: dict[str, str]) -> None:
    """Profiling, one equipe for all, booking and first meeting, project: every case in its 12 months."""
    for case in cases:
        p4.complete("profilazione", case, profilo(), "cpi.pistoia")
    p4.hold_meeting("pistoiese-20260113", {case: scheda(presente=True) for case in cases}, by="sds.pistoia")
    slots = {case: p4.book_first_appointment(case, manager, "cpi.pistoia") for case, manager in cases.items()}
    p4.advance_to(max(datetime.fromisoformat(s) for s in slots.values()) + timedelta(hours=1))
    for case, manager in cases.items():
        p4.start_path(case, manager, slots[case])
        p4.complete("progetto_individualizzato", case, PROGETTO, manager)


def answer_reminders(p4: Percorso4, cases: dict[str, str], until: datetime) -> None:
    """Every three-month reminder of these cases is answered by their case manager, until `until`."""
    while True:
        due = min(p4.header(case)["next_due_at"] for case in cases)
        if due >= until:
            return
        p4.advance_to(due + timedelta(minutes=1))
        for case, manager in cases.items():
            if p4.ready(case) == MONITORING_PARTS:
                p4.monitor(case, p4.monitoraggio(), manager)


def ask(p4: Percorso4, case: str, who: str | Actor, why: str = "Il beneficiario ha lasciato il tirocinio."
        ) -> monitoring.MonitoringRequest:
    actor = who if isinstance(who, Actor) else p4.actors[who]
    try:
        return monitoring.request_monitoring(p4.rt, case, why, actor)
    finally:
        p4.rt.workflows.clear()


def test_cpi_sds_and_the_assigned_case_manager_can_ask_for_a_monitoring(p4: Percorso4) -> None:
    case = p4.open_case("pistoiese", LUCIA)
    in_the_path(p4, {case: "cm.rossi"})
    assert monitoring.can_request(p4.rt, case, p4.actors["cpi.pistoia"])

    request = ask(p4, case, "cpi.pistoia", "Il beneficiario è stato assunto.")
    assert request.richiesto_da == "Carla Pieri (Centro per l'Impiego)"
    assert p4.ready(case) == MONITORING_PARTS
    page = p4.task_page("monitoraggio_parte_cpi", case, "cpi.pistoia")  # each service's part says why
    assert "Richiesto da Carla Pieri (Centro per l'Impiego): Il beneficiario è stato assunto." in unescape(
        str(page.instructions))
    (event,) = [e for e in p4.audit("message.delivered", case) if e["data"]["message"] == "richiesta_monitoraggio"]
    assert event["actor"] == "cpi.pistoia"

    with pytest.raises(InvalidState, match="not in the 12-month path waiting"):
        ask(p4, case, "sds.pistoia")  # a monitoring is already open
    p4.monitor(case, p4.monitoraggio(), "cm.rossi")
    assert ask(p4, case, "sds.pistoia").richiesto_da == "Sara Desideri (Servizi Sociali)"
    p4.monitor(case, p4.monitoraggio(), "cm.rossi")
    assert ask(p4, case, "cm.rossi").richiesto_da == "Anna Rossi (ATS, case manager)"
    assert p4.ready(case) == MONITORING_PARTS
    assert p4.buffered() == []


def test_a_request_is_refused_outside_the_12_month_path_and_never_kept(p4: Percorso4) -> None:
    case = p4.open_case("pistoiese", LUCIA)
    p4.complete("profilazione", case, profilo(), "cpi.pistoia")  # waiting for the equipe
    assert not monitoring.can_request(p4.rt, case, p4.actors["cpi.pistoia"])
    with pytest.raises(InvalidState, match="not in the 12-month path"):
        ask(p4, case, "cpi.pistoia")
    assert p4.buffered() == []
    assert p4.header(case)["status"] == "waiting"


def test_only_those_who_follow_the_case_may_ask(p4: Percorso4) -> None:
    case = p4.open_case("pistoiese", LUCIA)
    in_the_path(p4, {case: "cm.rossi"})
    for outsider in ("cpi.pescia", "sds.pescia", "cm.bianchi", "cm.verdi"):
        with pytest.raises(NotFound):
            ask(p4, case, outsider)
        assert not monitoring.can_request(p4.rt, case, p4.actors[outsider])
    specialist = Actor("ufsma.pistoia", "specialist", frozenset({"pistoiese"}), frozenset({"salute_mentale"}))
    with pytest.raises(NotFound):
        ask(p4, case, specialist)
    with pytest.raises(ValidationFailed) as empty:
        ask(p4, case, "cpi.pistoia", "   ")
    assert empty.value.errors == {"motivo": ["Indicare il motivo della richiesta."]}
    instance_service.suspend(p4.rt, case, ADMIN, "verifica dati")
    with pytest.raises(InvalidState):
        ask(p4, case, "cpi.pistoia")  # a suspended case does not take requests (they are not kept either)
    assert p4.buffered() == [] and p4.ready(case) == []


def test_an_equipe_outcome_for_a_case_closed_at_12_months_is_dropped_not_kept_forever(p4: Percorso4) -> None:
    closed_first = p4.open_case("pistoiese", LUCIA)
    closed_later = p4.open_case("pistoiese", MARCO)
    cases = {closed_first: "cm.rossi", closed_later: "cm.bianchi"}
    in_the_path(p4, cases)
    end = datetime.fromisoformat(p4.data(closed_first)["data_fine_percorso"])
    assert end == at(2027, 1, 14)
    answer_reminders(p4, cases, at(2027, 1, 8))

    # Friday 8 January 2027: both ask for a review; the next open agenda is Tuesday 19 January, after the end.
    p4.advance_to(at(2027, 1, 8, 10, 0))
    for case, manager in cases.items():
        ask(p4, case, "cpi.pistoia", "Proposta di cambio del progetto.")
        p4.monitor(case, p4.monitoraggio(modifica=True), manager)
        assert p4.meetings_of(case)[-1]["id"] == "pistoiese-20270119"

    p4.advance_to(end + timedelta(minutes=1))  # the 12 months run out while both wait for the review
    for case in cases:
        assert p4.ready(case) == FINAL_PARTS
    p4.advance_to(at(2027, 1, 14, 9, 31))  # the review's agenda left at its cut-off with both cases on it
    assert set(p4.data(p4.meeting("pistoiese-20270119")["instance_id"])["casi"]) == set(cases)
    final = {"data_monitoraggio_finale": local_day(end), "esito": "inclusione_sociale", "obiettivi_raggiunti": "in_parte"}
    p4.final(closed_first, final, "cpi.pistoia")
    assert p4.header(closed_first)["status"] == "completed"

    p4.hold_meeting("pistoiese-20270119", {closed_later: scheda(presente=True)}, by="sds.pistoia")
    # The case closed before the meeting time is not discussed at all: no scheda, no outcome to drop.
    def discussed(case: str) -> list[str]:
        return [e["data"]["meeting"] for e in p4.audit("equipe.discussion_opened", case)]
    assert p4.ready(closed_first) == [] and discussed(closed_first) == ["pistoiese-20260113"]
    assert discussed(closed_later) == ["pistoiese-20260113", "pistoiese-20270119"]
    (kept,) = p4.buffered()  # the other case is still open: its outcome is kept for now
    assert kept["name"] == "esito_equipe" and kept["correlation"] == f"case_id={closed_later}"

    p4.final(closed_later, final, "cpi.pistoia", manager="cm.bianchi")
    assert p4.header(closed_later)["status"] == "completed"
    assert p4.buffered() == []
    (dropped,) = p4.audit("message.dropped", closed_later)
    assert dropped["data"]["message"] == "esito_equipe" and "kept_since" in dropped["data"]
