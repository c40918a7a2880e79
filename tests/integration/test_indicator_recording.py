"""What the indicators need is recorded: poverty/ADI condition, kind of path, joint interview, placements."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from gol_workflow.domain.errors import Forbidden, InvalidState, NotFound, ValidationFailed
from gol_workflow.services.cases import placements
from gol_workflow.web import create_app
from tests.web.conftest import Browser
from tests.integration.percorso4_support import (  # noqa: F401 - fixtures
    LUCIA,
    PASSWORD,
    Percorso4,
    p4,
    profilo,
    scheda,
    smtp,
)


def record(p4: Percorso4, case: str) -> dict[str, Any]:
    with p4.rt.uow(write=False) as uow:
        row = uow.case_records.get(case)
        assert row is not None
        return dict(row)


def test_profiling_equipe_and_first_interview_feed_the_indicator_facts(p4: Percorso4) -> None:
    case = p4.open_case("pistoiese", LUCIA)
    with pytest.raises(InvalidState):  # no placement before the path starts
        placements.record_placement(p4.rt, case, {"kind": "tirocinio", "sector": "servizi",
                                                   "start_date": "2026-01-10"}, p4.actors["cpi.pistoia"])
    p4.complete("profilazione", case, {**profilo(), "condizione_economica": "adi"}, "cpi.pistoia")
    assert record(p4, case)["poverty_condition"] == "adi"
    meeting = p4.meetings_of(case)[0]["id"]
    values = scheda(presente=True)
    values["scheda_esito"]["obiettivo_inserimento_lavorativo"] = ""  # a social-inclusion path only
    p4.hold_meeting(meeting, {case: values}, "cpi.pistoia")
    r = record(p4, case)
    assert (r["decision"], r["social_inclusion_path"], r["work_path"]) == ("presa_in_carico", True, None)

    slot = p4.book_first_appointment(case, "cm.rossi", "cpi.pistoia")
    p4.advance_to(datetime.fromisoformat(slot))
    p4.complete("primo_colloquio", case, {
        "presente_primo_colloquio": True, "data_avvio_percorso": slot[:10], "colloquio_congiunto": True,
        "partecipanti_colloquio": ["case_manager", "servizio_sociale"]}, "cm.rossi")
    r = record(p4, case)
    assert r["joint_interview"] is True
    assert r["interview_participants"] == ["case_manager", "servizio_sociale"]

    with pytest.raises(ValidationFailed) as refused:  # before the path's first day
        placements.record_placement(p4.rt, case, {"kind": "laboratorio_protetto", "sector": "terzo_settore",
                                                   "start_date": "2026-01-02"}, p4.actors["cm.rossi"])
    assert "start_date" in refused.value.errors
    with pytest.raises(ValidationFailed) as refused:
        placements.record_placement(p4.rt, case, {"kind": "stage", "sector": "", "start_date": "2026-02-30"},
                                    p4.actors["cm.rossi"])
    assert set(refused.value.errors) == {"kind", "sector", "start_date"}
    with pytest.raises(NotFound):  # a case manager of another case does not even see it
        placements.record_placement(p4.rt, case, {"kind": "tirocinio", "sector": "servizi",
                                                   "start_date": slot[:10]}, p4.actors["cm.verdi"])
    placements.record_placement(p4.rt, case, {"kind": "laboratorio_protetto", "sector": "terzo_settore",
                                               "start_date": slot[:10], "end_date": ""}, p4.actors["cm.rossi"])
    placements.record_placement(p4.rt, case, {"kind": "tirocinio", "sector": "servizi",
                                               "start_date": slot[:10], "end_date": "2026-09-30"},
                                p4.actors["sds.pistoia"])
    rows = placements.placements_of(p4.rt, case, p4.actors["cpi.pistoia"])
    assert [(r["kind"], r["zone"], r["recorded_by"]) for r in rows] == [
        ("laboratorio_protetto", "pistoiese", "cm.rossi"), ("tirocinio", "pistoiese", "sds.pistoia")]
    assert [a["data"]["kind"] for a in p4.audit("case.placement_recorded", case)] == [
        "laboratorio_protetto", "tirocinio"]

    page = Browser(create_app(p4.rt, {"TESTING": True}).test_client())
    assert page.post("/accesso", {"username": "cm.rossi", "password": PASSWORD}).status_code == 302
    html = page.text(f"/casi/{case}")
    assert "Registra un inserimento" in html and "Laboratorio protetto" in html and "in corso" in html
    form = page.text(f"/casi/{case}/inserimenti/nuovo")
    assert 'name="csrf_token"' in form and "Settore del datore di lavoro" in form


def test_a_manager_never_records_a_placement(p4: Percorso4) -> None:
    from tests.integration.percorso4_support import add_account
    manager = add_account(p4.rt, "resp.pistoia", "manager", ["pistoiese"], "Responsabile")
    case = p4.open_case("pistoiese", LUCIA)
    with pytest.raises((NotFound, Forbidden)):
        placements.record_placement(p4.rt, case, {"kind": "tirocinio", "sector": "servizi",
                                                   "start_date": "2026-02-01"}, manager)
