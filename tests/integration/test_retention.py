"""Retention over simulated years: closed cases anonymised after their zone's period, everywhere, once a day.

The service runs on the simulated clock (GOL_CLOCK=simulated, kept in the database) and two
schedulers look for the day's pass after every move; the person's data is then looked for in
every text column of every table.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from gol_workflow.config import Settings
from gol_workflow.domain.errors import CaseAnonymised, Forbidden, ValidationFailed
from gol_workflow.domain.model import Actor
from gol_workflow.persistence.retention import RetentionRepository
from gol_workflow.persistence.sealing import opened
from gol_workflow.persistence.tables import attachments, audit_events, cases, retention_runs, subject_keys
from gol_workflow.scheduler import Scheduler
from gol_workflow.services.administration import subject_access
from gol_workflow.services.cases import attachments as attachment_service
from gol_workflow.services.data_protection import retention
from gol_workflow.services.indicators import catalogue
from gol_workflow.services.indicators.report import bounds
from gol_workflow.services.workflow import clock as sim_clock
from gol_workflow.services.workflow.instances import read_workflow
from tests.conftest import ADMIN, ROME, ROOT
from tests.integration.percorso4_support import (  # noqa: F401 - fixtures
    MARCO,
    PAOLO,
    PROGETTO,
    Percorso4,
    build,
    codice_fiscale,
    local_day,
    person,
    profilo,
    scheda,
    smtp,
)
from tests.integration.retention_support import traces
from tests.integration.test_percorso4_path import answer_reminders_until

OTTAVIA = {**person("Quaglierini", "Ottavia", "QGLTTV78D62G713", "1978-04-22"),
           "email": "ottavia.quaglierini@example.org"}
ANNA = person("Zuccherini", "Annunziata", "ZCCNNZ90H50G491", "1990-06-10")
NOTE = "In cura dal 2019 per una depressione maggiore, vive con la madre."
OTTAVIA_TRACES = (OTTAVIA["codice_fiscale"], "Quaglierini", "Ottavia", "1978-04-22", "22/04/1978",
                  "ottavia.quaglierini@example.org", "depressione maggiore")
ANNA_TRACES = (ANNA["codice_fiscale"], "Zuccherini", "Annunziata", "1990-06-10", "10/06/1990")
ZONES = ["pistoiese", "valdinievole"]


@pytest.fixture
def sim(settings: Settings, smtp, tmp_path: Path) -> Iterator[Percorso4]:
    """Percorso 4 on the simulated clock from Monday 5 January 2026; Valdinievole keeps closed cases 2 years."""
    zones = tmp_path / "zones"
    shutil.copytree(ROOT / "zones", zones)
    valdinievole = zones / "valdinievole.toml"
    valdinievole.write_text(valdinievole.read_text(encoding="utf-8").replace(
        "conservazione_anni = 10", "conservazione_anni = 2"), encoding="utf-8")
    service = build(settings.with_overrides(clock="simulated"), None, smtp, zones_dir=zones)  # type: ignore[arg-type]
    sim_clock.set_clock(service.rt, datetime(2026, 1, 5, 8, 0, tzinfo=ROME), ADMIN)
    yield service
    service.rt.db.dispose()


def walk_ottavia(p4: Percorso4) -> str:
    """Ottavia's case from intake to its final monitoring, with a document, letters, the equipe and e-mail."""
    case = p4.open_case("pistoiese", OTTAVIA, confirm=True)
    attachment_service.upload(p4.rt, case, "certificato-quaglierini.pdf", b"%PDF-1.4 Ottavia Quaglierini\n%%EOF",
                              "allegato", p4.actors["cpi.pistoia"])
    p4.complete("profilazione", case, {**profilo(), "note_assessment": NOTE}, "cpi.pistoia")
    meeting = p4.meetings_of(case)[-1]["id"]
    p4.hold_meeting(meeting, {case: scheda(presente=True, nota="Ottavia Quaglierini chiede un part-time.")},
                    by="sds.pistoia")
    slot = p4.book_first_appointment(case, "cm.rossi", "cpi.pistoia")
    p4.start_path(case, "cm.rossi", slot)
    p4.complete("progetto_individualizzato", case, PROGETTO, "cm.rossi")
    end = datetime.fromisoformat(p4.data(case)["data_fine_percorso"])
    answer_reminders_until(p4, case, end)
    p4.advance_to(end + timedelta(minutes=1))
    p4.final(case, {"data_monitoraggio_finale": local_day(p4.now()), "esito": "occupato",
                    "tipo_contratto": "tempo_determinato", "obiettivi_raggiunti": "raggiunti"}, "cpi.pistoia")
    assert p4.header(case)["status"] == "completed"
    return case


def closed_at_profiling(p4: Percorso4, who: dict[str, str]) -> str:
    """A Valdinievole case closed at profiling (no complex needs: not Percorso 4)."""
    case = p4.open_case("valdinievole", who, confirm=True)
    p4.complete("profilazione", case, profilo(complessi=False), "cpi.pescia")
    assert p4.header(case)["status"] == "completed"
    return case


def raw_indicators(p4: Percorso4) -> tuple[dict[str, Any], list[Any]]:
    """Every indicator's counts (before small-number suppression) and the waiting times, 2026-2027."""
    p = bounds(date(2026, 1, 1), date(2027, 12, 31), ROME)
    with p4.rt.uow(write=False) as uow:
        values = {i.id: catalogue.QUERIES[i.query](uow.indicators, ZONES, p)
                  for i in catalogue.load(p4.rt.settings.processes_dir)}
        waits = [dict(r) for r in uow.indicators.waiting_times(ZONES, p, ROME)]
    return values, waits


def record(p4: Percorso4, case: str) -> dict[str, Any]:
    with p4.rt.uow(write=False) as uow:
        return dict(uow.conn.execute(select(cases).where(cases.c.id == case)).mappings().one())


def leap(p4: Percorso4, days: int) -> None:
    """Move the simulated clock at once: closed cases have nothing due, and ten years of weekly cut-offs
    walked one by one would only slow the test."""
    p4.rt.clock.set(p4.rt.now() + timedelta(days=days))  # type: ignore[attr-defined]


def schedulers_look(p4: Percorso4) -> None:
    """Two schedulers look for the day's retention pass, as their jobs do."""
    for scheduler in (Scheduler(p4.rt), Scheduler(p4.rt)):
        scheduler.retention()
        assert scheduler.last_error is None


def runs(p4: Percorso4) -> list[dict[str, Any]]:
    with p4.rt.uow(write=False) as uow:
        return [dict(r) for r in uow.conn.execute(select(retention_runs).order_by(retention_runs.c.id)).mappings()]


def events_of(p4: Percorso4, case: str) -> list[dict[str, Any]]:
    with p4.rt.uow(write=False) as uow:
        rows = uow.conn.execute(select(audit_events).where(audit_events.c.instance_id == case)
                                .order_by(audit_events.c.id)).mappings().all()
        return opened(uow.conn, rows)


def test_closed_cases_are_anonymised_after_their_zones_period_everywhere_once_a_day(sim: Percorso4) -> None:
    p4 = sim
    anna = closed_at_profiling(p4, ANNA)
    paolo = closed_at_profiling(p4, PAOLO)
    marco = p4.open_case("pistoiese", MARCO)  # stays open: never touched
    retention.set_legal_hold(p4.rt, ADMIN, paolo, "Ricorso al TAR pendente")
    ottavia = walk_ottavia(p4)

    # The audit log never held the people in clear: pseudonyms and sealed data only.
    assert {k: v for k, v in traces(p4.rt, OTTAVIA_TRACES + ANNA_TRACES).items() if k.startswith("audit_")} == {}
    exported = subject_access.gather(p4.rt, ADMIN, OTTAVIA["codice_fiscale"])
    completed = [e for e in exported.events if e["action"] == "task.completed" and e["element_id"] == "profilazione"]
    assert completed and completed[0]["data"]["data"]["note_assessment"] == NOTE  # read through the case's key
    assert completed[0]["subject"] and completed[0]["subject"] != OTTAVIA["codice_fiscale"]
    assert any(a.action == "person.exported" for a in subject_access.accesses(p4.rt, ADMIN, OTTAVIA["codice_fiscale"]))
    before = raw_indicators(p4)
    kept = record(p4, ottavia)
    with p4.rt.uow(write=False) as uow:
        documents = uow.conn.execute(select(func.count()).select_from(attachments)
                                     .where(attachments.c.instance_id == ottavia)).scalar_one()
    assert documents >= 2  # the upload and the letters

    # Year by year on the simulated clock: each day's pass runs once however many schedulers look.
    seen: dict[date, str] = {}
    while p4.now() < datetime(2037, 1, 20, tzinfo=ROME):
        leap(p4, 365)
        schedulers_look(p4)
        anonymised = {c for c in (ottavia, anna, paolo, marco) if record(p4, c)["anonymised_at"] is not None}
        seen[p4.now().date()] = ",".join(sorted(("O" if c == ottavia else "A") for c in anonymised))
        assert paolo not in anonymised and marco not in anonymised  # held, and open
        if p4.now() < datetime(2028, 1, 5, tzinfo=ROME):
            assert anonymised == set()
        elif p4.now() < datetime(2037, 1, 14, tzinfo=ROME):
            assert anonymised == {anna}, p4.now()  # Valdinievole: 2 years; Pistoiese: 10
        else:
            assert anonymised == {anna, ottavia}
    made = runs(p4)
    assert [r["mode"] for r in made] == ["scheduled"] * len(seen) and len({r["day"] for r in made}) == len(seen)
    assert all(r["status"] == "done" for r in made)
    assert [r["cases_anonymised"] for r in made if r["cases_anonymised"]] == [1, 1]
    last = made[-1]
    assert (last["cases_anonymised"], last["cases_held"], last["attachments_deleted"]) == (1, 1, documents)
    assert {line["case"]: line["action"] for line in last["report"]} == {ottavia: "anonymised", paolo: "held"}

    # Nothing of Ottavia or Annunziata is left anywhere; Paolo (held) and Marco (open) are whole.
    assert traces(p4.rt, OTTAVIA_TRACES) == {}
    assert traces(p4.rt, ANNA_TRACES) == {}
    assert "cases.codice_fiscale" in traces(p4.rt, (PAOLO["codice_fiscale"], MARCO["codice_fiscale"]))
    assert record(p4, marco)["codice_fiscale"] == MARCO["codice_fiscale"]
    with p4.rt.uow(write=False) as uow:
        assert uow.conn.execute(select(func.count()).select_from(attachments)
                                .where(attachments.c.instance_id == ottavia)).scalar_one() == 0
        assert uow.conn.execute(select(func.count()).select_from(subject_keys)
                                .where(subject_keys.c.instance_id.in_([ottavia, anna]))).scalar_one() == 0

    # The indicators count the anonymised cases as before: zone, dates, decisions and outcome stay.
    assert raw_indicators(p4) == before
    after = record(p4, ottavia)
    for column in ("zone", "opened_at", "ended_at", "profiled_at", "equipe_at", "decision", "path_start_date",
                   "final_monitoring_date", "outcome", "monitorings", "percorso", "case_manager"):
        assert after[column] == kept[column], column
    assert (after["beneficiary_name"], after["codice_fiscale"], after["birth_date"]) == (None, None, None)

    # The log keeps who, what, when and which case; what it said about her can no longer be read.
    events = events_of(p4, ottavia)
    assert {"instance.started", "task.completed", "case.viewed", "case.anonymised"} <= {e["action"] for e in events}
    assert all(e["data"] is None for e in events if e["action"] == "task.completed")
    gone = subject_access.gather(p4.rt, ADMIN, OTTAVIA["codice_fiscale"])
    assert (gone.cases, gone.events, gone.files) == ([], [], [])
    with p4.rt.uow(write=False) as uow:  # the closed workflow still loads, with its outcome
        data = read_workflow(p4.rt, uow, ottavia, lambda loaded: loaded.handle.data())
    assert data["bisogni_complessi"] is True and "beneficiario" not in data and "esito" not in data

    # The hold is lifted: the next day's pass takes the case.
    retention.clear_legal_hold(p4.rt, ADMIN, paolo, "Ricorso respinto, sentenza definitiva")
    leap(p4, 1)
    schedulers_look(p4)
    assert record(p4, paolo)["anonymised_at"] is not None
    assert traces(p4.rt, (PAOLO["codice_fiscale"], "1970-01-01")) == {}
    holds = [e["action"] for e in events_of(p4, paolo) if e["action"].startswith("case.legal_hold")]
    assert holds == ["case.legal_hold_set", "case.legal_hold_cleared"]


def test_a_legal_hold_needs_an_administrator_and_a_reason_and_an_anonymised_case_cannot_be_held(
        sim: Percorso4) -> None:
    p4 = sim
    case = closed_at_profiling(p4, ANNA)
    operator = Actor(username="cpi.pescia", role="cpi", zones=frozenset({"valdinievole"}))
    with pytest.raises(Forbidden):
        retention.set_legal_hold(p4.rt, operator, case, "motivo")
    with pytest.raises(ValidationFailed):
        retention.set_legal_hold(p4.rt, ADMIN, case, "   ")
    assert record(p4, case)["legal_hold"] is False
    leap(p4, 3 * 365)
    dry = retention.run(p4.rt, ADMIN, dry_run=True)
    assert [line["action"] for line in dry.rows()] == ["would_anonymise"]
    assert record(p4, case)["anonymised_at"] is None  # a dry run changes nothing
    retention.run(p4.rt, ADMIN)
    with pytest.raises(CaseAnonymised):
        retention.set_legal_hold(p4.rt, ADMIN, case, "Troppo tardi")
    assert [r["mode"] for r in runs(p4)] == ["dry_run", "manual"]


def test_the_command_line_lists_runs_and_anonymises_or_only_shows_what_it_would(sim: Percorso4, monkeypatch,
                                                                                  capsys) -> None:
    from tests.integration.scheduling_support import run_cli

    p4 = sim
    case = closed_at_profiling(p4, ANNA)
    leap(p4, 3 * 365)
    code, out, _ = run_cli(monkeypatch, p4.rt, capsys, "retention", "--dry-run", clock_mode="simulated")
    assert code == 0 and f"would_anonymise  case {case} (zone valdinievole, closed 2026-01-05" in out
    assert "would anonymise 1 case(s)" in out and record(p4, case)["anonymised_at"] is None
    code, out, _ = run_cli(monkeypatch, p4.rt, capsys, "retention", "--run", clock_mode="simulated")
    assert code == 0 and "anonymised 1 case(s)" in out and record(p4, case)["anonymised_at"] is not None
    code, out, _ = run_cli(monkeypatch, p4.rt, capsys, "retention", "--list", clock_mode="simulated")
    assert code == 0 and "manual" in out and "dry_run" in out and "1 anonymised, 0 held" in out
    with pytest.raises(SystemExit) as refused:
        run_cli(monkeypatch, p4.rt, capsys, "retention", clock_mode="simulated")
    assert refused.value.code == 2 and "one of the arguments --dry-run --run --list is required" in capsys.readouterr().err


def test_a_pass_reads_each_case_once_in_batches_whether_held_listed_or_anonymised(
        sim: Percorso4, monkeypatch) -> None:
    """With batches of two, five closed cases (two held) are each listed once, and the others anonymised."""
    p4 = sim
    monkeypatch.setattr(retention, "BATCH", 2)
    closed = [closed_at_profiling(p4, person("Zuccherini", name, f"ZCCNNZ90H5{i}G491", "1990-06-10"))
              for i, name in enumerate(("Anna", "Bice", "Carla", "Dora", "Elsa"))]
    for case in closed[1::2]:
        retention.set_legal_hold(p4.rt, ADMIN, case, "Contenzioso in corso")
    leap(p4, 3 * 365)
    read: list[int] = []
    plain = RetentionRepository.closed_before

    def counted(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202 - a spy on the real method
        found = plain(self, *args, **kwargs)
        read.append(len(found))
        return found

    monkeypatch.setattr(RetentionRepository, "closed_before", counted)
    dry = retention.run(p4.rt, ADMIN, dry_run=True)
    listed = [line["case"] for line in dry.rows()]
    assert sorted(listed) == sorted(closed) and len(listed) == len(closed)  # each once
    assert read == [2, 2, 1, 0]  # every case read once: batches go on from the last case read
    read.clear()
    done = retention.run(p4.rt, ADMIN)
    assert read == [2, 2, 1, 0]
    assert sorted(line["case"] for line in done.rows() if line["action"] == "anonymised") == sorted(closed[0::2])
    assert sorted(line["case"] for line in done.rows() if line["action"] == "held") == sorted(closed[1::2])
