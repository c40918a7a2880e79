"""The inbox over HTTP: items, filters, pages; one task with its form; claim, release, complete and refusals."""

from __future__ import annotations

from datetime import datetime, timedelta

from gol_workflow.services.workflow import tasks as task_service
from tests.web.conftest import actor_of, ready, start_case

from .conftest import assert_problem

PROFILE = {"bisogni_particolari": True, "servizi_specialistici": ["salute_mentale"], "case_manager": "ats.nord",
           "data_colloquio": "2026-01-07", "ore_settimanali": 20, "familiari": [{"nome": "Rita"}]}


def _task(rt, zone="nord", nome="Laura", cognome="Bianchi", prefix="BNCLRA85M41G713"):
    case_id = start_case(rt, zone, nome, cognome, prefix)
    return case_id, ready(rt, case_id)[0]["id"]


def test_inbox_items_carry_the_case_and_dates_with_offset(api, api_runtime) -> None:
    case_id, task_id = _task(api_runtime)
    start_case(api_runtime, "sud", "Marco", "Neri", "NRIMRC80A01G713")
    body = api("cpi.nord").get("/api/v1/tasks").get_json()
    assert body["total"] == 1 and body["counts"] == {"all": 1, "mine": 0, "unassigned": 1, "overdue": 0}
    item = body["items"][0]
    assert item["id"] == task_id and item["instance_id"] == case_id and item["process"] == "caso_web"
    assert item["case"] == {"id": case_id, "beneficiary_name": "Laura Bianchi", "codice_fiscale": "BNCLRA85M41G713K"}
    assert (item["element"], item["name"], item["lane"], item["zone"], item["assignee"]) == (
        "profilo", "Profilazione", "CPI", "nord", None)
    assert item["created_at"] == "2026-01-05T08:00:00+01:00"
    assert datetime.fromisoformat(item["due_at"]) == datetime.fromisoformat("2026-01-08T08:00:00+01:00")


def test_filters_sorting_and_pages(api, api_runtime, clock) -> None:
    for index in range(5):
        start_case(api_runtime, "nord", f"Persona{index}", "Prova", f"PRVPRS80A{index + 1:02d}G713")
        clock.advance(timedelta(days=1))
    caller = api("cpi.nord")
    first = caller.get("/api/v1/tasks?page_size=2&sort=waiting&order=desc").get_json()
    assert first["total"] == 5 and first["page"] == 1 and first["page_size"] == 2
    assert [i["case"]["beneficiary_name"] for i in first["items"]] == ["Persona4 Prova", "Persona3 Prova"]
    last = caller.get("/api/v1/tasks?page_size=2&page=3").get_json()
    assert [i["case"]["beneficiary_name"] for i in last["items"]] == ["Persona4 Prova"]
    assert caller.get("/api/v1/tasks?q=persona2").get_json()["total"] == 1
    overdue = caller.get("/api/v1/tasks?overdue=true").get_json()  # due 3 days after creation; now is day 5
    assert overdue["total"] == 2 and overdue["counts"]["overdue"] == 2
    assert caller.get("/api/v1/tasks?queue=overdue").get_json()["total"] == 2
    assert caller.get("/api/v1/tasks?zone=nord&element=profilo").get_json()["total"] == 5
    assert caller.get("/api/v1/tasks?element=valutazione").get_json()["total"] == 0


def test_invalid_inbox_parameters_are_400_with_field_errors(api) -> None:
    caller = api("cpi.nord")
    body = assert_problem(caller.get("/api/v1/tasks?page=0&page_size=500&queue=tutte&order=up"), 400,
                          "invalid-request")
    assert set(body["errors"]) == {"page", "page_size", "queue", "order"}
    assert "zone" in assert_problem(caller.get("/api/v1/tasks?zone=atlantide"), 400)["errors"]


def test_a_zone_not_mine_is_403(api) -> None:
    assert_problem(api("cpi.nord").get("/api/v1/tasks?zone=sud"), 403, "forbidden")
    assert api("admin").get("/api/v1/tasks?zone=sud").status_code == 200


def test_claim_and_release_move_the_task_between_queues(api, api_runtime) -> None:
    _, task_id = _task(api_runtime)
    me, colleague = api("cpi.nord"), api("cpi.nord.bis")
    response = me.post(f"/api/v1/tasks/{task_id}/claim")
    assert response.status_code == 204 and response.data == b""
    assert me.get("/api/v1/tasks?queue=mine").get_json()["items"][0]["assignee"] == "cpi.nord"
    assert me.post(f"/api/v1/tasks/{task_id}/claim").status_code == 204  # claiming again is harmless
    assert assert_problem(colleague.post(f"/api/v1/tasks/{task_id}/claim"), 409, "conflict")["code"] == "task-held"
    assert_problem(colleague.post(f"/api/v1/tasks/{task_id}/unclaim"), 403, "forbidden")
    held = assert_problem(colleague.post(f"/api/v1/tasks/{task_id}/complete", json={"data": PROFILE}), 409, "conflict")
    assert held["code"] == "task-held" and "cpi.nord" in held["detail"]
    assert me.post(f"/api/v1/tasks/{task_id}/unclaim").status_code == 204
    assert me.get("/api/v1/tasks?queue=unassigned").get_json()["total"] == 1


def test_task_detail_has_its_form_with_the_callers_choices(api, api_runtime) -> None:
    case_id, task_id = _task(api_runtime)
    body = api("cpi.nord").get(f"/api/v1/tasks/{task_id}").get_json()
    assert body["id"] == task_id and body["case"]["id"] == case_id
    form = body["form"]
    assert form["type"] == "object" and "data_colloquio" in form["required"]
    managers = form["properties"]["case_manager"]
    assert managers["x-options"] == "case_manager"
    assert managers["oneOf"] == [{"const": "ats.altro", "title": "Ats Altro"}, {"const": "ats.nord", "title": "Ats Nord"}]
    services = form["properties"]["servizi_specialistici"]["items"]["oneOf"]
    assert {s["const"] for s in services} == {"salute_mentale", "dipendenze"}  # zone nord's services
    assert body["instructions"] == "Verificare la situazione di Laura Bianchi."
    assert body["values"] == {} and body["history"][0]["action"] == "instance.started"
    with api_runtime.uow(write=False) as uow:
        reads = [e for e in uow.audit.for_instance(case_id) if e["action"] == "case.viewed"]
    assert reads[-1]["actor"] == "cpi.nord"  # reading a task over the API is audited like on the web


def test_complete_runs_on_and_names_the_next_tasks(api, api_runtime) -> None:
    case_id, task_id = _task(api_runtime)
    response = api("cpi.nord").post(f"/api/v1/tasks/{task_id}/complete", json={"data": PROFILE})
    assert response.status_code == 200
    body = response.get_json()
    assert body["instance_id"] == case_id and body["status"] == "running"
    assert [(t["element"], t["lane"]) for t in body["next_tasks"]] == [("valutazione", "Equipe multidisciplinare")]
    with api_runtime.uow(write=False) as uow:
        header = uow.instances.header(case_id)
        event = [e for e in uow.audit.for_instance(case_id) if e["action"] == "task.completed"][0]
    assert header["case_manager"] == "ats.nord" and event["actor"] == "cpi.nord"
    assert event["data"]["data"]["familiari"] == [{"nome": "Rita"}]


def test_invalid_form_data_is_400_field_by_field_and_nothing_moves(api, api_runtime) -> None:
    _, task_id = _task(api_runtime)
    data = {"bisogni_particolari": "sì", "case_manager": "cpi.sud", "ore_settimanali": 99, "intruso": 1}
    body = assert_problem(api("cpi.nord").post(f"/api/v1/tasks/{task_id}/complete", json={"data": data}), 400,
                          "validation-failed")
    assert body["errors"] == {
        "intruso": ["Campo non previsto dal modulo."],
        "bisogni_particolari": ["Scegliere sì o no."],
        "ore_settimanali": ["Il valore deve essere al massimo 60."],
        "data_colloquio": ["Campo obbligatorio."],
        "case_manager": ["Scegliere uno dei valori proposti."],
    }
    assert ready(api_runtime, _case_of(api_runtime, task_id))[0]["id"] == task_id


def _case_of(rt, task_id):
    with rt.uow(write=False) as uow:
        return uow.inbox.get(task_id)["case_id"]


def test_a_choice_offered_to_someone_else_is_refused(api, api_runtime) -> None:
    _, task_id = _task(api_runtime)
    data = {**PROFILE, "servizi_specialistici": ["disabilita"]}  # a service of zone sud only
    body = assert_problem(api("cpi.nord").post(f"/api/v1/tasks/{task_id}/complete", json={"data": data}), 400)
    assert body["errors"] == {"servizi_specialistici": ["Scegliere uno dei valori proposti."]}


def test_malformed_or_mistyped_bodies_are_400(api, api_runtime) -> None:
    _, task_id = _task(api_runtime)
    caller = api("cpi.nord")
    url = f"/api/v1/tasks/{task_id}/complete"
    bad_json = caller.post(url, data="{non è json", headers={"Content-Type": "application/json"})
    assert assert_problem(bad_json, 400, "invalid-request")["errors"] == {"_request": ["Invalid JSON body."]}
    assert assert_problem(caller.post(url, json={"data": [1, 2]}), 400)["errors"] == {"data": ["Not a valid mapping type."]}
    assert assert_problem(caller.post(url, json={}), 400)["errors"] == {"data": ["Missing data for required field."]}
    assert "extra" in assert_problem(caller.post(url, json={"data": {}, "extra": 1}), 400)["errors"]
    assert "data" in assert_problem(caller.post(url, json={"data": {"note": "a\u0000b"}}), 400)["errors"]
    not_json = caller.post(url, data="data=1", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_problem(not_json, 400)


def test_completed_by_someone_else_first_is_409(api, api_runtime) -> None:
    _, task_id = _task(api_runtime)
    task_service.complete_task(api_runtime, task_id, PROFILE, actor_of("cpi.nord.bis"))
    assert_problem(api("cpi.nord").post(f"/api/v1/tasks/{task_id}/complete", json={"data": PROFILE}), 409,
                   "already-completed")
    assert assert_problem(api("cpi.nord").get(f"/api/v1/tasks/{task_id}"), 409, "already-completed")["code"] == \
        "already-completed"
    assert_problem(api("cpi.nord").post(f"/api/v1/tasks/{task_id}/claim"), 409, "already-completed")


def test_unknown_and_malformed_task_ids_are_404(api) -> None:
    caller = api("admin")
    for url in ("/api/v1/tasks/6f1c3c1e-8a47-4b7e-9d55-2b0c7e0a9a11", "/api/v1/tasks/non-un-uuid"):
        assert_problem(caller.get(url), 404)
    assert_problem(caller.post("/api/v1/tasks/6f1c3c1e-8a47-4b7e-9d55-2b0c7e0a9a11/complete", json={"data": {}}),
                   404, "not-found")
    assert_problem(caller.post("/api/v1/tasks/6f1c3c1e-8a47-4b7e-9d55-2b0c7e0a9a11/claim"), 404)


def test_a_task_of_another_zone_answers_as_a_missing_one(api, api_runtime) -> None:
    _, task_id = _task(api_runtime)
    other = api("cpi.sud")
    missing = "6f1c3c1e-8a47-4b7e-9d55-2b0c7e0a9a11"
    for action in ("", "/claim", "/unclaim", "/complete"):
        responses = [other.post(f"/api/v1/tasks/{t}{action}", json={"data": PROFILE}) if action
                     else other.get(f"/api/v1/tasks/{t}") for t in (task_id, missing)]
        mine, absent = (assert_problem(r, 404, "not-found") for r in responses)
        assert (mine["title"], mine["detail"]) == (absent["title"], absent["detail"])
    assert ready(api_runtime, _case_of(api_runtime, task_id))[0]["assignee"] is None


def test_a_task_of_another_role_cannot_be_completed(api, api_runtime) -> None:
    _, task_id = _task(api_runtime)  # a CPI lane task
    for who in ("sds.nord", "ats.nord", "spec.nord", "analista"):
        assert_problem(api(who).post(f"/api/v1/tasks/{task_id}/complete", json={"data": PROFILE}), 404)
