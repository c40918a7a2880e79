"""`GET /api/v1/cases` and `/api/v1/cases/{id}`: filters, sorting, pages, the record's facts, refusals, audit."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import func, select

from gol_workflow.persistence.tables import audit_events
from gol_workflow.services.workflow import instances as instance_service
from gol_workflow.services.workflow import tasks as task_service
from tests.conftest import ADMIN
from tests.web.authorization_world import build_world
from tests.web.conftest import actor_of, ready, start_case, valid_cf

from .conftest import assert_problem


@pytest.fixture
def world(api_runtime) -> dict[str, str]:
    """N, N2, S of the shared world, plus Anna (nord, no task taken) and Bruno (nord, terminated)."""
    cases = build_world(api_runtime)
    cases["A"] = start_case(api_runtime, "nord", "Anna", "Verdi", "VRDNNA90A41G713")
    cases["B"] = start_case(api_runtime, "nord", "Bruno", "Gialli", "GLLBRN70A01G713")
    instance_service.terminate(api_runtime, cases["B"], ADMIN, "trasferito")
    return cases


def names(response: Any) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return [item["beneficiary_name"] for item in response.get_json()["items"]]


def listed(api_runtime) -> int:
    with api_runtime.uow(write=False) as uow:
        stmt = select(func.count()).select_from(audit_events).where(audit_events.c.action == "cases.listed")
        return int(uow.conn.execute(stmt).scalar() or 0)


def test_a_zone_operator_sees_every_case_of_the_zone_newest_change_first(world, api) -> None:
    body = api("cpi.nord").get("/api/v1/cases").get_json()
    assert body["total"] == 4 and body["total_exact"] is True and (body["page"], body["page_size"]) == (1, 25)
    assert sorted(i["beneficiary_name"] for i in body["items"]) == [
        "Anna Verdi", "Bruno Gialli", "Gino Rossi", "Laura Bianchi"]
    updated = [i["updated_at"] for i in body["items"]]
    assert updated == sorted(updated, reverse=True)
    laura = next(i for i in body["items"] if i["id"] == world["N"])
    assert laura["case_manager"] == "ats.nord" and laura["case_manager_name"] == "Ats Nord"
    assert laura["zone"] == "nord" and laura["status"] == "running" and laura["next_due_at"] is None


def test_search_by_part_of_the_name_or_the_whole_codice_fiscale(world, api) -> None:
    caller = api("cpi.nord")
    assert names(caller.get("/api/v1/cases?q=ross")) == ["Gino Rossi"]
    assert names(caller.get(f"/api/v1/cases?q={valid_cf('VRDNNA90A41G713').lower()}")) == ["Anna Verdi"]
    assert names(caller.get("/api/v1/cases?q=VRDNNA90A41G71")) == []  # part of a codice fiscale is not a name
    assert names(caller.get("/api/v1/cases?q=Marco")) == []  # another zone's case stays unseen


def test_status_filters_open_closed_and_stored_statuses(world, api) -> None:
    caller = api("cpi.nord")
    assert names(caller.get("/api/v1/cases?status=chiuso")) == ["Bruno Gialli"]
    assert names(caller.get("/api/v1/cases?status=terminated")) == ["Bruno Gialli"]
    assert "Bruno Gialli" not in names(caller.get("/api/v1/cases?status=aperto"))
    assert len(names(caller.get("/api/v1/cases?status=aperto"))) == 3
    assert_problem(caller.get("/api/v1/cases?status=dormiente"), 400)


def test_step_overdue_and_mine_filters(world, api, api_runtime, clock) -> None:
    caller = api("cpi.nord")
    assert names(caller.get("/api/v1/cases?step=Profilazione")) == ["Anna Verdi"]
    assert names(caller.get("/api/v1/cases?overdue=true")) == []
    clock.set(clock.now() + timedelta(days=4))  # the profiling is due in 3 days
    assert names(caller.get("/api/v1/cases?overdue=true")) == ["Anna Verdi"]
    assert caller.get(f"/api/v1/cases/{world['A']}").get_json()["next_due_at"] is not None

    assert names(caller.get("/api/v1/cases?mine=true")) == []
    task_service.claim(api_runtime, ready(api_runtime, world["A"])[0]["id"], actor_of("cpi.nord"))
    assert names(caller.get("/api/v1/cases?mine=true")) == ["Anna Verdi"]  # a task I took
    assert sorted(names(api("ats.nord").get("/api/v1/cases?mine=true"))) == ["Gino Rossi", "Laura Bianchi"]
    assert names(api("spec.nord").get("/api/v1/cases?mine=true")) == ["Laura Bianchi"]  # my service is invited


def test_zone_filter_and_refusals(world, api) -> None:
    assert sorted(names(api("admin").get("/api/v1/cases?zone=sud"))) == ["Marco Neri"]
    assert len(names(api("admin").get("/api/v1/cases?zone=nord"))) == 4
    assert_problem(api("cpi.nord").get("/api/v1/cases?zone=sud"), 403)
    assert_problem(api("cpi.nord").get("/api/v1/cases?zone=atlantide"), 400)
    assert_problem(api("cpi.nord").get("/api/v1/cases?page_size=101"), 400)
    assert api(None).get("/api/v1/cases").status_code == 401


def test_pages_sorted_by_name(world, api) -> None:
    caller = api("admin")
    first = caller.get("/api/v1/cases?sort=name&order=asc&page_size=2").get_json()
    second = caller.get("/api/v1/cases?sort=name&order=asc&page_size=2&page=2").get_json()
    third = caller.get("/api/v1/cases?sort=name&order=asc&page_size=2&page=3").get_json()
    assert first["total"] == second["total"] == 5
    assert [i["beneficiary_name"] for i in first["items"] + second["items"] + third["items"]] == [
        "Anna Verdi", "Bruno Gialli", "Gino Rossi", "Laura Bianchi", "Marco Neri"]
    descending = caller.get("/api/v1/cases?sort=name&order=desc&page_size=1").get_json()
    assert [i["beneficiary_name"] for i in descending["items"]] == ["Marco Neri"]


def test_a_zone_operator_pages_their_cases_by_name_and_finds_a_name_part_in_any_case(world, api) -> None:
    caller = api("cpi.nord")
    pages = [caller.get(f"/api/v1/cases?sort=name&order=asc&page_size=3&page={n}").get_json() for n in (1, 2)]
    assert [i["beneficiary_name"] for p in pages for i in p["items"]] == [
        "Anna Verdi", "Bruno Gialli", "Gino Rossi", "Laura Bianchi"]
    assert names(caller.get("/api/v1/cases?sort=name&order=desc&page_size=1")) == ["Laura Bianchi"]
    assert names(caller.get("/api/v1/cases?q=ROSS")) == ["Gino Rossi"]
    assert names(api("admin").get("/api/v1/cases?q=bIaN")) == ["Laura Bianchi"]
    assert names(api("admin").get("/api/v1/cases?q=50%25")) == []  # a wildcard typed is a plain character


def test_one_case_record_with_its_facts_and_the_read_audited(world, api, api_runtime) -> None:
    response = api("ats.nord").get(f"/api/v1/cases/{world['N']}")
    assert response.status_code == 200
    record = response.get_json()
    assert record["id"] == world["N"] and record["beneficiary_name"] == "Laura Bianchi"
    assert record["codice_fiscale"] and record["specialist_services"] == ["salute_mentale"]
    assert record["particular_needs"] is True and record["profiled_at"] is not None
    assert record["monitorings"] == 0 and record["opened_at"].endswith("+01:00")
    with api_runtime.uow(write=False) as uow:
        reads = [r for r in uow.audit.for_instance(world["N"]) if r["action"] == "case.viewed"]
    assert [r["actor"] for r in reads] == ["ats.nord"]


def test_a_case_one_may_not_see_or_that_does_not_exist_is_404(world, api) -> None:
    assert_problem(api("ats.altro").get(f"/api/v1/cases/{world['N']}"), 404)
    assert_problem(api("spec.nord").get(f"/api/v1/cases/{world['N2']}"), 404)  # its service is not invited
    assert_problem(api("cpi.nord").get(f"/api/v1/cases/{uuid4()}"), 404)


def test_each_list_request_is_audited_once(world, api, api_runtime) -> None:
    before = listed(api_runtime)
    api("cpi.nord").get("/api/v1/cases?q=rossi")
    api("ats.altro").get("/api/v1/cases")
    assert listed(api_runtime) == before + 2
    with api_runtime.uow(write=False) as uow:
        last = uow.conn.execute(select(audit_events).where(audit_events.c.action == "cases.listed")
                                .order_by(audit_events.c.id.desc()).limit(2)).mappings().all()
    assert [r["actor"] for r in last] == ["ats.altro", "cpi.nord"]
    assert last[1]["data"]["filtri"]["text"] == "(testo non registrato)" and last[1]["data"]["casi"] == 1


def test_the_openapi_document_describes_both_operations(api) -> None:
    document = api(None).get("/api/openapi.json").get_json()
    listing = document["paths"]["/api/v1/cases"]["get"]
    assert {p["name"] for p in listing["parameters"]} >= {"q", "zone", "status", "step", "overdue", "mine", "sort",
                                                          "order", "page", "page_size"}
    assert "/api/v1/cases/{case_id}" in document["paths"]


def test_the_openapi_document_describes_the_story_and_the_pdf(api) -> None:
    document = api(None).get("/api/openapi.json").get_json()
    record = document["paths"]["/api/v1/cases/{case_id}"]["get"]["responses"]["200"]["content"]["application/json"]
    schema = document["components"]["schemas"][record["schema"]["$ref"].rsplit("/", 1)[1]]
    assert {"summary", "story", "reads", "attachments", "actions"} <= set(schema["properties"])
    pdf = document["paths"]["/api/v1/cases/{case_id}/pdf"]["get"]["responses"]
    assert "application/pdf" in pdf["200"]["content"] and "404" in pdf


def test_the_case_file_tells_its_steps_with_labels_and_counts_reads_per_person(world, api, api_runtime) -> None:
    for _ in range(2):
        body = api("sds.nord").get(f"/api/v1/cases/{world['N']}").get_json()
    steps = {e["detail"]: e for e in body["story"] if e["step"]}
    profile = {row["label"]: row["text"] for row in steps["Profilazione"]["outcome"]}
    assert profile["Servizi specialistici"] == "Salute mentale adulti" and profile["Case manager ATS"] == "Ats Nord"
    assert steps["Profilazione"]["author"] == "Cpi Nord"
    (reads,) = [r for r in body["reads"] if r["author"] == "Sds Nord"]
    assert reads["label"] == "Fascicolo consultato" and reads["times"] == 2
    assert body["actions"] == ["case.attach", "case.record_placement"]  # this process waits for no monitoring request
    assert api("spec.nord").get(f"/api/v1/cases/{world['N']}").get_json()["actions"] == []
