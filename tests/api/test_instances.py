"""Instances over HTTP: start a case, list with the admin filters, inspect, suspend, resume, terminate, retry."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.admin.conftest import complete, deploy_xml, header, original_xml, start
from tests.web.conftest import ready, start_case, valid_cf

from .conftest import assert_problem

UNKNOWN = "6f1c3c1e-8a47-4b7e-9d55-2b0c7e0a9a11"


@pytest.fixture
def admin_process(api_runtime):
    """The admin test process (a script that can fail, then a 12-month timer) deployed too."""
    deploy_xml(api_runtime, original_xml())
    return api_runtime


def _new_case(zone="nord", code=None):
    return {"process": "caso_web", "data": {"beneficiario": {"codice_fiscale": code or valid_cf("BNCLRA85M41G713"),
                                                             "nome": "Laura", "cognome": "Bianchi"}, "zona": zone}}


def test_a_cpi_operator_starts_a_case(api, api_runtime) -> None:
    response = api("cpi.nord").post("/api/v1/instances", json=_new_case())
    assert response.status_code == 201
    body = response.get_json()
    assert response.headers["Location"] == f"/api/v1/instances/{body['id']}"
    assert body["status"] == "running"
    assert [(t["element"], t["zone"]) for t in body["tasks"]] == [("profilo", "nord")]
    assert header(api_runtime, body["id"])["started_by"] == "cpi.nord"
    assert api("admin").get(response.headers["Location"]).get_json()["id"] == body["id"]


def test_starting_with_invalid_data_is_400_field_by_field(api) -> None:
    response = api("cpi.nord").post("/api/v1/instances", json=_new_case(code="BNCLRA85M41G713A"))
    body = assert_problem(response, 400, "validation-failed")
    assert body["errors"] == {"beneficiario.codice_fiscale": [
        "Il carattere di controllo del codice fiscale non è corretto."]}
    # Without data the start form's required fields are missing (the zone first of all).
    assert "zona" in assert_problem(api("cpi.nord").post("/api/v1/instances", json={"process": "caso_web"}),
                                    400)["errors"]


def test_starting_outside_ones_zone_or_role_is_403(api) -> None:
    assert_problem(api("cpi.nord").post("/api/v1/instances", json=_new_case("sud")), 403, "forbidden")
    for who in ("sds.nord", "ats.nord", "spec.nord", "analista"):
        assert_problem(api(who).post("/api/v1/instances", json=_new_case()), 403)
    assert api("admin").get("/api/v1/instances").get_json()["total"] == 0


def test_an_undeployed_process_is_400_on_its_field(api) -> None:
    body = assert_problem(api("admin").post("/api/v1/instances", json={"process": "nessuno", "data": {}}), 400)
    assert list(body["errors"]) == ["process"]


def test_list_filters_counts_and_cursor_pages(api, admin_process, clock) -> None:
    rt = admin_process
    ids = []
    for index in range(3):
        ids.append(start(rt, "nord", f"Persona{index}", "Prova", f"PRVPRS80A{index + 1:02d}G713"))
        clock.advance(timedelta(days=1))
    failed = start(rt, "sud", "Marco", "Neri", "NRIMRC80A01G713")
    complete(rt, failed, "raccolta", {"divisore": 0})
    caller = api("admin")
    body = caller.get("/api/v1/instances?process=pratica_admin").get_json()
    assert body["total"] == 4 and body["counts"]["running"] == 3 and body["counts"]["error"] == 1
    assert body["capped"] is False and caller.get("/api/v1/instances?exact_counts=true").get_json()["total"] == 4
    assert [i["id"] for i in body["items"]] == [failed, *reversed(ids)]  # newest first
    errored = caller.get("/api/v1/instances?has_error=true").get_json()["items"]
    assert [(i["id"], i["error_element"]) for i in errored] == [(failed, "Calcolo della quota")]
    assert caller.get("/api/v1/instances?status=running&zone=nord").get_json()["total"] == 3
    assert caller.get("/api/v1/instances?beneficiary=persona1").get_json()["items"][0]["id"] == ids[1]
    assert caller.get("/api/v1/instances?process=pratica_admin&version=1").get_json()["total"] == 4
    assert caller.get("/api/v1/instances?started_from=2026-01-06&started_to=2026-01-06").get_json()["total"] == 1
    first = caller.get("/api/v1/instances?page_size=3").get_json()
    second = caller.get(f"/api/v1/instances?page_size=3&after={first['next_cursor']}").get_json()
    assert second["page"] is None and [i["id"] for i in second["items"]] == [ids[0]]
    assert second["next_cursor"] is None
    assert "version" in assert_problem(caller.get("/api/v1/instances?version=1"), 400, "validation-failed")["errors"]
    assert "cursor" in assert_problem(caller.get("/api/v1/instances?after=garbage"), 400)["errors"]
    assert "started_to" in assert_problem(caller.get("/api/v1/instances?started_to=31/12/2026"), 400)["errors"]


def test_detail_shows_timers_with_due_at_tasks_history_and_audits_the_read(api, admin_process, clock) -> None:
    rt = admin_process
    instance_id = start(rt)
    complete(rt, instance_id, "raccolta", {"divisore": 4})
    body = api("admin").get(f"/api/v1/instances/{instance_id}").get_json()
    assert body["status"] == "waiting" and body["version"] == 1 and body["process"] == "pratica_admin"
    (timer,) = [w for w in body["waiting"] if w["kind"] == "timer"]
    assert timer["element"] == "attesa_un_anno"
    assert datetime.fromisoformat(timer["due_at"]) == datetime.fromisoformat("2027-01-05T08:00:00+01:00")
    assert body["ready_tasks"] == []
    assert [h["task"] for h in body["history"]] == ["Raccolta dati"]
    assert body["data"]["quota"] == 25 and "suspend" in body["operations"]
    assert body["element_states"]["raccolta"] == "COMPLETED"
    with rt.uow(write=False) as uow:
        actions = [e["action"] for e in uow.audit.for_instance(instance_id)]
    assert actions[-1] == "instance.inspected"
    revealed = api("admin").get(f"/api/v1/instances/{instance_id}?reveal=true").get_json()
    assert revealed["masked_keys"] == []


def test_detail_and_list_are_for_administrators(api, api_runtime) -> None:
    case_id = start_case(api_runtime)
    for who in ("cpi.nord", "sds.nord", "ats.nord", "spec.nord", "analista"):
        assert_problem(api(who).get("/api/v1/instances"), 403, "forbidden")
        assert_problem(api(who).get(f"/api/v1/instances/{case_id}"), 403)
    assert_problem(api("admin").get(f"/api/v1/instances/{UNKNOWN}"), 404, "not-found")
    assert_problem(api("admin").get("/api/v1/instances/123"), 404)


def test_suspend_resume_terminate_with_their_refusals(api, api_runtime) -> None:
    case_id = start_case(api_runtime)
    task_id = ready(api_runtime, case_id)[0]["id"]
    admin = api("admin")
    assert admin.post(f"/api/v1/instances/{case_id}/suspend", json={"reason": "verifica"}).status_code == 204
    assert header(api_runtime, case_id)["status"] == "suspended"
    assert_problem(admin.post(f"/api/v1/instances/{case_id}/suspend"), 409, "invalid-state")
    profile = {"bisogni_particolari": False, "case_manager": "ats.nord", "data_colloquio": "2026-01-07"}
    assert_problem(api("cpi.nord").post(f"/api/v1/tasks/{task_id}/complete", json={"data": profile}), 409,
                   "invalid-state")
    assert admin.post(f"/api/v1/instances/{case_id}/resume").status_code == 204
    assert_problem(admin.post(f"/api/v1/instances/{case_id}/resume"), 409)
    assert "reason" in assert_problem(admin.post(f"/api/v1/instances/{case_id}/terminate",
                                                 json={"reason": "x" * 501}), 400)["errors"]
    assert_problem(api("cpi.nord").post(f"/api/v1/instances/{case_id}/terminate"), 403)
    assert admin.post(f"/api/v1/instances/{case_id}/terminate", json={"reason": "duplicato"}).status_code == 204
    assert header(api_runtime, case_id)["status"] == "terminated" and ready(api_runtime, case_id) == []
    assert_problem(admin.post(f"/api/v1/instances/{case_id}/terminate"), 409)
    assert_problem(admin.post(f"/api/v1/instances/{UNKNOWN}/suspend"), 404)


def test_retry_an_instance_in_error(api, admin_process) -> None:
    rt = admin_process
    instance_id = start(rt)
    complete(rt, instance_id, "raccolta", {"divisore": 0})
    admin = api("admin")
    assert_problem(api("cpi.nord").post(f"/api/v1/instances/{instance_id}/retry"), 403)
    assert admin.post(f"/api/v1/instances/{instance_id}/retry").status_code == 204
    assert header(rt, instance_id)["status"] == "error"  # the same division by zero, tried again
    healthy = start(rt, "nord", "Gino", "Rossi", "RSSGNI70A01G713")
    assert_problem(admin.post(f"/api/v1/instances/{healthy}/retry"), 409, "invalid-state")


def test_a_second_open_case_for_the_same_person_is_409_naming_the_open_one(api, api_runtime) -> None:
    first = api("cpi.nord").post("/api/v1/instances", json=_new_case()).get_json()["id"]
    for who in ("cpi.nord", "cpi.nord.bis"):  # a client retrying, a colleague
        body = assert_problem(api(who).post("/api/v1/instances", json=_new_case()), 409, "open-case-exists")
        assert body["open_case_id"] == first
        assert body["open_case_url"] == f"/api/v1/instances/{first}"
        assert body["open_case_page"] == f"/casi/{first}"
    assert api("admin").get("/api/v1/instances").get_json()["total"] == 1


def test_the_open_case_of_another_zone_is_refused_without_being_named(api, api_runtime) -> None:
    first = api("cpi.nord").post("/api/v1/instances", json=_new_case()).get_json()["id"]
    response = api("cpi.sud").post("/api/v1/instances", json=_new_case("sud"))
    body = assert_problem(response, 409, "open-case-exists")
    assert not {"open_case_id", "open_case_url", "open_case_page"} & set(body)
    assert first not in response.get_data(as_text=True)
    assert api("admin").get("/api/v1/instances").get_json()["total"] == 1


def test_only_an_administrator_with_a_reason_opens_a_second_case(api, api_runtime) -> None:
    first = api("cpi.nord").post("/api/v1/instances", json=_new_case()).get_json()["id"]
    override = {**_new_case(), "allow_duplicate": True, "duplicate_reason": "Secondo percorso concordato"}
    assert_problem(api("cpi.nord").post("/api/v1/instances", json=override), 403, "forbidden")
    without = {**_new_case(), "allow_duplicate": True}
    assert "duplicate_reason" in assert_problem(api("admin").post("/api/v1/instances", json=without), 400)["errors"]
    response = api("admin").post("/api/v1/instances", json=override)
    assert response.status_code == 201
    with api_runtime.uow(write=False) as uow:
        (started,) = [e for e in uow.audit.for_instance(response.get_json()["id"]) if e["action"] == "instance.started"]
    assert started["data"]["duplicate"] == {"reason": "Secondo percorso concordato", "open_case": first}
    assert api("admin").get("/api/v1/instances").get_json()["total"] == 2


def test_the_open_case_problem_is_in_the_openapi_document(api) -> None:
    document = api("admin").get("/api/openapi.json").get_json()
    start = document["paths"]["/api/v1/instances"]["post"]
    assert "409" in start["responses"]
    assert {"allow_duplicate", "duplicate_reason"} <= set(document["components"]["schemas"]["StartBody"]["properties"])
    assert "open_case_id" in document["components"]["schemas"]["Problem"]["properties"]
