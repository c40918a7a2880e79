"""Data edits on a real Percorso 4 case: checked against the forms and the zones, with their consequences."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gol_workflow.domain.errors import EditRefused, NotFound
from gol_workflow.services.administration import data_edits
from tests.conftest import ADMIN
from tests.integration.percorso4_support import LUCIA, Percorso4, p4, profilo, smtp  # noqa: F401 - fixtures


def zones_of_tasks(p4: Percorso4, case: str) -> list[str]:
    return [t["zone"] for t in p4.inbox(case_id=case)]


def test_an_unknown_zone_is_refused_and_nothing_changes(p4: Percorso4) -> None:
    case = p4.open_case("pistoiese", LUCIA)
    with pytest.raises(EditRefused) as refused:
        data_edits.edit(p4.rt, ADMIN, case, {"zona": "atlantide"}, "trasferita")
    assert "zona sconosciuta 'atlantide'" in refused.value.errors["changes.zona"][0]
    assert p4.header(case)["zone"] == "pistoiese" and zones_of_tasks(p4, case) == ["pistoiese"]
    p4.task_page("profilazione", case, "cpi.pistoia")  # the CPI operator still reaches the task and the case


def test_types_and_choices_come_from_the_forms(p4: Percorso4) -> None:
    case = p4.open_case("pistoiese", LUCIA)
    p4.complete("profilazione", case, profilo(), "cpi.pistoia")
    with pytest.raises(EditRefused) as refused:
        data_edits.edit(p4.rt, ADMIN, case, {"bisogni_complessi": "sì", "fabbisogno_formativo": "tutto",
                                             "inventato": 1, "case_id": "x"}, "correzione", dry_run=True)
    errors = refused.value.errors
    assert set(errors) == {"changes.bisogni_complessi", "changes.fabbisogno_formativo", "changes.inventato",
                           "changes.case_id"}
    with pytest.raises(EditRefused) as refused:
        data_edits.edit(p4.rt, ADMIN, case, {"fabbisogno_formativo": "nessuno"}, "")
    assert list(refused.value.errors) == ["reason"]


def test_a_new_zone_takes_the_open_task_with_it(p4: Percorso4) -> None:
    case = p4.open_case("pistoiese", LUCIA)
    plan = data_edits.edit(p4.rt, ADMIN, case, {"zona": "valdinievole"}, "residenza a Pescia", dry_run=True)
    assert [(t["name"], t["from_zone"], t["to_zone"]) for t in plan.tasks_moved] == [
        ("Profilazione e assessment", "pistoiese", "valdinievole")]
    assert plan.facts["zone"] == ["pistoiese", "valdinievole"]
    assert zones_of_tasks(p4, case) == ["pistoiese"]  # only a preview

    data_edits.edit(p4.rt, ADMIN, case, {"zona": "valdinievole"}, "residenza a Pescia")
    assert p4.header(case)["zone"] == "valdinievole" and zones_of_tasks(p4, case) == ["valdinievole"]
    p4.task_page("profilazione", case, "cpi.pescia")  # the new zone's CPI works it
    with pytest.raises(NotFound):
        p4.task_page("profilazione", case, "cpi.pistoia")
    edited = p4.audit("instance.data_edited", case)[-1]
    assert edited["data"]["before"] == {"zona": "pistoiese"} and edited["data"]["reason"] == "residenza a Pescia"
    p4.complete("profilazione", case, profilo(), "cpi.pescia")  # and the case goes on in its new zone
    assert p4.meetings_of(case)[-1]["zone"] == "valdinievole"


def test_a_case_on_an_equipe_agenda_moves_to_the_new_zone_s_meeting(p4: Percorso4) -> None:
    case = p4.open_case("pistoiese", LUCIA)
    p4.complete("profilazione", case, profilo(), "cpi.pistoia")
    old = p4.meetings_of(case)[-1]["id"]
    plan = data_edits.edit(p4.rt, ADMIN, case, {"zona": "valdinievole"}, "residenza a Pescia", dry_run=True)
    assert [m["action"] for m in plan.meetings] == ["withdrawn", "booked"]
    assert plan.meetings[0]["meeting"] == old and plan.meetings[1]["meeting"].startswith("valdinievole")
    data_edits.edit(p4.rt, ADMIN, case, {"zona": "valdinievole"}, "residenza a Pescia")
    assert case not in p4.agenda(old)
    new = plan.meetings[1]["meeting"]
    assert case in p4.agenda(new)
    assert p4.data(case)["riunione_id"] == new


def test_a_new_zone_is_refused_once_the_agenda_was_sent_and_nothing_changes(p4: Percorso4) -> None:
    case = p4.open_case("pistoiese", LUCIA)
    p4.complete("profilazione", case, profilo(), "cpi.pistoia")
    meeting = p4.meetings_of(case)[-1]
    p4.advance_to(meeting["cutoff_at"] + timedelta(minutes=1))  # the ordine del giorno goes out
    assert p4.meeting(meeting["id"])["status"] == "convened"
    with pytest.raises(EditRefused) as refused:
        data_edits.edit(p4.rt, ADMIN, case, {"zona": "valdinievole"}, "residenza a Pescia", dry_run=True)
    assert "ordine del giorno già inviato" in refused.value.errors["changes.zona"][0]
    with pytest.raises(EditRefused):  # the edit itself is refused too, before it writes anything
        data_edits.edit(p4.rt, ADMIN, case, {"zona": "valdinievole"}, "residenza a Pescia")
    assert case in p4.agenda(meeting["id"]) and p4.header(case)["zone"] == "pistoiese"
    assert p4.data(case)["zona"] == "pistoiese"
