"""The equipe agenda through the service layer: booking, the 5-day cut-off, convening, esito back to each case."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import datetime, timedelta
from datetime import time as clock_time

import pytest
from icalendar import Calendar

from gol_workflow.clock import ManualClock
from gol_workflow.domain.errors import InvalidState
from gol_workflow.services.meetings import agenda as agenda_service
from gol_workflow.services.meetings import equipe
from gol_workflow.services.administration import scheduler_overview
from gol_workflow.services.workflow import instances as instance_service
from gol_workflow.services.workflow.due_work import run_due_work
from gol_workflow.services.workflow.runtime import Runtime
from tests.conftest import ADMIN, ROME, ROOT, deploy_dir, on_postgres
from tests.integration.scheduling_support import (  # noqa: F401 - fixtures
    agenda,
    audit_actions,
    complete_schede,
    header,
    meeting,
    meeting_rt,
    ready,
    smtp_server,
    start_case,
)


def at(clock: ManualClock, *args: int) -> datetime:
    moment = datetime(*args, tzinfo=ROME)  # type: ignore[misc]
    clock.set(moment)
    return moment


def meetings_of(rt: Runtime, case_id: str) -> list[dict]:
    """The meetings a case was booked onto, earliest first, as stored."""
    with rt.uow(write=False) as uow:
        return [dict(row) for row in uow.meetings.meetings_of_case(case_id)]


def planned(rt: Runtime, zone: str | None = None) -> list[dict]:
    """The meetings of the coming six weeks that are not cancelled, soonest first."""
    now = rt.now()
    with rt.uow(write=False) as uow:
        rows = uow.meetings.between(zone, now, now + timedelta(days=42), 500)
    return [dict(row) for row in rows if row["status"] != "cancelled"]


def case_data(rt: Runtime, case_id: str) -> dict:
    with rt.uow(write=False) as uow:
        return instance_service.read_workflow(rt, uow, case_id, lambda loaded: dict(loaded.handle.data()))


def test_case_books_onto_the_next_meeting_of_its_zone(meeting_rt: Runtime) -> None:
    rt = meeting_rt
    case = start_case(rt, "nord", "rossi", bisogni_particolari=True, servizi_specialistici=["salute_mentale"],
                      conosciuto_servizio_sociale=False)
    assert agenda(rt, "nord-20260113") == [case]
    booking = case_data(rt, case)["iscrizione"]
    assert booking == {
        "riunione_id": "nord-20260113",
        "data_equipe": "2026-01-13T09:30:00+01:00",
        "data_cutoff": "2026-01-08T09:30:00+01:00",
        "luogo": "SdS Nord, sala riunioni, Pistoia",
    }
    assert header(rt, case)["current_step"] == "In attesa: Esito dell'equipe"
    with rt.uow(write=False) as uow:
        item = uow.meetings.agenda("nord-20260113")[0]["item"]
    assert item == {
        "case_id": case,
        "beneficiario": {"codice_fiscale": "RSSMRA80A01G713N", "nome": "Mario", "cognome": "Rossi",
                         "data_nascita": "1980-01-01"},
        "bisogni_particolari": True,
        "servizi_specialistici": ["salute_mentale"],
        "servizi_specialistici_nomi": ["Salute mentale adulti"],
        "conosciuto_servizio_sociale": False,
        "motivo": "prima_valutazione",
    }
    assert [e["data"]["meeting"] for e in audit_actions(rt, "equipe.booked")] == ["nord-20260113"]


def test_case_arriving_three_days_before_a_meeting_goes_to_the_following_one(meeting_rt: Runtime, clock) -> None:
    rt = meeting_rt
    at(clock, 2026, 1, 10, 11, 0)  # Saturday: the 13 January agenda closed on the 8th
    case = start_case(rt, "nord", "rossi")
    assert agenda(rt, "nord-20260120") == [case]
    assert case_data(rt, case)["data_equipe"] == "2026-01-20T09:30:00+01:00"


def test_fortnightly_zone_skips_the_week_in_between(meeting_rt: Runtime, clock) -> None:
    rt = meeting_rt
    at(clock, 2026, 1, 12, 9, 0)  # the 15 January cut-off (10th) has passed; no meeting on the 22nd
    case = start_case(rt, "sud", "verdi")
    assert case_data(rt, case)["iscrizione"]["riunione_id"] == "sud-20260129"


def test_particular_needs_invite_the_specialist_service_only_when_flagged(meeting_rt: Runtime) -> None:
    rt = meeting_rt
    start_case(rt, "nord", "rossi", bisogni_particolari=False, servizi_specialistici=["dipendenze"])
    with rt.uow(write=False) as uow:
        assert uow.meetings.agenda("nord-20260113")[0]["item"]["servizi_specialistici"] == []


def test_two_zones_in_the_same_week_have_their_own_agendas_and_mail(meeting_rt: Runtime, clock, smtp_server) -> None:
    rt = meeting_rt
    north = start_case(rt, "nord", "rossi")
    south = start_case(rt, "sud", "bianchi")
    at(clock, 2026, 1, 10, 12, 0)  # after both cut-offs (8th for nord, 10th 10:00 for sud)
    report = run_due_work(rt)
    assert sorted(report.meetings_convened) == ["nord-20260113", "sud-20260115"]
    nord_meeting, sud_meeting = meeting(rt, "nord-20260113"), meeting(rt, "sud-20260115")
    assert list(case_data(rt, nord_meeting["instance_id"])["casi"]) == [north]
    assert list(case_data(rt, sud_meeting["instance_id"])["casi"]) == [south]
    received = {tuple(rcpts): msg["Subject"] for _, rcpts, msg in smtp_server.mailbox.messages}
    assert set(received) == {("equipe@sds-nord.example.it", "coordinamento@sds-nord.example.it"),
                             ("equipe@sds-sud.example.it",)}


def test_at_the_cutoff_the_meeting_is_convened_and_each_case_gets_its_esito(meeting_rt: Runtime, clock) -> None:
    rt = meeting_rt
    rossi = start_case(rt, "nord", "rossi", conosciuto_servizio_sociale=False)
    bianchi = start_case(rt, "nord", "bianchi")
    at(clock, 2026, 1, 8, 9, 29)
    assert run_due_work(rt).meetings_convened == []
    assert meeting(rt, "nord-20260113")["status"] == "planned"
    at(clock, 2026, 1, 8, 9, 30)
    assert run_due_work(rt).meetings_convened == ["nord-20260113"]
    row = meeting(rt, "nord-20260113")
    assert row["status"] == "convened" and row["instance_id"]
    data = case_data(rt, row["instance_id"])
    assert data["zona"] == "nord" and data["riunione_id"] == "nord-20260113" and set(data["casi"]) == {rossi, bianchi}
    assert data["casi"][rossi]["motivo"] == "prima_valutazione"
    assert data["invio_odg"]["destinatari"] == ["equipe@sds-nord.example.it", "coordinamento@sds-nord.example.it"]
    assert ready(rt, row["instance_id"]) == []  # the equipe meets on the 13th, not before
    assert meeting(rt, "nord-20260120")["status"] == "planned"  # a case arriving now would go there
    at(clock, 2026, 1, 13, 9, 31)
    run_due_work(rt)
    schede = ready(rt, row["instance_id"])
    assert sorted(t["beneficiary_name"] for t in schede) == ["Laura Bianchi", "Mario Rossi"]
    assert {t["case_id"] for t in schede} == {rossi, bianchi}
    assert complete_schede(rt, row["instance_id"]) == 2
    assert case_data(rt, rossi)["esito_equipe"] == {"case_id": rossi, "decisione": "percorso di inclusione"}
    assert header(rt, rossi)["current_step"] == "Attività del percorso"
    assert header(rt, row["instance_id"])["status"] == "completed"
    assert [(m["status"], m["scheduled_at"] <= rt.now()) for m in meetings_of(rt, rossi)] == [("convened", True)]


def test_a_week_with_nothing_on_the_agenda_holds_no_meeting(meeting_rt: Runtime, clock, smtp_server) -> None:
    rt = meeting_rt
    equipe.plan_meetings(rt)
    at(clock, 2026, 1, 9, 0, 0)
    report = run_due_work(rt)
    assert report.meetings_cancelled == ["nord-20260113"] and report.meetings_convened == []
    assert meeting(rt, "nord-20260113")["instance_id"] is None
    assert smtp_server.mailbox.messages == []
    assert [m["id"] for m in planned(rt, "nord")][:1] == ["nord-20260120"]


def test_a_case_that_ends_is_taken_off_the_agenda(meeting_rt: Runtime, clock) -> None:
    rt = meeting_rt
    gone = start_case(rt, "nord", "rossi")
    staying = start_case(rt, "nord", "bianchi")
    instance_service.terminate(rt, gone, ADMIN, "trasferito")
    assert agenda(rt, "nord-20260113") == [staying]
    assert [e["instance_id"] for e in audit_actions(rt, "equipe.withdrawn")] == [gone]
    instance_service.terminate(rt, staying, ADMIN, "rinuncia")
    at(clock, 2026, 1, 9, 0, 0)
    assert run_due_work(rt).meetings_cancelled == ["nord-20260113"]


def test_booking_again_is_idempotent_and_a_second_discussion_is_a_substantial_change(meeting_rt: Runtime,
                                                                                    clock) -> None:
    rt = meeting_rt
    case = start_case(rt, "nord", "rossi")
    data = case_data(rt, case)
    with rt.uow() as uow:
        again = equipe.book_in(rt, uow, data, case, rt.now())
        uow.commit()
    assert again["riunione_id"] == "nord-20260113" and agenda(rt, "nord-20260113") == [case]
    at(clock, 2026, 1, 9, 0, 0)
    run_due_work(rt)
    at(clock, 2026, 3, 2, 10, 0)  # month 2: the project changes substantially
    with rt.uow() as uow:
        later = equipe.book_in(rt, uow, data, case, rt.now())
        uow.commit()
    assert later["riunione_id"] == "nord-20260310"
    assert [(m["id"], m["reason"]) for m in meetings_of(rt, case)] == [
        ("nord-20260113", "prima_valutazione"), ("nord-20260310", "modifica_sostanziale")]
    with rt.uow() as uow:
        asked = equipe.book_in(rt, uow, {**data, "motivo_equipe": "prima_valutazione", "case_id": "altro"},
                                 "altro", rt.now())
        uow.commit()
    assert meetings_of(rt, "altro")[0]["reason"] == "prima_valutazione"
    assert asked["riunione_id"] == "nord-20260310"


def test_unknown_zone_or_service_stops_the_case_with_a_clear_error(meeting_rt: Runtime) -> None:
    rt = meeting_rt
    lost = start_case(rt, "atlantide", "rossi")
    row = header(rt, lost)
    assert row["status"] == "error" and "unknown zone 'atlantide'" in row["error"]["message"]
    wrong = start_case(rt, "nord", "bianchi", bisogni_particolari=True, servizi_specialistici=["cardiologia"])
    assert "no specialist service cardiologia" in header(rt, wrong)["error"]["message"]


def test_a_meeting_that_cannot_start_is_retried_then_shown_failed(meeting_rt: Runtime, clock, monkeypatch) -> None:
    rt = meeting_rt
    start_case(rt, "nord", "rossi")
    monkeypatch.setattr(equipe, "MEETING_PROCESS", "processo_mancante")
    moment = at(clock, 2026, 1, 8, 9, 31)
    for delay in (1, 5, 30):
        assert run_due_work(rt).meetings_failed == ["nord-20260113"]
        row = meeting(rt, "nord-20260113")
        assert row["status"] == "planned" and row["due_at"] == moment + timedelta(minutes=delay)
        assert "processo_mancante" in row["last_error"]
        moment = row["due_at"]
        clock.set(moment)
    assert run_due_work(rt).meetings_failed == ["nord-20260113"]
    assert meeting(rt, "nord-20260113")["status"] == "failed"
    monkeypatch.undo()
    scheduler_overview.retry_meeting(rt, ADMIN, "nord-20260113")
    assert run_due_work(rt).meetings_convened == ["nord-20260113"]
    with pytest.raises(InvalidState):
        scheduler_overview.retry_meeting(rt, ADMIN, "nord-20260113")


def test_planning_follows_the_zone_calendar_and_keeps_booked_meetings(meeting_rt: Runtime) -> None:
    rt = meeting_rt
    equipe.plan_meetings(rt)
    views = planned(rt)
    assert [v["id"] for v in views] == ["nord-20260113", "sud-20260115", "nord-20260120", "nord-20260127",
                                        "sud-20260129", "nord-20260203"]
    assert views[0]["cutoff_at"].astimezone(ROME).isoformat() == "2026-01-08T09:30:00+01:00"
    assert views[0]["status"] == "planned"
    booked = start_case(rt, "nord", "rossi")
    rt.zones["nord"] = replace(rt.zones["nord"], weekday=2)  # the zone moves its equipe to Wednesday
    equipe.plan_meetings(rt)
    ids = [v["id"] for v in planned(rt, "nord")]
    assert ids == ["nord-20260113", "nord-20260114", "nord-20260121", "nord-20260128", "nord-20260204"]
    assert agenda(rt, "nord-20260113") == [booked]


def test_invitation_download_lists_the_agenda(meeting_rt: Runtime) -> None:
    rt = meeting_rt
    start_case(rt, "nord", "rossi", bisogni_particolari=True, servizi_specialistici=["dipendenze"])
    event = Calendar.from_ical(agenda_service.meeting_ics(rt, ADMIN, "nord-20260113")).walk("VEVENT")[0]
    assert event.decoded("dtstart") == datetime(2026, 1, 13, 9, 30, tzinfo=ROME)
    assert str(event["uid"]) == "nord-20260113@gol-workflow"  # the e-mailed invitation's: calendars merge them
    assert "Mario Rossi" in str(event["description"])


@pytest.mark.skipif(not on_postgres(), reason="row locks: PostgreSQL only (SQLite serialises writers)")
def test_a_booking_racing_the_cutoff_job_lands_on_the_next_meeting(meeting_rt: Runtime, clock) -> None:
    rt = meeting_rt
    equipe.plan_meetings(rt)
    at(clock, 2026, 1, 8, 9, 29, 59)
    outcome: dict[str, str] = {}
    with rt.uow() as convening:
        assert convening.meetings.claim_due(datetime(2026, 1, 8, 9, 31, tzinfo=ROME), 1) == ["nord-20260113"]

        def book() -> None:
            outcome["case"] = start_case(rt, "nord", "rossi")

        racer = threading.Thread(target=book)
        racer.start()
        time.sleep(0.5)
        assert racer.is_alive()  # waits for the convening transaction
        convening.meetings.update("nord-20260113", {"status": "cancelled"})
        convening.commit()
    racer.join(10)
    assert agenda(rt, "nord-20260120") == [outcome["case"]]


def test_the_shipped_meeting_process_is_convened_with_the_same_contract(meeting_rt: Runtime, clock,
                                                                       smtp_server) -> None:
    rt = meeting_rt
    deploy_dir(rt, ROOT / "processes", ROOT / "forms")  # processes/riunione_equipe.bpmn becomes the latest
    rossi = start_case(rt, "nord", "rossi", bisogni_particolari=True, servizi_specialistici=["dipendenze"])
    verdi = start_case(rt, "nord", "verdi")
    at(clock, 2026, 1, 8, 9, 30)
    assert run_due_work(rt).meetings_convened == ["nord-20260113"]
    instance_id = meeting(rt, "nord-20260113")["instance_id"]
    row = header(rt, instance_id)
    assert row["process_id"] == "riunione_equipe" and row["status"] == "waiting" and row["error"] is None
    by_recipients = {tuple(r): m.get_body(("plain",)).get_content() for _, r, m in smtp_server.mailbox.messages}
    assert "Rossi Mario" in by_recipients[("serd@asl-nord.example.it",)]  # the SerD's own invitation
    assert any("Rossi Mario" in body and "Dipendenze" in body for body in by_recipients.values())
    at(clock, 2026, 1, 13, 9, 31)
    run_due_work(rt)
    # At the meeting time each case gets a discussion of its own, and the meeting instance ends.
    assert header(rt, instance_id)["status"] == "completed"
    schede = [t for t in ready(rt) if t["element_id"] == "scheda_esito"]
    assert {(t["case_id"], t["beneficiary_name"]) for t in schede} == {(rossi, "Mario Rossi"), (verdi, "Giuseppe Verdi")}
    discussions = {t["instance_id"] for t in schede}
    assert len(discussions) == 2 and instance_id not in discussions
    assert {header(rt, d)["process_id"] for d in discussions} == {"discussione_caso"}


def test_a_meeting_after_the_march_clock_change_is_held_at_0930_local(meeting_rt: Runtime, clock) -> None:
    rt = meeting_rt
    at(clock, 2026, 3, 20, 12, 0)  # the 24 March agenda closed on the 19th
    case = start_case(rt, "nord", "rossi")
    booking = case_data(rt, case)["iscrizione"]
    assert booking["data_equipe"] == "2026-03-31T09:30:00+02:00"
    assert booking["data_cutoff"] == "2026-03-26T09:30:00+01:00"
    at(clock, 2026, 3, 26, 9, 31)
    run_due_work(rt)
    instance_id = meeting(rt, "nord-20260331")["instance_id"]
    at(clock, 2026, 3, 31, 9, 29)  # 07:29 UTC: an hour-off timer would already have fired
    run_due_work(rt)
    assert ready(rt, instance_id) == []
    at(clock, 2026, 3, 31, 9, 31)
    run_due_work(rt)
    assert len(ready(rt, instance_id)) == 1


def test_a_meeting_on_a_holiday_is_booked_and_held_the_next_working_day(meeting_rt: Runtime, clock) -> None:
    rt = meeting_rt
    at(clock, 2026, 12, 1, 8, 0)
    case = start_case(rt, "nord", "rossi")
    booking = case_data(rt, case)["iscrizione"]
    assert booking["riunione_id"] == "nord-20261209"  # Tuesday 8 December is the Immacolata
    assert booking["data_equipe"] == "2026-12-09T09:30:00+01:00"
    assert booking["data_cutoff"] == "2026-12-04T09:30:00+01:00"
    shown = agenda_service.upcoming(rt, ADMIN, ["nord"])["nord"]
    [view] = [m for m in shown if m.id == "nord-20261209"]
    assert view.moved_for == "Immacolata Concezione" and [item.case_id for item in view.items] == [case]
    assert [m.moved_for for m in shown if m is not view] == [None] * (len(shown) - 1)


def test_two_schedulers_racing_convene_each_meeting_once(meeting_rt: Runtime, clock) -> None:
    rt = meeting_rt
    base = datetime(2026, 1, 5, 8, 0, tzinfo=ROME)
    with rt.uow() as uow:
        for day in range(24):
            meeting_id = f"nord-prova-{day:02d}"
            uow.meetings.add_if_missing({
                "id": meeting_id, "zone": "nord", "scheduled_at": base + timedelta(days=day + 5),
                "cutoff_at": base + timedelta(minutes=day), "due_at": base + timedelta(minutes=day),
                "location": "Sala", "status": "planned", "attempts": 0, "created_at": base})
            uow.meetings.add_to_agenda({"meeting_id": meeting_id, "case_id": f"caso-{day}", "reason": "prima_valutazione",
                                        "item": {"case_id": f"caso-{day}", "beneficiario": {"nome": "N", "cognome": str(day)},
                                                 "servizi_specialistici": [], "motivo": "prima_valutazione"},
                                        "added_at": base})
        uow.commit()
    at(clock, 2026, 1, 5, 9, 0)
    reports = []
    racers = [threading.Thread(target=lambda: reports.append(equipe.convene_due(rt))) for _ in range(2)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(60)
    assert sum(r.total for r in reports) == 24
    convened = [e["data"]["meeting"] for e in audit_actions(rt, "meeting.convened")]
    assert sorted(convened) == [f"nord-prova-{day:02d}" for day in range(24)]
    with rt.uow(write=False) as uow:
        rows = uow.meetings.between("nord", base, None, 100)
    assert len({r["instance_id"] for r in rows if r["id"].startswith("nord-prova")}) == 24


def test_planned_meetings_follow_a_changed_hour_and_place(meeting_rt: Runtime) -> None:
    rt = meeting_rt
    equipe.plan_meetings(rt)
    rt.zones["nord"] = replace(rt.zones["nord"], meeting_time=clock_time(11, 0), location="Sala consiliare")
    equipe.plan_meetings(rt)
    row = meeting(rt, "nord-20260120")
    assert row["scheduled_at"] == datetime(2026, 1, 20, 11, 0, tzinfo=ROME)
    assert row["cutoff_at"] == row["due_at"] == datetime(2026, 1, 15, 11, 0, tzinfo=ROME)
    assert row["location"] == "Sala consiliare"
