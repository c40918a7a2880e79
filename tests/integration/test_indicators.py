"""Every indicator and waiting time of a known population, checked against numbers worked out by hand.

The population (zone Pistoiese unless said, period 1 January - 31 March 2026):

| case | opened | profiled +d | equipe +d | decision | 1st appt / path +d | poverty | goals | joint | manager |
|---|---|---|---|---|---|---|---|---|---|
| c1 | 5 Jan | 0 | 8 | presa in carico | 15 | adi | S W | yes | rossi |
| c2 | 6 Jan | 1 | 7 | presa in carico | 16 | rischio | S | yes | rossi |
| c3 | 7 Jan | 2 | 6 | presa in carico | 20 | adi | S W | yes | rossi |
| c4 | 8 Jan | 3 | 12 | presa in carico | 22 | rischio | S | yes | rossi |
| c5 | 9 Jan | 4 | 11 | presa in carico | 30 | nessuna | W | yes | bianchi (closed 20 Mar, occupato) |
| c6 | 12 Jan | 5 | 15 | presa in carico | 25 | adi | S W | no | bianchi |
| c7 | 13 Jan | 10 | 21 | presa in carico | 35 | adi | S | no | bianchi |
| c8 | 14 Jan | 1 | 14 | non attivabile | - | - | - | - | - |
| b1 | 2 Mar | 0 | 31 Mar 23:30 | presa in carico | - | | | | |
| b2 | 3 Mar | 0 | 1 Apr 00:30 (next period) | presa in carico | - | | | | |
| y1-y5 | 2025 | | Feb 2025 | presa in carico | 2025 | | | | closed Q1 2026: 4 occupato, 1 inclusione |
| v1, v2 (Valdinievole) | 20, 21 Jan | 1, 2 | 10 | presa in carico | - | | | | |
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import pytest

from gol_workflow.domain.errors import Forbidden, NotFound, ValidationFailed
from gol_workflow.domain.model import Actor
from gol_workflow.services.administration import deployment
from gol_workflow.services.indicators import report as indicator_report
from gol_workflow.services.workflow.runtime import Runtime
from tests.conftest import ADMIN, ROME, ROOT
from tests.integration.indicator_population import (
    add_case,
    add_equipe_meeting,
    add_operator_meeting,
    add_placement,
    days_after,
    local,
    version_id,
)

Q1 = (date(2026, 1, 1), date(2026, 3, 31))
MANAGER = Actor("resp.pistoia", "manager", frozenset({"pistoiese"}))

# (opened day, profiling, equipe, decision, first appointment/path, poverty, social, work, joint, manager)
ROWS = [
    ("c1", date(2026, 1, 5), 0, 8, "presa_in_carico", 15, "adi", True, True, True, "cm.rossi"),
    ("c2", date(2026, 1, 6), 1, 7, "presa_in_carico", 16, "rischio_poverta", True, None, True, "cm.rossi"),
    ("c3", date(2026, 1, 7), 2, 6, "presa_in_carico", 20, "adi", True, True, True, "cm.rossi"),
    ("c4", date(2026, 1, 8), 3, 12, "presa_in_carico", 22, "rischio_poverta", True, None, True, "cm.rossi"),
    ("c5", date(2026, 1, 9), 4, 11, "presa_in_carico", 30, "nessuna", None, True, True, "cm.bianchi"),
    ("c6", date(2026, 1, 12), 5, 15, "presa_in_carico", 25, "adi", True, True, False, "cm.bianchi"),
    ("c7", date(2026, 1, 13), 10, 21, "presa_in_carico", 35, "adi", True, None, False, "cm.bianchi"),
    ("c8", date(2026, 1, 14), 1, 14, "non_attivabile", None, None, None, None, None, None),
]


@pytest.fixture
def rt(runtime: Runtime) -> Iterator[Runtime]:
    """The service with percorso4 deployed and the population written."""
    deployment.deploy(runtime, deployment.read_sources(ROOT / "processes", ROOT / "forms"), ADMIN)
    populate(runtime)
    yield runtime


def populate(rt: Runtime) -> dict[str, str]:
    version = version_id(rt)
    ids: dict[str, str] = {}
    for name, day, dp, de, decision, ds, poverty, social, work, joint, manager in ROWS:
        opened = local(day)
        facts: dict[str, Any] = {"profiled_at": days_after(opened, dp, 11), "equipe_at": days_after(opened, de),
                                 "decision": decision, "poverty_condition": poverty, "social_inclusion_path": social,
                                 "work_path": work, "joint_interview": joint, "case_manager": manager}
        if ds is not None:
            facts["first_appointment_at"] = days_after(opened, ds, 10)
            facts["path_start_date"] = days_after(opened, ds).date()
        if name == "c5":
            facts.update(final_monitoring_date=date(2026, 3, 20), outcome="occupato")
        ids[name] = add_case(rt, version, "pistoiese", opened, **facts)
    ids["b1"] = add_case(rt, version, "pistoiese", local(date(2026, 3, 2)), profiled_at=local(date(2026, 3, 2), 11),
                         equipe_at=local(date(2026, 3, 31), 23, 30), decision="presa_in_carico")
    ids["b2"] = add_case(rt, version, "pistoiese", local(date(2026, 3, 3)), profiled_at=local(date(2026, 3, 3), 11),
                         equipe_at=local(date(2026, 4, 1), 0, 30), decision="presa_in_carico")
    for n, outcome in enumerate(["occupato", "occupato", "occupato", "occupato", "inclusione_sociale"], start=1):
        ids[f"y{n}"] = add_case(rt, version, "pistoiese", local(date(2025, 1, 10 + n)),
                                profiled_at=local(date(2025, 1, 10 + n), 11),
                                equipe_at=local(date(2025, 2, 3 + n)), decision="presa_in_carico",
                                case_manager="cm.rossi", path_start_date=date(2025, 3, 1),
                                final_monitoring_date=date(2026, 3, n), outcome=outcome)
    for n, day in enumerate((20, 21), start=1):
        opened = local(date(2026, 1, day))
        ids[f"v{n}"] = add_case(rt, version, "valdinievole", opened, profiled_at=days_after(opened, n, 11),
                                equipe_at=days_after(opened, 10), decision="presa_in_carico")
    # Placements: in the period unless said.
    add_placement(rt, ids["c1"], "pistoiese", "tirocinio", date(2026, 2, 1))
    add_placement(rt, ids["c1"], "pistoiese", "assunzione", date(2026, 3, 1))
    add_placement(rt, ids["c2"], "pistoiese", "tirocinio", date(2026, 2, 10))
    add_placement(rt, ids["c2"], "pistoiese", "inclusione_sociale", date(2026, 3, 3))
    add_placement(rt, ids["c3"], "pistoiese", "tirocinio", date(2026, 3, 31))  # last day: in
    add_placement(rt, ids["c4"], "pistoiese", "tirocinio", date(2026, 4, 1))  # next period
    add_placement(rt, ids["c5"], "pistoiese", "assunzione", date(2026, 1, 31))
    add_placement(rt, ids["c6"], "pistoiese", "tirocinio", date(2026, 2, 15))
    add_placement(rt, ids["c6"], "pistoiese", "laboratorio_protetto", date(2026, 3, 1))
    add_placement(rt, ids["c7"], "pistoiese", "laboratorio_protetto", date(2026, 2, 1))
    for day in (date(2026, 1, 20), date(2026, 2, 17), date(2026, 3, 31), date(2026, 4, 1)):
        add_operator_meeting(rt, "pistoiese", day)
    add_equipe_meeting(rt, "pistoiese", local(date(2026, 1, 13), 9, 30), [ids["c1"], ids["c2"], ids["c3"], ids["c4"]])
    add_equipe_meeting(rt, "pistoiese", local(date(2026, 1, 20), 9, 30), [ids["c5"], ids["c6"], ids["c8"]])
    add_equipe_meeting(rt, "pistoiese", local(date(2026, 2, 3), 9, 30), [ids["c7"], ids["b1"], ids["b2"]])
    add_equipe_meeting(rt, "pistoiese", local(date(2026, 4, 7), 9, 30), [ids["b2"]])  # next period
    return ids


def by_id(report: indicator_report.Report) -> dict[str, indicator_report.Value]:
    return {v.id: v for v in report.items}


def test_every_indicator_of_a_zone_matches_the_hand_count(rt: Runtime) -> None:
    found = by_id(indicator_report.compute(rt, ADMIN, "pistoiese", *Q1))
    # c1-c7 and b1 (31 March 23:30 is still the period); b2 (1 April 00:30) is not.
    assert (found["destinatari_presi_in_carico"].value, found["destinatari_presi_in_carico"].numerator) == (8, 8)
    assert found["persone_seguite_equipe"].value == 9  # c8's non attivabile too
    assert found["destinatari_progetti_personalizzati"].value == 7
    # tirocinio/assunzione started 1 Jan - 31 Mar: c1 x2, c2, c3 (31 Mar), c5, c6; c4's (1 Apr) is out.
    assert found["inserimenti_lavorativi"].value == 6
    assert found["persone_inserite_contesti_lavorativi"].value == 5
    # one inclusion placement, two sheltered workshops: fewer than 5 people, not shown
    for small in ("inserimenti_integrazione_sociale", "inserimenti_laboratori_protetti"):
        assert (found[small].value, found[small].numerator, found[small].suppressed) == (None, None, True)
    # at risk (adi/rischio) with social goals: c1, c2, c3, c4, c6, c7; with work goals c1, c3, c6 (3: hidden)
    assert found["rischio_poverta_percorso_inclusione"].value == 6
    assert found["rischio_poverta_percorso_lavoro"].suppressed
    # 8 taken in charge now against y1-y5 in the same months of 2025: 160 %, target 30 reached
    yoy = found["prese_in_carico_integrate_anno_su_anno"]
    assert (yoy.value, yoy.numerator, yoy.denominator, yoy.unit, yoy.target, yoy.reached) == (160.0, 8, 5, "%", 30,
                                                                                              True)
    meetings = found["incontri_coordinamento"]  # 20 Jan, 17 Feb, 31 Mar; not 1 April. Not about people.
    assert (meetings.value, meetings.suppressed, meetings.target, meetings.reached) == (3, False, 20, False)
    joint = found["colloqui_congiunti"]
    assert (joint.value, joint.target, joint.reached) == (5, 4, True)


def test_the_whole_service_adds_the_zones_and_a_small_zone_is_hidden(rt: Runtime) -> None:
    service = by_id(indicator_report.compute(rt, ADMIN, None, *Q1))
    assert service["destinatari_presi_in_carico"].value == 10  # 8 + v1, v2
    valdinievole = by_id(indicator_report.compute(rt, ADMIN, "valdinievole", *Q1))
    assert valdinievole["destinatari_presi_in_carico"].suppressed
    assert valdinievole["destinatari_presi_in_carico"].value is None
    assert valdinievole["inserimenti_lavorativi"].value == 0  # nobody: nothing to recognise
    # The period boundary: from 1 April, b2 and c4's placement count, the rest does not.
    april = by_id(indicator_report.compute(rt, ADMIN, "pistoiese", date(2026, 4, 1), date(2026, 4, 30)))
    assert april["destinatari_presi_in_carico"].suppressed  # b2 alone
    assert april["incontri_coordinamento"].value == 1


def test_waiting_times_median_and_p90_per_zone_and_month(rt: Runtime) -> None:
    found = indicator_report.compute(rt, ADMIN, "pistoiese", *Q1)
    january = next(r for r in found.waiting if r["month"] == "2026-01")
    # profiling: 0 1 1 2 3 4 5 10 -> median 2.5, p90 at 6.3: 5 + 0.3 * 5 = 6.5
    assert january["profiling"] == {"n": 8, "p50": 2.5, "p90": 6.5, "suppressed": False}
    # equipe: 6 7 8 11 12 14 15 21 -> 11.5; 15 + 0.3 * 6 = 16.8
    assert january["equipe"]["p50"] == 11.5 and january["equipe"]["p90"] == pytest.approx(16.8)
    # first appointment and path: 15 16 20 22 25 30 35 -> 22; p90 at 5.4: 30 + 0.4 * 5 = 32
    assert january["first_appointment"] == {"n": 7, "p50": 22.0, "p90": pytest.approx(32.0), "suppressed": False}
    assert january["path_start"]["p50"] == 22.0
    march = next(r for r in found.waiting if r["month"] == "2026-03")
    assert march["profiling"] == {"n": None, "p50": None, "p90": None, "suppressed": True}  # b1, b2
    assert [r["zone"] for r in found.waiting] == ["pistoiese", "pistoiese"]

    service = indicator_report.compute(rt, ADMIN, None, *Q1)
    everyone = next(r for r in service.waiting if r["month"] == "2026-01" and r["zone"] is None)
    # + v1 (1 day), v2 (2 days): 0 1 1 1 2 2 3 4 5 10 -> median 2; p90 at 8.1: 5 + 0.1 * 5 = 5.5
    assert everyone["profiling"]["p50"] == 2.0 and everyone["profiling"]["p90"] == pytest.approx(5.5)
    val = next(r for r in service.waiting if r["month"] == "2026-01" and r["zone"] == "valdinievole")
    assert val["profiling"]["suppressed"]


def test_flow_agenda_rule_meetings_case_managers_and_outcomes(rt: Runtime) -> None:
    flow = indicator_report.compute(rt, ADMIN, "pistoiese", *Q1).flow
    # weekly meetings, agenda closing 5 days before: within 12 days of profiling. c1-c7 (4-11 days)
    # made it; c8 (13), b1 and b2 (29) did not: 7 of 10.
    assert flow["agenda_rule"] == {"made": 7, "total": 10, "share": 70.0, "suppressed": False}
    # meetings of 13 Jan, 20 Jan, 3 Feb: 4 + 3 + 3 cases
    assert flow["cases_per_meeting"] == {"meetings": 3, "cases": 10, "mean": 3.33, "suppressed": False}
    # on 31 March: rossi c1-c4, bianchi c6, c7 (c5 closed on 20 March; y1-y5 closed)
    assert flow["case_manager_load"] == {"case_managers": 2, "cases": 6, "mean": 3.0, "max": 4, "suppressed": False}
    outcomes = flow["outcomes"]
    assert outcomes["closed"] == 6
    assert [(o["outcome"], o["count"], o["share"]) for o in outcomes["by_outcome"]] == [
        ("inclusione_sociale", None, None), ("occupato", 5, 83.3)]


def test_a_manager_reads_only_the_aggregates_of_their_zone(rt: Runtime) -> None:
    mine = by_id(indicator_report.compute(rt, MANAGER, "pistoiese", *Q1))
    assert mine["destinatari_presi_in_carico"].value == 8
    with pytest.raises(Forbidden):
        indicator_report.compute(rt, MANAGER, "valdinievole", *Q1)
    with pytest.raises(Forbidden):
        indicator_report.compute(rt, MANAGER, None, *Q1)
    with pytest.raises(Forbidden):
        indicator_report.compute(rt, Actor("cpi.pistoia", "cpi", frozenset({"pistoiese"})), "pistoiese", *Q1)
    with pytest.raises(NotFound):
        indicator_report.compute(rt, ADMIN, "altrove", *Q1)
    with pytest.raises(ValidationFailed):
        indicator_report.compute(rt, ADMIN, "pistoiese", date(2026, 3, 1), date(2026, 2, 1))


def test_days_are_counted_on_rome_calendar_days(rt: Runtime) -> None:
    # opened late on 31 January in Rome (already 1 February? no: 23:30 CET is 22:30 UTC, still 31 January)
    version = version_id(rt)
    for n in range(5):
        opened = datetime(2026, 2, 28, 23, 30, tzinfo=ROME)
        add_case(rt, version, "valdinievole", opened, profiled_at=datetime(2026, 3, 1, 0, 30, tzinfo=ROME) if n else
                 datetime(2026, 3, 2, 8, 0, tzinfo=ROME))
    found = indicator_report.compute(rt, ADMIN, "valdinievole", date(2026, 2, 1), date(2026, 2, 28))
    february = next(r for r in found.waiting if r["month"] == "2026-02")
    # four profiled the next calendar day (one hour later), one two days later: 1 1 1 1 2
    assert february["profiling"]["p50"] == 1.0 and february["profiling"]["p90"] == pytest.approx(1.6)
