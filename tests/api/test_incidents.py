"""`/api/v1/incidents`: from the error to its resolution over HTTP, one by one and by group; refusals."""

from __future__ import annotations

import pytest

from tests.admin.conftest import complete, deploy_xml, header, original_xml, start

from .conftest import assert_problem


@pytest.fixture
def failing(api_runtime):
    """Two instances stopped by a division by zero in "Calcolo della quota"."""
    deploy_xml(api_runtime, original_xml())
    ids = []
    for n in range(2):
        instance_id = start(api_runtime, "nord", first15=f"RRRRRR80A{n + 1:02d}G713")
        complete(api_runtime, instance_id, "raccolta", {"divisore": 0})
        ids.append(instance_id)
    return ids


def test_an_incident_from_error_to_resolution(api, api_runtime, failing) -> None:
    admin = api("admin")
    listed = admin.get("/api/v1/incidents").get_json()
    assert listed["total"] == 2
    first = next(i for i in listed["items"] if i["instance_id"] == failing[0])
    assert first["kind"] == "arithmetic" and first["element_id"] == "calcolo" and first["attempts"] == 1
    assert "divisione per zero" in first["explanation"] and "division by zero" in first["message"]
    url = f"/api/v1/incidents/{first['id']}"
    assert admin.post(f"{url}/assign", json={}).status_code == 204
    assert admin.post(f"{url}/comment", json={"text": "guardo io"}).status_code == 204
    again = admin.post(f"{url}/retry").get_json()
    assert again["resolved"] is False and again["incident"]["attempts"] == 2
    assert again["incident"]["assignee"] == "admin" and again["incident"]["comments"][0]["text"] == "guardo io"
    assert_problem(admin.post(f"{url}/resolve", json={"note": "fatto"}), 409, "invalid-state")
    bad = admin.post(f"{url}/edit-and-retry", json={"data": {"case_id": "x"}, "reason": "r"})
    assert_problem(bad, 400, "validation-failed")
    fixed = admin.post(f"{url}/edit-and-retry", json={"data": {"divisore": 2}, "reason": "corretto"}).get_json()
    assert fixed["resolved"] is True and fixed["incident"]["status"] == "resolved"
    assert fixed["incident"]["resolution"] == "edited" and header(api_runtime, failing[0])["status"] == "waiting"
    assert_problem(admin.post(f"{url}/retry"), 409, "invalid-state")
    resolved = admin.get("/api/v1/incidents?status=resolved").get_json()
    assert [i["id"] for i in resolved["items"]] == [first["id"]]


def test_a_group_is_skipped_together(api, api_runtime, failing) -> None:
    admin = api("admin")
    [group] = admin.get("/api/v1/incidents/groups").get_json()["items"]
    assert group["count"] == 2 and group["kind"] == "arithmetic"
    body = {k: group[k] for k in ("process_version_id", "element_id", "kind")}
    assert_problem(admin.post("/api/v1/incidents/groups/skip", json=body), 400, "validation-failed")
    done = admin.post("/api/v1/incidents/groups/skip", json={**body, "reason": "calcolata a mano"}).get_json()
    assert len(done["done"]) == 2 and done["failed"] == []
    assert all(header(api_runtime, i)["status"] == "waiting" for i in failing)
    assert admin.get("/api/v1/incidents").get_json()["total"] == 0


def test_incidents_are_for_administrators_only(api, failing) -> None:
    assert_problem(api("cpi.nord").get("/api/v1/incidents"), 403, "forbidden")
    assert_problem(api("cpi.nord").post("/api/v1/incidents/1/retry"), 403, "forbidden")
    assert_problem(api("admin").get("/api/v1/incidents/999999"), 404, "not-found")
    assert_problem(api("admin").get("/api/v1/incidents?kind=nope"), 400)
