"""The equipe agenda page and its .ics download."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from icalendar import Calendar


def _meeting(rt, zone: str, day: int, items: list[tuple[str, str, list[str]]]) -> str:
    meeting_id = f"{zone}-202601{day:02d}"
    with rt.uow() as uow:
        cutoff = datetime(2026, 1, day - 5, 8, 30, tzinfo=UTC)
        uow.meetings.add_if_missing({
            "id": meeting_id, "zone": zone, "scheduled_at": datetime(2026, 1, day, 8, 30, tzinfo=UTC),
            "cutoff_at": cutoff, "due_at": cutoff, "attempts": 0, "location": "Sala riunioni", "status": "planned",
            "created_at": datetime(2026, 1, 1, tzinfo=UTC)})
        for case_id, name, services in items:
            nome, cognome = name.split()
            uow.meetings.add_to_agenda({
                "meeting_id": meeting_id, "case_id": case_id, "reason": "prima_valutazione",
                "added_at": datetime(2026, 1, 2, tzinfo=UTC),
                "item": {"case_id": case_id, "beneficiario": {"nome": nome, "cognome": cognome},
                         "servizi_specialistici": services}})
        uow.commit()
    return meeting_id


def test_agenda_lists_next_meetings_with_cutoff_and_cases(web_runtime, browser) -> None:
    _meeting(web_runtime, "nord", 13, [("c1", "Laura Bianchi", ["salute_mentale"]), ("c2", "Gino Rossi", [])])
    _meeting(web_runtime, "sud", 15, [("c3", "Marco Neri", [])])
    page = browser("sds.nord").text("/agenda")
    assert "Zona Nord" in page and "Zona Sud" not in page
    assert "Martedì 13 gennaio 2026, ore 09:30" in page and "08/01/2026 ore 09:30" in page
    assert "Laura Bianchi" in page and "Gino Rossi" in page and "Marco Neri" not in page
    assert "servizi invitati: Salute mentale adulti" in page and "salute_mentale" not in page


def test_specialist_sees_only_the_cases_of_their_service(web_runtime, browser) -> None:
    _meeting(web_runtime, "nord", 13, [("c1", "Laura Bianchi", ["salute_mentale"]), ("c2", "Gino Rossi", [])])
    page = browser("spec.nord").text("/agenda")
    assert "Laura Bianchi" in page and "Gino Rossi" not in page and "Altri 1 casi" in page


def test_ics_download(web_runtime, browser) -> None:
    meeting_id = _meeting(web_runtime, "nord", 13, [("c1", "Laura Bianchi", [])])
    response = browser("cpi.nord").get(f"/agenda/{meeting_id}.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    event = next(iter(Calendar.from_ical(response.data).walk("VEVENT")))
    assert event.decoded("dtstart") == datetime(2026, 1, 13, 8, 30, tzinfo=UTC)
    assert "Laura Bianchi" in str(event.get("description"))
    assert browser("cpi.sud").get(f"/agenda/{meeting_id}.ics").status_code == 404


def test_dates_not_planned_yet_come_from_the_zone_calendar(web_runtime, browser) -> None:
    page = browser("cpi.nord").text("/agenda")
    assert "Martedì 13 gennaio 2026, ore 09:30" in page and "Martedì 20 gennaio 2026, ore 09:30" in page
    assert "Prevista dal calendario" in page and ".ics" not in page.split("Zona Nord", 1)[1].split("</section>", 1)[0]


def test_a_meeting_moved_by_a_holiday_says_why(web_runtime, browser, clock) -> None:
    clock.set(datetime(2026, 12, 1, 7, 0, tzinfo=UTC))  # Tuesday 8 December is the Immacolata
    page = browser("cpi.nord").text("/agenda")
    moved = page.split("Mercoledì 9 dicembre 2026", 1)[1].split("</div>", 1)[0]
    assert "Spostata dal giorno consueto per Immacolata Concezione" in " ".join(re.sub(r"<[^>]+>", "", moved).split())
    assert page.count("Spostata") == 1


def test_ics_download_is_audited_on_each_case_it_names(web_runtime, browser) -> None:
    meeting_id = _meeting(web_runtime, "nord", 13, [("c1", "Laura Bianchi", ["salute_mentale"]),
                                                    ("c2", "Gino Rossi", [])])
    assert browser("spec.nord").get(f"/agenda/{meeting_id}.ics").status_code == 200
    with web_runtime.uow(write=False) as uow:
        reads = {case: [e for e in uow.audit.for_instance(case) if e["action"] == "document.viewed"]
                 for case in ("c1", "c2")}
    (read,) = reads["c1"]
    assert read["actor"] == "spec.nord"
    assert read["data"] == {"documento": "agenda equipe (.ics)", "riunione": meeting_id}
    assert reads["c2"] == []  # the specialist's file does not name Gino Rossi
