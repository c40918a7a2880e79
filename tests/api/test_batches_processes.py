"""Processes and versions; migrating instances one by one or as a batch; repairs over a filtered set."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gol_workflow.services.administration import batch
from tests.admin.conftest import complete, deploy_xml, header, original_xml, start
from tests.admin.test_migration import with_added_task, without_raccolta
from tests.web.conftest import start_case

from .conftest import assert_problem

UNKNOWN = "6f1c3c1e-8a47-4b7e-9d55-2b0c7e0a9a11"


@pytest.fixture
def admin_process(api_runtime):
    """Version 1 of the admin test process (a 12-month timer after "Raccolta dati")."""
    deploy_xml(api_runtime, original_xml())
    return api_runtime


def _waiting(rt, first15="BNCLRA85M41G713"):
    instance_id = start(rt, "nord", first15=first15)
    complete(rt, instance_id, "raccolta", {"divisore": 4})
    return instance_id


def test_processes_with_versions_and_instance_counts(api, admin_process) -> None:
    _waiting(admin_process)
    deploy_xml(admin_process, with_added_task(original_xml()))
    for who in ("admin", "analista"):
        body = api(who).get("/api/v1/processes").get_json()
        entry = {p["id"]: p for p in body["items"]}["pratica_admin"]
        assert [v["version"] for v in entry["versions"]] == [2, 1]
        old = entry["versions"][1]
        assert old["instances"] == {"waiting": 1} and old["total"] == 1 and old["active"] == 1
        assert len(old["content_hash"]) == 64 and old["deployed_by"] == "admin"
    assert_problem(api("cpi.nord").get("/api/v1/processes"), 403, "forbidden")


def test_startable_processes_come_with_their_start_form(api) -> None:
    items = api("cpi.nord").get("/api/v1/processes/startable").get_json()["items"]
    assert [i["process"] for i in items] == ["caso_web"]
    assert items[0]["form"]["properties"]["zona"]["oneOf"] == [{"const": "nord", "title": "Zona Nord"}]
    assert api("sds.nord").get("/api/v1/processes/startable").get_json() == {"items": [], "total": 0}


def test_migrating_listed_instances_dry_run_then_for_real(api, admin_process, clock) -> None:
    rt = admin_process
    instance_id = _waiting(rt)
    due = header(rt, instance_id)["next_due_at"]
    clock.advance(timedelta(days=30))
    v2 = deploy_xml(rt, with_added_task(original_xml()))
    admin = api("admin")
    check = admin.post("/api/v1/instances/migrate",
                       json={"target_version_id": v2, "instance_ids": [instance_id, UNKNOWN], "dry_run": True})
    body = check.get_json()
    assert check.status_code == 200 and body["dry_run"] is True and (body["ok"], body["failed"]) == (1, 1)
    first, missing = body["results"]
    assert first["ok"] and first["issues"] == []
    assert ("timer_kept", "attesa_un_anno") in {(n["kind"], n["element_id"]) for n in first["notes"]}
    assert (missing["instance_id"], missing["code"]) == (UNKNOWN, "not_found")
    assert header(rt, instance_id)["process_version_id"] != v2  # a dry run changes nothing

    moved = admin.post("/api/v1/instances/migrate",
                       json={"target_version_id": v2, "instance_ids": [instance_id], "reason": "nuovo controllo"})
    assert moved.get_json()["results"][0]["code"] == "ok"
    after = header(rt, instance_id)
    assert after["process_version_id"] == v2 and after["next_due_at"] == due  # the 12 months did not restart


def test_a_migration_that_would_lose_done_work_is_refused_with_reasons(api, admin_process) -> None:
    rt = admin_process
    instance_id = _waiting(rt)
    v2 = deploy_xml(rt, without_raccolta(original_xml()))
    body = api("admin").post("/api/v1/instances/migrate", json={
        "target_version_id": v2, "instance_ids": [instance_id], "reason": "semplificazione"}).get_json()
    result = body["results"][0]
    assert (result["ok"], result["code"]) == (False, "refused")
    assert ("removed_ran", "raccolta") in {(i["kind"], i["element_id"]) for i in result["issues"]}
    assert "already ran" in result["issues"][0]["text"]


@pytest.mark.parametrize(("body", "field"), [
    ({"target_version_id": 2, "reason": "x"}, "instance_ids"),
    ({"target_version_id": 2, "reason": "x", "instance_ids": [UNKNOWN], "filters": {}}, "instance_ids"),
    ({"target_version_id": 2, "instance_ids": [UNKNOWN]}, "reason"),
    ({"target_version_id": 2, "filters": {"process": "pratica_admin"}, "dry_run": True}, "dry_run"),
    ({"target_version_id": 2, "reason": "x", "instance_ids": ["non-un-uuid"]}, "instance_ids.0"),
    ({"target_version_id": 0, "reason": "x", "instance_ids": [UNKNOWN]}, "target_version_id"),
])
def test_invalid_migrations_are_400(api, body, field) -> None:
    assert field in assert_problem(api("admin").post("/api/v1/instances/migrate", json=body), 400)["errors"]


def test_migrating_a_filtered_set_queues_a_batch_to_follow(api, admin_process) -> None:
    rt = admin_process
    ids = [_waiting(rt, f"PRSPRS80A{n + 1:02d}G713") for n in range(3)]
    v2 = deploy_xml(rt, with_added_task(original_xml()))
    admin = api("admin")
    response = admin.post("/api/v1/instances/migrate", json={
        "target_version_id": v2, "filters": {"process": "pratica_admin", "version": 1}, "reason": "nuovo controllo"})
    assert response.status_code == 202
    queued = response.get_json()
    assert response.headers["Location"] == f"/api/v1/batches/{queued['id']}"
    assert (queued["operation"], queued["status"], queued["total"]) == ("migrate", "queued", 3)
    batch.run_batches(rt, budget=30)
    done = admin.get(response.headers["Location"]).get_json()
    assert done["status"] == "finished" and done["percent"] == 100 and done["counts"]["ok"] == 3
    assert {i["instance_id"] for i in done["items"]} == set(ids)
    assert all(header(rt, i)["process_version_id"] == v2 for i in ids)


def test_a_batch_over_a_filtered_set_with_results_per_instance(api, api_runtime) -> None:
    ids = [start_case(api_runtime, "nord", f"Persona{n}", "Prova", f"PRVPRS80A{n + 1:02d}G713") for n in range(3)]
    start_case(api_runtime, "sud", "Marco", "Neri", "NRIMRC80A01G713")
    admin = api("admin")
    admin.post(f"/api/v1/instances/{ids[0]}/suspend", json={"reason": "prima"})
    response = admin.post("/api/v1/batches", json={"operation": "suspend", "filters": {"zone": "nord"},
                                                    "reason": "manutenzione"})
    assert response.status_code == 202 and response.get_json()["total"] == 3
    batch.run_batches(api_runtime, budget=30)
    done = admin.get(f"{response.headers['Location']}?item_status=failed").get_json()
    assert done["counts"] == {"pending": 0, "ok": 2, "failed": 1, "skipped": 0}
    assert [(i["instance_id"], i["code"]) for i in done["items"]] == [(ids[0], "invalid_state")]
    assert [b["id"] for b in admin.get("/api/v1/batches").get_json()["items"]] == [done["id"]]
    assert_problem(admin.post(f"{response.headers['Location']}/cancel"), 409, "invalid-state")


def test_a_queued_batch_can_be_cancelled(api, api_runtime) -> None:
    start_case(api_runtime, "nord")
    admin = api("admin")
    location = admin.post("/api/v1/batches", json={"operation": "terminate", "filters": {"zone": "nord"},
                                                    "reason": "doppione"}).headers["Location"]
    cancelled = admin.post(f"{location}/cancel").get_json()
    assert cancelled["status"] == "cancelled" and cancelled["counts"]["skipped"] == 1
    assert batch.run_batches(api_runtime) == 0


def test_batch_refusals(api, api_runtime) -> None:
    start_case(api_runtime, "nord")
    body = {"operation": "suspend", "filters": {"zone": "nord"}, "reason": "x"}
    for who in ("cpi.nord", "sds.nord", "analista"):
        assert_problem(api(who).post("/api/v1/batches", json=body), 403)
        assert_problem(api(who).get("/api/v1/batches"), 403)
    admin = api("admin")
    assert "reason" in assert_problem(admin.post("/api/v1/batches", json={**body, "reason": None}), 400)["errors"]
    assert "operation" in assert_problem(admin.post("/api/v1/batches", json={**body, "operation": "x"}), 400)["errors"]
    assert "filters" in assert_problem(admin.post("/api/v1/batches", json={**body, "filters": {"zone": "sud"}}),
                                       400, "validation-failed")["errors"]
    assert_problem(admin.get(f"/api/v1/batches/{UNKNOWN}"), 404)
