"""The ATS agenda: free slots on the calendar agreed with the ATS, case managers of the zone, no double booking."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest
from sqlalchemy import select

from gol_workflow.domain.errors import ValidationFailed
from gol_workflow.persistence.tables import bookings
from gol_workflow.services.access import users
from gol_workflow.services.meetings.ats_agenda import BUSY, BookingRefused, book
from gol_workflow.services.workflow.form_options import OptionContext, options_for
from gol_workflow.services.workflow.tasks import complete_task
from tests.conftest import ADMIN, ROME
from tests.integration.percorso4_support import (  # noqa: F401 - fixtures
    ANNA,
    LUCIA,
    MARCO,
    Percorso4,
    p4,
    profilo,
    scheda,
    smtp,
)

BOOKING_FORM = {"type": "object", "properties": {"slot": {"type": "string", "x-options": "ats_slot"},
                                                 "cm": {"type": "string", "x-options": "case_manager"}}}


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ROME)


def offered(p4: Percorso4, zone: str, source: str = "ats_slot") -> list[tuple[str, str]]:
    operator = p4.actors["cpi.pistoia" if zone == "pistoiese" else "cpi.pescia"]
    with p4.rt.uow(write=False) as uow:
        return options_for(p4.rt, uow, BOOKING_FORM, OptionContext(operator, zone, None, p4.rt.now()))[source]


def test_slots_follow_the_zone_calendar_from_tomorrow_for_four_weeks_and_skip_holidays(p4: Percorso4) -> None:
    p4.clock.set(at(2026, 4, 27, 8, 0))  # Monday; Friday 1 May is a national holiday
    slots = offered(p4, "pistoiese")
    values = [value for value, _ in slots]
    assert values[:5] == ["2026-04-29T09:00:00+02:00", "2026-04-29T10:00:00+02:00", "2026-04-29T11:00:00+02:00",
                          "2026-04-29T15:00:00+02:00", "2026-05-04T09:00:00+02:00"]
    assert not any(v.startswith(("2026-05-01", "2026-04-27")) for v in values)
    assert values[-1] == "2026-05-25T15:00:00+02:00"  # four weeks ahead
    assert slots[0][1] == "mer 29/04/2026 ore 09:00 (liberi: Luca Bianchi, Anna Rossi)"

    p4.clock.set(at(2026, 5, 29, 8, 0))  # Valdinievole meets the ATS on Tuesdays: 2 June is a holiday
    values = [value for value, _ in offered(p4, "valdinievole")]
    assert not any(v.startswith("2026-06-02") for v in values)
    assert values[0] == "2026-06-03T09:00:00+02:00"

    p4.clock.set(at(2026, 3, 25, 8, 0))  # the clocks go forward on Sunday 29 March: 09:00 stays 09:00
    values = [value for value, _ in offered(p4, "pistoiese")]
    assert "2026-03-27T09:00:00+01:00" in values and "2026-03-30T09:00:00+02:00" in values


def test_case_managers_offered_are_the_active_ats_users_of_the_zone(p4: Percorso4) -> None:
    assert offered(p4, "pistoiese", "case_manager") == [("cm.bianchi", "Luca Bianchi"), ("cm.rossi", "Anna Rossi")]
    assert offered(p4, "valdinievole", "case_manager") == [("cm.bianchi", "Luca Bianchi"), ("cm.verdi", "Marta Verdi")]
    users.set_active(p4.rt, "cm.rossi", False, ADMIN)
    assert offered(p4, "pistoiese", "case_manager") == [("cm.bianchi", "Luca Bianchi")]


def three_cases_to_book(p4: Percorso4) -> list[str]:
    cases = [p4.open_case("pistoiese", person) for person in (LUCIA, MARCO, ANNA)]
    for case in cases:
        p4.complete("profilazione", case, profilo(), "cpi.pistoia")
    p4.hold_meeting("pistoiese-20260113", {case: scheda(presente=True) for case in cases}, by="sds.pistoia")
    return cases


def test_a_case_manager_is_never_booked_twice_at_the_same_time(p4: Percorso4) -> None:
    first, second, third = three_cases_to_book(p4)
    slot = p4.book_first_appointment(first, "cm.rossi", "cpi.pistoia")

    page = p4.task_page("prenota_primo_appuntamento", second, "cpi.pistoia")
    assert page.options["ats_slot"][0] == (slot, "mer 14/01/2026 ore 09:00 (libero: Luca Bianchi)")
    with pytest.raises(ValidationFailed) as refused:
        complete_task(p4.rt, page.task["id"], {"slot_appuntamento": slot, "case_manager": "cm.rossi"},
                      p4.actors["cpi.pistoia"], options={k: [v for v, _ in o] for k, o in page.options.items()})
    assert list(refused.value.errors) == ["case_manager"]
    assert "ha già un appuntamento" in refused.value.errors["case_manager"][0]
    assert p4.ready(second) == ["prenota_primo_appuntamento"]  # nothing was stored

    p4.complete("prenota_primo_appuntamento", second, {"slot_appuntamento": slot, "case_manager": "cm.bianchi"},
                "cpi.pistoia")
    third_page = p4.task_page("prenota_primo_appuntamento", third, "cpi.pistoia")
    assert slot not in [value for value, _ in third_page.options["ats_slot"]]  # both case managers are taken
    with pytest.raises(ValidationFailed) as refused:
        p4.complete("prenota_primo_appuntamento", third, {"slot_appuntamento": slot, "case_manager": "cm.rossi"},
                    "cpi.pistoia")
    assert refused.value.errors == {"slot_appuntamento": ["Scegliere uno dei valori proposti."]}


def test_booking_refuses_what_the_calendar_agreed_with_the_ats_does_not_allow(p4: Percorso4) -> None:
    zone = p4.rt.zones["pistoiese"]
    cases = {
        at(2026, 1, 13, 9, 0): "is not a slot of the calendar agreed with the ATS",  # a Tuesday
        at(2026, 1, 14, 9, 30): "is not a slot of the calendar agreed with the ATS",  # not an agreed time
        at(2026, 1, 2, 15, 0): "has already passed",
        at(2026, 5, 1, 9, 0): "is a holiday",
    }
    with p4.rt.uow() as uow:
        for slot, reason in cases.items():
            with pytest.raises(BookingRefused, match=reason):
                book(p4.rt, uow, zone, "caso-1", "cm.rossi", slot, p4.rt.now())
        with pytest.raises(BookingRefused, match="not an active ATS case manager of Zona Distretto Pistoiese"):
            book(p4.rt, uow, zone, "caso-1", "cm.verdi", at(2026, 1, 14, 9, 0), p4.rt.now())
        first = book(p4.rt, uow, zone, "caso-1", "cm.rossi", at(2026, 1, 14, 9, 0), p4.rt.now())
        assert book(p4.rt, uow, zone, "caso-1", "cm.rossi", at(2026, 1, 14, 9, 0), p4.rt.now()) == first
        with pytest.raises(BookingRefused, match="cm.rossi already has an appointment on 14/01/2026 at 09:00"):
            book(p4.rt, uow, zone, "caso-2", "cm.rossi", at(2026, 1, 14, 9, 0), p4.rt.now())
        uow.commit()


def test_a_new_appointment_after_a_cancelled_one_frees_the_old_slot(p4: Percorso4) -> None:
    case = p4.open_case("pistoiese", LUCIA)
    p4.complete("profilazione", case, profilo(), "cpi.pistoia")
    p4.hold_meeting("pistoiese-20260113", {case: scheda(presente=True)}, by="sds.pistoia")
    slot = p4.book_first_appointment(case, "cm.rossi", "cpi.pistoia")
    # The person phones to say they cannot come: the case manager records it before the appointment.
    p4.complete("primo_colloquio", case, {"presente_primo_colloquio": False, "esito_assenza": "nuovo_appuntamento"},
                "cm.rossi")
    assert p4.ready(case) == ["prenota_primo_appuntamento"]
    new_slot = p4.book_first_appointment(case, "cm.rossi", "cpi.pistoia", pick=1)
    assert new_slot == "2026-01-14T10:00:00+01:00"
    with p4.rt.uow(write=False) as uow:
        rows = [dict(r) for r in uow.conn.execute(select(bookings)).mappings()]
    assert [r["slot_at"].astimezone(ROME).isoformat() for r in rows] == [new_slot]
    (cancelled,) = p4.audit("booking.cancelled", case)
    assert cancelled["data"]["slot"] == slot
    assert len(p4.attachments(case, "scheda_esito")) == 1  # the scheda is not shared twice
    assert p4.ready(case) == ["primo_colloquio"] and p4.data(case)["data_primo_appuntamento"] == new_slot


def test_two_operators_booking_the_same_case_manager_at_the_same_time_get_one_booking_and_one_field_error(
    p4: Percorso4,
) -> None:
    first, second, _ = three_cases_to_book(p4)
    choice = {"slot_appuntamento": "2026-01-14T09:00:00+01:00", "case_manager": "cm.rossi"}
    start = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def book_for(case: str) -> None:
        start.wait()
        try:
            outcomes[case] = p4.complete("prenota_primo_appuntamento", case, choice, "cpi.pistoia").status
        except ValidationFailed as exc:
            outcomes[case] = exc.errors

    threads = [threading.Thread(target=book_for, args=(case,)) for case in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes.values(), key=str) == sorted(["running", {"case_manager": [BUSY]}], key=str)
    assert {p4.header(case)["status"] for case in (first, second)} == {"running"}  # nobody ends up in error
    with p4.rt.uow(write=False) as uow:
        assert len(uow.conn.execute(select(bookings)).all()) == 1


def test_a_person_who_withdraws_before_the_first_appointment_frees_the_slot(p4: Percorso4) -> None:
    case, other, _ = three_cases_to_book(p4)
    slot = p4.book_first_appointment(case, "cm.rossi", "cpi.pistoia")
    p4.complete("primo_colloquio", case, {"presente_primo_colloquio": False, "esito_assenza": "rinuncia"}, "cm.rossi")
    assert p4.header(case)["status"] == "completed" and p4.data(case)["esito"] == "ritirato"
    with p4.rt.uow(write=False) as uow:
        assert uow.conn.execute(select(bookings)).all() == []
    (released,) = p4.audit("booking.cancelled", case)
    assert released["data"]["reason"] == "the case has ended"
    page = p4.task_page("prenota_primo_appuntamento", other, "cpi.pistoia")
    assert page.options["ats_slot"][0] == (slot, "mer 14/01/2026 ore 09:00 (liberi: Luca Bianchi, Anna Rossi)")
