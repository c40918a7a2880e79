"""Percorso 4, steps 5-6 and versions, through the service: the 12-month path, reviews in equipe, closure."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from gol_workflow.persistence.sealing import pseudonym
from gol_workflow.persistence.tables import subject_keys
from gol_workflow.services.cases import case_file, monitoring
from gol_workflow.services.administration import deployment
from tests.conftest import ADMIN, ROME, ROOT
from tests.integration.percorso4_support import (  # noqa: F401 - fixtures
    MONITORING_PARTS,
    FINAL_PARTS,
    ANNA,
    LUCIA,
    MARCO,
    PAOLO,
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


def into_the_path(p4: Percorso4, case: str, zone_cpi: str = "cpi.pistoia", sds: str = "sds.pistoia",
                  manager: str = "cm.rossi") -> str:
    """Profiling, the equipe, the booking and the first meeting; returns the start date."""
    p4.complete("profilazione", case, profilo(), zone_cpi)
    meeting = p4.meetings_of(case)[-1]["id"]
    p4.hold_meeting(meeting, {case: scheda(presente=True)}, by=sds)
    slot = p4.book_first_appointment(case, manager, zone_cpi)
    start = p4.start_path(case, manager, slot)
    p4.complete("progetto_individualizzato", case, PROGETTO, manager)
    return start


def answer_reminders_until(p4: Percorso4, case: str, until: datetime, manager: str = "cm.rossi") -> int:
    """Let the three-month reminders come and record each monitoring two days later; returns how many came."""
    count = 0
    while True:
        due = p4.header(case)["next_due_at"]
        if due is None or due >= until:
            return count
        p4.advance_to(due + timedelta(minutes=1))
        assert p4.ready(case) == MONITORING_PARTS, f"at {due}: {p4.ready(case)}"
        assert p4.data(case)["richiesta_monitoraggio"]["richiesto_da"] == "promemoria"
        count += 1
        p4.advance(timedelta(days=2))
        p4.monitor(case, p4.monitoraggio(), manager)


def test_path_5_the_12_month_path_closes_with_the_final_monitoring_and_the_outcome(p4: Percorso4) -> None:
    case = p4.open_case("pistoiese", LUCIA)
    start = into_the_path(p4, case)
    end = datetime.fromisoformat(p4.data(case)["data_fine_percorso"])
    assert (start, end) == ("2026-01-14", at(2027, 1, 14))
    assert "Richiesta di monitoraggio" in p4.header(case)["current_step"]

    assert answer_reminders_until(p4, case, end) == 3  # about one monitoring every three months

    p4.advance_to(end - timedelta(minutes=1))
    assert p4.ready(case) == []
    p4.advance_to(end + timedelta(minutes=1))
    assert p4.ready(case) == FINAL_PARTS  # the final monitoring is of three services: each records its part
    assert {t["element_id"]: t["lane"] for t in p4.inbox(case_id=case)} == {
        "monitoraggio_parte_ats": "ATS", "monitoraggio_parte_sociale": "Servizi sociali"}
    data = p4.data(case)
    assert data["obiettivi"] == PROGETTO["obiettivi"]  # what was written during the year survives the 12-month timer
    assert data["andamento"] == "regolare"

    p4.final(case, {"data_monitoraggio_finale": local_day(p4.now()), "esito": "occupato",
                                              "tipo_contratto": "tempo_determinato",
                                              "obiettivi_raggiunti": "raggiunti"}, "cpi.pistoia")
    row = p4.header(case)
    assert row["status"] == "completed" and row["ended_at"] is not None and row["next_due_at"] is None
    final = p4.data(case)
    assert final["esito"] == "occupato"
    for name in ("zona", "beneficiario", "bisogni_complessi", "percorso", "conosciuto_servizio_sociale",
                 "bisogni_particolari", "data_equipe", "data_primo_appuntamento", "data_avvio_percorso",
                 "modifica_sostanziale", "esito"):
        assert name in final, name
    assert p4.inbox(case_id=case) == []


def test_path_4_a_substantial_change_in_month_4_goes_back_to_the_equipe_and_keeps_the_end_date(p4: Percorso4) -> None:
    case = p4.open_case("pistoiese", SARA)
    into_the_path(p4, case)
    end_text = p4.data(case)["data_fine_percorso"]
    end = datetime.fromisoformat(end_text)
    answer_reminders_until(p4, case, at(2026, 5, 1))  # the month-3 reminder

    # Month 4: the social services ask for a monitoring; it records a substantial change.
    p4.advance_to(at(2026, 5, 14, 10, 0))
    monitoring.request_monitoring(p4.rt, case, "Ha lasciato il tirocinio.", p4.actors["sds.pistoia"])
    p4.rt.workflows.clear()
    assert p4.ready(case) == MONITORING_PARTS
    assert p4.data(case)["richiesta_monitoraggio"]["richiesto_da"] == "Sara Desideri (Servizi Sociali)"
    p4.monitor(case, p4.monitoraggio(modifica=True), "cm.rossi")

    review = p4.meetings_of(case)[-1]
    assert review["id"] == "pistoiese-20260526"  # Thursday 14 May 10:00: the 19 May agenda closed at 09:30
    assert review["items"][case]["reason"] == "modifica_sostanziale"
    assert p4.data(case)["data_equipe"] == "2026-05-26T09:30:00+02:00"

    # The equipe postpones once, then confirms a new scheda.
    p4.hold_meeting(review["id"], {case: scheda(presente=True, decisione="rinvio")}, by="sds.pistoia")
    again = p4.meetings_of(case)[-1]
    assert again["id"] == "pistoiese-20260603" and again["items"][case]["reason"] == "modifica_sostanziale"
    p4.hold_meeting(again["id"], {case: scheda(presente=True, nota="corso di formazione", misure=["formazione"])},
                    by="sds.pistoia")
    assert p4.ready(case) == ["aggiorna_progetto"]
    schede = [a for a in p4.attachments(case) if a["kind"] == "scheda_esito"]
    assert [a["filename"] for a in schede] == ["scheda-esito-sara-gialli-2026-06-03.pdf",  # every decision's scheda
                                               "scheda-esito-sara-gialli-2026-05-26.pdf",  # (the rinvio too)
                                               "scheda-esito-sara-gialli-2026-01-13.pdf"]
    p4.complete("aggiorna_progetto", case, {**PROGETTO, "modifiche_concordate": "Tirocinio sostituito da un corso.",
                                            "data_sottoscrizione_progetto": "2026-06-12"}, "cm.rossi")
    assert p4.data(case)["data_fine_percorso"] == end_text  # never recomputed
    printed = case_file.scheda_esito(p4.rt, case, p4.actors["cpi.pistoia"])  # what the case file prints
    assert printed.values["note"] == "corso di formazione"

    answer_reminders_until(p4, case, end)
    p4.advance_to(end - timedelta(minutes=1))
    assert "monitoraggio_parte_ats" not in p4.ready(case)
    p4.advance_to(end + timedelta(minutes=1))
    assert p4.ready(case) == FINAL_PARTS  # on the original end date
    assert p4.data(case)["modifiche_concordate"] == "Tirocinio sostituito da un corso."
    p4.final(case, {"data_monitoraggio_finale": local_day(p4.now()),
                                              "esito": "in_formazione", "obiettivi_raggiunti": "in_parte"},
                "cpi.pistoia")
    assert p4.header(case)["status"] == "completed"


def test_path_6_an_assessment_without_complex_needs_does_not_enter_percorso_4(p4: Percorso4) -> None:
    outcomes = {}
    for beneficiario, need in ((LUCIA, "nessuno"), (MARCO, "aggiornamento"), (PAOLO, "riqualificazione")):
        case = p4.open_case("pistoiese", beneficiario)
        p4.complete("profilazione", case, profilo(complessi=False, fabbisogno=need), "cpi.pistoia")
        row = p4.header(case)
        assert row["status"] == "completed" and row["ended_at"] is not None
        assert p4.meetings_of(case) == []
        outcomes[need] = p4.data(case)["percorso"]
    assert outcomes == {"nessuno": 1, "aggiornamento": 2, "riqualificazione": 3}
    p4.advance_to(at(2026, 1, 8, 10, 0))
    assert p4.meeting("pistoiese-20260113")["status"] == "cancelled"  # nothing on the agenda: no meeting
    assert p4.outbox_rows() == []


def _changed_copy(tmp: Path) -> tuple[Path, Path]:
    processes, forms = tmp / "processes", tmp / "forms"
    shutil.copytree(ROOT / "processes", processes)
    shutil.copytree(ROOT / "forms", forms)
    bpmn = processes / "percorso4.bpmn"
    text = bpmn.read_text(encoding="utf-8")
    old = 'name="Prenotare il primo appuntamento con il case manager"'
    assert old in text
    bpmn.write_text(text.replace(old, 'name="Prenotare il primo colloquio con il case manager ATS"'), encoding="utf-8")
    return processes, forms


def test_path_10_a_process_change_deployed_mid_path_leaves_running_cases_on_their_version(
    p4: Percorso4, tmp_path: Path
) -> None:
    early = p4.open_case("pistoiese", LUCIA)
    p4.complete("profilazione", early, profilo(), "cpi.pistoia")
    v1 = p4.header(early)["process_version_id"]

    processes, forms = _changed_copy(tmp_path)
    report = deployment.deploy(p4.rt, deployment.read_sources(processes, forms), ADMIN)
    assert {(d.process_id, d.version, d.changed) for d in report.processes} == {
        ("percorso4", 2, True), ("riunione_equipe", 1, False), ("monitoraggio_congiunto", 1, False),
        ("discussione_caso", 1, False)}
    late = p4.open_case("pistoiese", ANNA)
    p4.complete("profilazione", late, profilo(), "cpi.pistoia")
    assert p4.header(late)["process_version_id"] != v1

    p4.hold_meeting("pistoiese-20260113", {early: scheda(presente=True), late: scheda(presente=True)},
                    by="sds.pistoia")
    (early_task,) = p4.inbox(case_id=early, element="prenota_primo_appuntamento")
    (late_task,) = p4.inbox(case_id=late, element="prenota_primo_appuntamento")
    assert early_task["name"] == "Prenotare il primo appuntamento con il case manager"
    assert late_task["name"] == "Prenotare il primo colloquio con il case manager ATS"

    for case, manager in ((early, "cm.rossi"), (late, "cm.bianchi")):
        slot = p4.book_first_appointment(case, manager, "cpi.pistoia")
        p4.start_path(case, manager, slot)
        p4.complete("progetto_individualizzato", case, PROGETTO, manager)
    assert p4.header(early)["process_version_id"] == v1
    for case in (early, late):
        assert "Richiesta di monitoraggio" in p4.header(case)["current_step"]


def test_path_5_with_workflows_kept_in_memory_as_a_web_process_keeps_them(p4_kept: Percorso4) -> None:
    # Completions then work from what the process committed, without reading their task back.
    test_path_5_the_12_month_path_closes_with_the_final_monitoring_and_the_outcome(p4_kept)


def test_path_4_with_workflows_kept_in_memory_as_a_web_process_keeps_them(p4_kept: Percorso4) -> None:
    test_path_4_a_substantial_change_in_month_4_goes_back_to_the_equipe_and_keeps_the_end_date(p4_kept)


def test_a_profiling_completed_from_the_database_is_audited_under_the_case_key(p4: Percorso4) -> None:
    """No workflow in memory: the completion reads its case's key with its task; its data opens, its subject matches."""
    case = p4.open_case("pistoiese", ANNA)
    p4.complete("profilazione", case, profilo(complessi=False, fabbisogno="riqualificazione"), "cpi.pistoia")
    completed = p4.audit("task.completed", case)
    started = p4.audit("instance.started", case)
    assert len(completed) == 1 and completed[0]["data"]["data"]["fabbisogno_formativo"] == "riqualificazione"
    with p4.rt.uow(write=False) as uow:
        key = uow.conn.execute(select(subject_keys.c.key).where(subject_keys.c.instance_id == case)).scalar_one()
    assert completed[0]["subject"] == started[0]["subject"] == pseudonym(bytes(key), ANNA["codice_fiscale"])
