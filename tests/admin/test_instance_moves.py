"""Moving a real Percorso 4 case by hand: back to a completed task, skip the open one, cancel one branch."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gol_workflow.domain.errors import InputRefused, MoveRefused
from gol_workflow.services.administration import instance_moves
from gol_workflow.services.cases import case_file
from gol_workflow.services.workflow import instances as instance_service
from gol_workflow.services.workflow import task_view
from tests.conftest import ADMIN
from tests.integration.percorso4_support import (  # noqa: F401 - fixtures
    LUCIA,
    MONITORING_PARTS,
    PROGETTO,
    Percorso4,
    p4,
    profilo,
    scheda,
    smtp,
)

OTHER_ADMIN = ADMIN.__class__(username="admin2", role="admin")


def record(p4: Percorso4, case: str) -> dict:
    with p4.rt.uow(write=False) as uow:
        row = uow.case_records.get(case)
    return dict(row) if row is not None else {}


def booked(p4: Percorso4, case: str) -> list[str]:
    return [m["id"] for m in p4.meetings_of(case) if case in m["items"]]


def test_back_to_profiling_from_the_equipe_wait_shows_then_makes_the_move(p4: Percorso4) -> None:
    case = p4.open_case("pistoiese", LUCIA)
    p4.complete("profilazione", case, profilo(conosciuto=True), "cpi.pistoia")
    assert booked(p4, case) and p4.ready(case) == []
    assert record(p4, case)["complex_needs"] is True

    plan = instance_moves.move(p4.rt, ADMIN, case, "back_to", "profilazione sbagliata", element="profilazione",
                               dry_run=True)
    assert not plan.applied
    assert [(i.element_id, i.kind) for i in plan.created] == [("profilazione", "task")]
    assert [(i.element_id, i.kind) for i in plan.cancelled] == [("attesa_esito_equipe", "message")]
    assert plan.agenda_withdrawn == booked(p4, case)
    assert plan.previous_answers["conosciuto_servizio_sociale"] is True
    assert plan.facts_cleared["complex_needs"] is True
    assert p4.ready(case) == [] and booked(p4, case)  # a preview changes nothing

    done = instance_moves.move(p4.rt, ADMIN, case, "back_to", "profilazione sbagliata", element="profilazione")
    assert done.applied
    assert p4.ready(case) == ["profilazione"]
    assert booked(p4, case) == []  # taken off the equipe's agenda
    assert p4.header(case)["status"] == "running"
    assert record(p4, case)["complex_needs"] is None  # the facts of the undone profiling are cleared
    moved = p4.audit("instance.moved", case)
    assert moved[-1]["actor"] == "admin" and moved[-1]["data"]["reason"] == "profilazione sbagliata"
    assert p4.audit("case.facts_superseded", case)[-1]["data"]["complex_needs"] is True

    # The redo shows the earlier answers but does not start from them (the admin did not ask for it).
    view = p4.task_page("profilazione", case, "cpi.pistoia")
    assert view.previous and view.previous["conosciuto_servizio_sociale"] is True
    assert "conosciuto_servizio_sociale" not in view.values
    p4.complete("profilazione", case, profilo(conosciuto=False), "cpi.pistoia")
    assert booked(p4, case) and record(p4, case)["known_to_social_services"] is False


def test_back_to_with_prefill_starts_the_form_from_the_earlier_answers(p4: Percorso4) -> None:
    case = p4.open_case("pistoiese", LUCIA)
    p4.complete("profilazione", case, profilo(conosciuto=True), "cpi.pistoia")
    instance_moves.move(p4.rt, ADMIN, case, "back_to", "rifare", element="profilazione", prefill=True)
    view = p4.task_page("profilazione", case, "cpi.pistoia")
    assert view.values["conosciuto_servizio_sociale"] is True


def test_a_move_needs_a_reason_and_a_known_kind(p4: Percorso4) -> None:
    case = p4.open_case("pistoiese", LUCIA)
    with pytest.raises(InputRefused):
        instance_moves.move(p4.rt, ADMIN, case, "skip", "  ", element="profilazione")
    with pytest.raises(InputRefused):
        instance_moves.move(p4.rt, ADMIN, case, "jump", "motivo", element="profilazione")
    assert p4.ready(case) == ["profilazione"]


def into_the_path(p4: Percorso4, case: str) -> None:
    """Profiling, the equipe, the first appointment and the project: the case runs its 12 months."""
    p4.complete("profilazione", case, profilo(), "cpi.pistoia")
    p4.hold_meeting(p4.meetings_of(case)[-1]["id"], {case: scheda(presente=True)}, by="sds.pistoia")
    slot = p4.book_first_appointment(case, "cm.rossi", "cpi.pistoia")
    p4.start_path(case, "cm.rossi", slot)
    p4.complete("progetto_individualizzato", case, PROGETTO, "cm.rossi")


def at_monitoring(p4: Percorso4) -> str:
    """A case whose quarterly reminder opened a monitoring: the CPI's and the Social Services' parts are open."""
    case = p4.open_case("pistoiese", LUCIA)
    into_the_path(p4, case)
    p4.advance_to(p4.header(case)["next_due_at"] + timedelta(minutes=1))
    assert p4.ready(case) == MONITORING_PARTS
    return case


def test_skip_records_who_and_why_and_the_case_goes_on(p4: Percorso4) -> None:
    case = at_monitoring(p4)
    p4.complete("monitoraggio_parte_cpi", case, {"parte_cpi": {"referente": "C. Pieri", "partecipazione": "in_presenza",
                                                                "valutazione": "Procede."}}, "cpi.pistoia")
    plan = instance_moves.move(p4.rt, ADMIN, case, "skip", "il servizio sociale non segue la persona",
                               element="monitoraggio_parte_sociale", dry_run=True)
    assert [i.element_id for i in plan.cancelled] == ["monitoraggio_parte_sociale"]
    assert [i.element_id for i in plan.created] == ["monitoraggio"]
    instance_moves.move(p4.rt, ADMIN, case, "skip", "il servizio sociale non segue la persona",
                        element="monitoraggio_parte_sociale")
    assert p4.ready(case) == ["monitoraggio"]
    moved = p4.audit("instance.moved", case)[-1]
    assert (moved["actor"], moved["element_id"], moved["data"]["kind"]) == ("admin", "monitoraggio_parte_sociale", "skip")
    assert moved["data"]["reason"] == "il servizio sociale non segue la persona"
    story = case_file.open_case(p4.rt, case, p4.actors["cpi.pistoia"]).story  # the case file tells it too
    told = [e for e in story if e.label == "Caso spostato dall'amministrazione"]
    assert told and told[-1].detail == ("Monitoraggio: parte dei Servizi sociali: saltata; "
                                        "il servizio sociale non segue la persona")


def test_cancel_one_branch_of_the_monitoring_and_the_join_stops_waiting_for_it(p4: Percorso4) -> None:
    case = at_monitoring(p4)
    plan = instance_moves.move(p4.rt, ADMIN, case, "cancel_branch", "parte sociale non dovuta",
                               element="monitoraggio_parte_sociale", dry_run=True)
    assert [i.element_id for i in plan.cancelled] == ["monitoraggio_parte_sociale"] and plan.created == []
    instance_moves.move(p4.rt, ADMIN, case, "cancel_branch", "parte sociale non dovuta",
                        element="monitoraggio_parte_sociale")
    assert p4.ready(case) == ["monitoraggio_parte_cpi"]
    p4.complete("monitoraggio_parte_cpi", case, {"parte_cpi": {"referente": "C. Pieri", "partecipazione": "in_presenza",
                                                                "valutazione": "Procede."}}, "cpi.pistoia")
    assert p4.ready(case) == ["monitoraggio"]  # the parts' join did not wait for the cancelled branch


def test_going_back_across_the_monitoring_call_activity_is_refused(p4: Percorso4) -> None:
    case = at_monitoring(p4)
    with pytest.raises(MoveRefused) as refused:
        instance_moves.move(p4.rt, ADMIN, case, "back_to", "rifare il progetto", element="progetto_individualizzato",
                            dry_run=True)
    assert refused.value.reason == "call-activity"
    with pytest.raises(MoveRefused) as refused:  # the move itself is refused too, and the case stays where it was
        instance_moves.move(p4.rt, ADMIN, case, "back_to", "rifare il progetto", element="progetto_individualizzato")
    assert refused.value.reason == "call-activity"
    assert p4.ready(case) == MONITORING_PARTS


def test_the_only_open_branch_cannot_be_cancelled(p4: Percorso4) -> None:
    case = p4.open_case("pistoiese", LUCIA)
    with pytest.raises(MoveRefused) as refused:
        instance_moves.move(p4.rt, ADMIN, case, "cancel_branch", "motivo", element="profilazione")
    assert refused.value.reason == "only-branch"


def test_a_skip_after_which_the_case_would_fail_is_refused(p4: Percorso4) -> None:
    case = p4.open_case("pistoiese", LUCIA)
    with pytest.raises(MoveRefused) as refused:
        instance_moves.move(p4.rt, ADMIN, case, "skip", "profilazione non necessaria", element="profilazione")
    assert refused.value.reason == "would-fail" and refused.value.element == "assegna_percorso"
    assert p4.ready(case) == ["profilazione"] and p4.header(case)["status"] == "running"


def test_a_task_of_a_multi_instance_cannot_be_skipped(p4: Percorso4) -> None:
    case = p4.open_case("pistoiese", LUCIA)
    p4.complete("profilazione", case, profilo(), "cpi.pistoia")
    p4.advance_to(p4.meetings_of(case)[-1]["scheduled_at"] + timedelta(minutes=1))
    p4.complete("scheda_esito", case, scheda(presente=True), "sds.pistoia")
    confirmation = p4.inbox(element="conferma_decisione", case_id=case)[0]
    with pytest.raises(MoveRefused) as refused:
        instance_moves.move(p4.rt, ADMIN, confirmation["instance_id"], "skip", "motivo",
                            task_id=confirmation["id"])
    assert refused.value.reason == "multi-instance"
    # Nor can the case go back before the equipe while its discussion runs.
    with pytest.raises(MoveRefused) as refused:
        instance_moves.move(p4.rt, ADMIN, case, "back_to", "motivo", element="profilazione")
    assert refused.value.reason == "discussion-running"


def test_a_case_suspended_by_someone_else_is_not_moved(p4: Percorso4) -> None:
    case = p4.open_case("pistoiese", LUCIA)
    p4.complete("profilazione", case, profilo(), "cpi.pistoia")
    instance_service.suspend(p4.rt, case, OTHER_ADMIN, "verifica in corso")
    with pytest.raises(MoveRefused) as refused:
        instance_moves.move(p4.rt, ADMIN, case, "back_to", "motivo", element="profilazione")
    assert refused.value.reason == "suspended-by-other"
    # Its own suspender may move it; it stays suspended, with the redone task waiting for the resume.
    instance_moves.move(p4.rt, OTHER_ADMIN, case, "back_to", "motivo", element="profilazione")
    assert p4.header(case)["status"] == "suspended"
    instance_service.resume(p4.rt, case, OTHER_ADMIN)
    assert p4.ready(case) == ["profilazione"] and p4.header(case)["status"] == "running"


def test_going_back_to_the_project_cancels_the_waits_and_the_redo_sets_them_again(p4: Percorso4) -> None:
    case = p4.open_case("pistoiese", LUCIA)
    into_the_path(p4, case)
    end = p4.data(case)["data_fine_percorso"]
    plan = instance_moves.move(p4.rt, ADMIN, case, "back_to", "progetto da rivedere",
                               element="progetto_individualizzato", dry_run=True)
    cancelled = {(i.element_id, i.kind) for i in plan.cancelled}
    assert {("scadenza_12_mesi", "timer"), ("promemoria_trimestrale", "timer"),
            ("richiesta_monitoraggio_ricevuta", "message")} <= cancelled
    assert [i.element_id for i in plan.created] == ["progetto_individualizzato"]
    assert plan.not_undone == ["Preparare il progetto da firmare"]  # its PDF is not taken back
    instance_moves.move(p4.rt, ADMIN, case, "back_to", "progetto da rivedere", element="progetto_individualizzato")
    assert p4.ready(case) == ["progetto_individualizzato"] and p4.header(case)["next_due_at"] is None
    assert p4.header(case)["status"] == "running"
    p4.complete("progetto_individualizzato", case, PROGETTO, "cm.rossi")
    assert p4.data(case)["data_fine_percorso"] == end  # the 12 months keep their end
    assert p4.header(case)["next_due_at"] is not None


def test_going_back_to_the_booking_frees_the_appointment(p4: Percorso4) -> None:
    case = p4.open_case("pistoiese", LUCIA)
    p4.complete("profilazione", case, profilo(), "cpi.pistoia")
    p4.hold_meeting(p4.meetings_of(case)[-1]["id"], {case: scheda(presente=True)}, by="sds.pistoia")
    slot = p4.book_first_appointment(case, "cm.rossi", "cpi.pistoia")
    assert p4.ready(case) == ["primo_colloquio"] and record(p4, case)["case_manager"] == "cm.rossi"
    plan = instance_moves.move(p4.rt, ADMIN, case, "back_to", "case manager sbagliato",
                               element="prenota_primo_appuntamento", dry_run=True)
    assert len(plan.bookings_released) == 1
    instance_moves.move(p4.rt, ADMIN, case, "back_to", "case manager sbagliato", element="prenota_primo_appuntamento")
    with p4.rt.uow(write=False) as uow:
        assert uow.bookings.future_of(case, p4.rt.now()) == []
    assert record(p4, case)["case_manager"] is None and p4.header(case)["case_manager"] is None
    assert p4.book_first_appointment(case, "cm.rossi", "cpi.pistoia") == slot  # the freed slot is offered again
