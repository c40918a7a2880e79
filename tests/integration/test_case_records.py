"""The case record of Percorso 4: its facts after every step, written in the step's transaction, and rebuilt."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete

from gol_workflow.persistence.tables import cases as cases_table
from gol_workflow.services.cases import monitoring
from gol_workflow.services.workflow import tasks as task_service
from tests.conftest import ROME
from tests.integration.percorso4_support import (  # noqa: F401 - fixtures
    LUCIA,
    PROGETTO,
    SARA,
    Percorso4,
    local_day,
    p4,
    p4_kept,
    profilo,
    scheda,
    smtp,
)


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ROME)


def record(p4: Percorso4, case: str) -> dict[str, Any]:
    with p4.rt.uow(write=False) as uow:
        row = uow.case_records.get(case)
        assert row is not None, f"no case record for {case}"
        return dict(row)


def walk_the_whole_path(p4: Percorso4) -> tuple[str, list[dict[str, Any]]]:
    """Lucia from intake to closure with one substantial change; the record after each step."""
    seen: list[dict[str, Any]] = []
    case = p4.open_case("pistoiese", {**LUCIA, "nome": "Lucia Maria"}, confirm=True)  # a second name: confirmed
    r = record(p4, case)
    assert (r["zone"], r["beneficiary_name"], r["codice_fiscale"], r["birth_date"]) == (
        "pistoiese", "Lucia Maria Bianchi", LUCIA["codice_fiscale"], date(1980, 1, 1))
    assert r["status"] == "running" and r["current_step"] == "Profilazione e assessment"
    assert r["opened_at"] == p4.now().astimezone(UTC) and r["profiled_at"] is None
    assert (r["monitorings"], r["substantial_changes"]) == (0, 0)
    seen.append(r)

    p4.complete("profilazione", case, profilo(servizi=["salute_mentale"]), "cpi.pistoia")
    r = record(p4, case)
    assert (r["complex_needs"], r["percorso"], r["known_to_social_services"], r["particular_needs"]) == (
        True, 4, False, True)
    assert r["specialist_services"] == ["salute_mentale"]
    assert r["profiled_at"] == p4.now().astimezone(UTC)
    assert r["equipe_at"] == at(2026, 1, 13, 9, 30).astimezone(UTC)  # booked on the next meeting
    assert r["status"] == "waiting" and r["decision"] is None
    seen.append(r)

    p4.hold_meeting("pistoiese-20260113", {case: scheda(presente=True, misure=["tirocinio_inclusione"],
                                                                invitati={"salute_mentale": False})},
                    by="sds.pistoia")
    r = record(p4, case)
    assert (r["decision"], r["measures"]) == ("presa_in_carico", ["tirocinio_inclusione"])
    assert r["current_step"] == "Prenotare il primo appuntamento con il case manager"
    seen.append(r)

    slot = p4.book_first_appointment(case, "cm.rossi", "cpi.pistoia")
    r = record(p4, case)
    assert r["case_manager"] == "cm.rossi"
    assert r["first_appointment_at"] == datetime.fromisoformat(slot).astimezone(UTC)
    assert r["path_start_date"] is None
    seen.append(r)

    start = p4.start_path(case, "cm.rossi", slot)
    r = record(p4, case)
    assert r["path_start_date"] == date.fromisoformat(start)
    assert r["path_end_at"] == (datetime.fromisoformat(slot).astimezone(ROME).replace(hour=0, minute=0)
                                .replace(year=2027)).astimezone(UTC)
    seen.append(r)

    p4.complete("progetto_individualizzato", case, PROGETTO, "cm.rossi")
    p4.advance_to(at(2026, 3, 10, 10))
    monitoring.request_monitoring(p4.rt, case, "Verifica del tirocinio.", p4.actors["sds.pistoia"])
    p4.rt.workflows.clear()
    p4.monitor(case, p4.monitoraggio(), "cm.rossi")
    r = record(p4, case)
    assert (r["monitorings"], r["last_monitoring_date"], r["substantial_changes"]) == (1, date(2026, 3, 10), 0)
    seen.append(r)

    p4.advance_to(at(2026, 5, 14, 10))
    monitoring.request_monitoring(p4.rt, case, "Ha lasciato il tirocinio.", p4.actors["cpi.pistoia"])
    p4.rt.workflows.clear()
    p4.monitor(case, p4.monitoraggio(modifica=True), "cm.rossi")
    r = record(p4, case)
    assert (r["monitorings"], r["last_monitoring_date"]) == (2, date(2026, 5, 14))
    assert (r["substantial_changes"], r["last_substantial_change_date"]) == (1, date(2026, 5, 14))
    assert r["last_substantial_change"] == "Sostituire il tirocinio con un corso di formazione."
    assert r["equipe_at"] == at(2026, 5, 26, 9, 30).astimezone(UTC)  # the review meeting
    seen.append(r)

    p4.hold_meeting("pistoiese-20260526",
                    {case: scheda(presente=True, misure=["formazione"], invitati={"salute_mentale": False})},
                    by="sds.pistoia")
    r = record(p4, case)
    assert r["measures"] == ["formazione"] and r["path_end_at"] == seen[-1]["path_end_at"]
    p4.complete("aggiorna_progetto", case, {**PROGETTO, "modifiche_concordate": "Un corso al posto del tirocinio."},
                "cm.rossi")
    seen.append(record(p4, case))

    end = record(p4, case)["path_end_at"]
    while (due := p4.header(case)["next_due_at"]) is not None and due < end:
        p4.advance_to(due + timedelta(minutes=1))
        p4.advance(timedelta(days=1))
        p4.monitor(case, p4.monitoraggio(), "cm.rossi")
    p4.advance_to(end + timedelta(minutes=1))
    r = record(p4, case)
    assert r["current_step"].startswith("Monitoraggio") and r["outcome"] is None  # the services' parts come first
    assert r["monitorings"] >= 4 and r["substantial_changes"] == 1
    p4.final(case, {"data_monitoraggio_finale": local_day(p4.now()), "esito": "occupato",
                                              "tipo_contratto": "tempo_determinato",
                                              "obiettivi_raggiunti": "raggiunti"}, "cpi.pistoia")
    r = record(p4, case)
    assert (r["status"], r["outcome"], r["final_monitoring_date"]) == (
        "completed", "occupato", p4.now().date())
    assert r["ended_at"] == p4.header(case)["ended_at"] and r["current_step"] is None
    seen.append(r)
    return case, seen


def test_the_record_follows_a_whole_percorso_4_path_step_by_step(p4: Percorso4) -> None:
    walk_the_whole_path(p4)


def test_the_record_is_the_same_when_workflows_stay_in_memory(p4_kept: Percorso4) -> None:
    case, seen = walk_the_whole_path(p4_kept)
    assert seen[-1]["monitorings"] >= 4


def test_a_step_that_fails_leaves_the_record_as_it_was(p4: Percorso4, monkeypatch: pytest.MonkeyPatch) -> None:
    case = p4.open_case("pistoiese", SARA)
    before = record(p4, case)

    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("the step fails after its writes")

    monkeypatch.setattr(task_service, "step_result", broken)
    with pytest.raises(RuntimeError):
        p4.complete("profilazione", case, profilo(), "cpi.pistoia")
    assert record(p4, case) == before  # nothing of the step was kept
    monkeypatch.undo()
    p4.complete("profilazione", case, profilo(), "cpi.pistoia")
    assert record(p4, case)["percorso"] == 4 and record(p4, case)["profiled_at"] is not None


def test_rebuild_makes_the_records_of_cases_started_before_them(
    p4: Percorso4, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from gol_workflow.cli import common, main

    case, seen = walk_the_whole_path(p4)
    other = p4.open_case("valdinievole", SARA)
    p4.complete("profilazione", other, profilo(), "cpi.pescia")
    kept = {c: record(p4, c) for c in (case, other)}
    with p4.rt.uow() as uow:
        uow.conn.execute(delete(cases_table))
        uow.commit()

    monkeypatch.setattr(common, "runtime", lambda: p4.rt)
    assert main(["cases", "rebuild", "--batch", "1"]) == 0
    assert "2 case records rebuilt" in capsys.readouterr().out
    for c, before in kept.items():
        after = record(p4, c)
        assert after == {**before, "updated_at": after["updated_at"]}
