"""Moving a real Percorso 4 case by hand: back to a completed task, skip the open one, cancel one branch."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gol_workflow.domain.errors import InputRefused, MoveRefused
from gol_workflow.services.administration import instance_moves
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
