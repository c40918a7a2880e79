"""`/api/v1/processes/{id}/versions/{version}/heat` and `/api/v1/saved-views`."""

from __future__ import annotations

from datetime import timedelta

from tests.admin.conftest import complete, deploy_xml, original_xml, start

from .conftest import assert_problem


def test_the_heat_of_a_version_and_the_cases_at_an_element(api, api_runtime, clock) -> None:
    deploy_xml(api_runtime, original_xml())
    ids = [start(api_runtime, "nord", first15=f"RRRRRR80A{n + 1:02d}G713") for n in range(3)]
    clock.advance(timedelta(hours=2))
    complete(api_runtime, ids[0], "raccolta", {"divisore": 4})
    admin = api("admin")
    body = admin.get("/api/v1/processes/pratica_admin/versions/1/heat").get_json()
    elements = {e["element_id"]: e for e in body["elements"]}
    assert elements["raccolta"]["waiting"] == 2 and elements["raccolta"]["completed"] == 1
    assert elements["raccolta"]["p50_seconds"] == 7200 and elements["attesa_un_anno"]["events"] == 1
    assert body["from"] < body["to"]
    later = admin.get("/api/v1/processes/pratica_admin/versions/1/heat?from=2025-01-01T00:00:00Z&to=2025-12-31T00:00:00Z").get_json()
    assert {e["element_id"]: e for e in later["elements"]}["raccolta"]["completed"] == 0
    cases = admin.get("/api/v1/processes/pratica_admin/versions/1/heat/raccolta/cases").get_json()
    assert sorted(c["instance_id"] for c in cases["items"]) == sorted(ids[1:]) and cases["name"] == "Raccolta dati"
    assert_problem(admin.get("/api/v1/processes/pratica_admin/versions/1/heat?from=2026-02-01T00:00:00Z"
                             "&to=2026-01-01T00:00:00Z"), 400)
    assert_problem(admin.get("/api/v1/processes/pratica_admin/versions/5/heat"), 404, "not-found")
    assert_problem(api("cpi.nord").get("/api/v1/processes/pratica_admin/versions/1/heat"), 403, "forbidden")


def test_saved_views_over_the_api(api) -> None:
    admin = api("admin")
    created = admin.post("/api/v1/saved-views", json={"name": "Nord in errore", "query": "zona=nord&errore=1&x=1"})
    assert created.status_code == 201 and created.get_json()["query"] == "zona=nord&errore=1"
    assert [v["name"] for v in admin.get("/api/v1/saved-views").get_json()["items"]] == ["Nord in errore"]
    view_id = created.get_json()["id"]
    assert admin.client.delete(f"/api/v1/saved-views/{view_id}", headers=admin._headers(None)).status_code == 204
    assert admin.get("/api/v1/saved-views").get_json()["items"] == []
    assert_problem(admin.post("/api/v1/saved-views", json={"query": "zona=nord"}), 400, "invalid-request")
    assert_problem(api("cpi.nord").get("/api/v1/saved-views"), 403, "forbidden")
