"""The capacity forecast against the real service: the same arrivals walked through Percorso 4 on the simulated clock.

Three weeks from Monday 25 May 2026 in the Pistoiese zone (weekly meetings on Tuesday, moved to
Wednesday 3 June by the Festa della Repubblica; ATS slots on Monday, Wednesday, Friday, with
two case managers). Each arrival is opened and profiled at
its moment, booked by the service on its meeting; at the meeting the equipe takes every case in
charge and the CPI books the first free slot at once, giving it to the free case manager with
fewest cases, as the forecast assumes.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from gol_workflow.services.indicators import forecast
from gol_workflow.services.meetings.ats_agenda import free_slots
from tests.integration.percorso4_support import (  # noqa: F401 - fixtures
    Percorso4,
    codice_fiscale,
    p4,
    profilo,
    scheda,
    smtp,
)

ROME = ZoneInfo("Europe/Rome")
START = date(2026, 5, 25)
WEEKS = 3
PEOPLE = 15


def person(n: int) -> dict[str, str]:
    first15 = f"PRVPRS{60 + n:02d}A01G713"
    return {"codice_fiscale": codice_fiscale(first15), "nome": "Persona", "cognome": f"Prova {n}",
            "data_nascita": f"19{60 + n:02d}-01-01"}


def test_the_forecast_matches_what_the_service_then_does(p4: Percorso4) -> None:
    zone = p4.rt.zones["pistoiese"]
    arrivals = forecast.even_arrivals(zone, START, WEEKS, PEOPLE, ROME)
    managers = ["cm.bianchi", "cm.rossi"]
    projected = forecast.project(zone, ROME, START, WEEKS, arrivals, managers)

    loads = dict.fromkeys(managers, 0)
    pending: dict[str, tuple[datetime, list[str]]] = {}
    held: list[tuple[datetime, int]] = []
    appointment: dict[str, datetime] = {}
    arrived: dict[str, datetime] = {}
    p4.advance_to(datetime(2026, 5, 24, 12, 0, tzinfo=ROME))

    def hold_meetings_before(moment: datetime) -> None:
        while pending:
            meeting_id, (at, cases) = min(pending.items(), key=lambda kv: kv[1][0])
            if at >= moment:
                return
            del pending[meeting_id]
            p4.hold_meeting(meeting_id, {case: scheda(presente=True) for case in cases}, "cpi.pistoia")
            held.append((at, len(cases)))
            for case in cases:
                with p4.rt.uow(write=False) as uow:
                    first = next(s for s in free_slots(p4.rt, uow, zone, p4.rt.now()) if s.free)
                chosen = min(first.free, key=lambda m: (loads[m], managers.index(m)))
                p4.task_page("prenota_primo_appuntamento", case, "cpi.pistoia")
                p4.complete("prenota_primo_appuntamento", case, {
                    "slot_appuntamento": first.at.astimezone(ROME).isoformat(), "case_manager": chosen},
                    "cpi.pistoia")
                loads[chosen] += 1
                appointment[case] = first.at

    for n, moment in enumerate(arrivals):
        hold_meetings_before(moment)
        p4.advance_to(moment)
        case = p4.open_case("pistoiese", person(n), confirm=True)
        p4.complete("profilazione", case, profilo(), "cpi.pistoia")
        booked = p4.meetings_of(case)[-1]
        pending.setdefault(booked["id"], (booked["scheduled_at"], []))[1].append(case)
        arrived[case] = moment
    hold_meetings_before(datetime(2026, 12, 31, tzinfo=ROME))

    real_agenda = [n for _, n in sorted(held)]
    real_waits = [(appointment[c].astimezone(ROME).date() - arrived[c].astimezone(ROME).date()).days
                  for c in sorted(arrived, key=arrived.__getitem__)]
    # The meetings the forecast puts the cases on are the service's own (3 June, not 2 June).
    assert [at.astimezone(ROME).date() for at, _ in sorted(held)] == sorted(
        {m.astimezone(ROME).date() for m in projected.meeting_of_case})
    assert date(2026, 6, 3) in [at.astimezone(ROME).date() for at, _ in held]
    mean_real_agenda = sum(real_agenda) / len(real_agenda)
    mean_real_wait = sum(real_waits) / len(real_waits)
    assert projected.mean_agenda is not None and projected.mean_wait is not None
    assert abs(projected.mean_agenda - mean_real_agenda) <= 0.1 * mean_real_agenda
    assert abs(projected.mean_wait - mean_real_wait) <= 0.1 * mean_real_wait
    assert sum(w.arrivals for w in projected.weeks) == PEOPLE
    assert projected.assigned == loads  # the same case managers get the same number of cases


def test_a_change_shortens_or_lengthens_the_queue_as_expected(p4: Percorso4) -> None:
    zone = p4.rt.zones["valdinievole"]
    arrivals = forecast.even_arrivals(zone, date(2026, 1, 5), 65, 400, ROME)  # the protocol's 400 in 15 months
    managers = ["cm.bianchi", "cm.verdi"]
    weekly = forecast.project(zone, ROME, date(2026, 1, 5), 65, arrivals, managers)
    fortnightly = forecast.project(zone, ROME, date(2026, 1, 5), 65, arrivals, managers,
                                   change=forecast.Change(cadence_weeks=2))
    more = forecast.project(zone, ROME, date(2026, 1, 5), 65, arrivals, managers,
                            change=forecast.Change(extra_case_managers=1))
    capped = forecast.project(zone, ROME, date(2026, 1, 5), 65, arrivals, managers,
                              change=forecast.Change(agenda_capacity=5))
    assert sum(weekly.agenda_lengths) == 400 == sum(capped.agenda_lengths)
    assert fortnightly.mean_agenda > weekly.mean_agenda and fortnightly.mean_wait > weekly.mean_wait
    assert more.max_load < weekly.max_load
    assert max(capped.agenda_lengths) == 5 and capped.mean_wait > weekly.mean_wait
    assert len(weekly.weeks) == 65
    assert timedelta(0) < (weekly.weeks[1].start - weekly.weeks[0].start) == timedelta(days=7)
