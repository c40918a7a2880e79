"""Role × zone × API route: every cell, forbidden ones included, with no case data in any refusal.

The same rules as the web: a task one may not work is not found (404) whether it is read or
acted on, exactly like a task that does not exist; administrator-only areas and other zones'
agendas are 403. A message nobody declared in messages.toml only administrators may send.
"""

from __future__ import annotations

import pytest

from tests.web.authorization_world import CASES, INBOX, build_world
from tests.web.conftest import PEOPLE, valid_cf

NAMES = {"N": "Laura Bianchi", "N2": "Gino Rossi", "S": "Marco Neri"}

WORKS_EQUIPE_N = {"cpi.nord", "cpi.nord.bis", "sds.nord", "spec.nord", "admin"}
AGENDA_NORD = {"cpi.nord", "cpi.nord.bis", "sds.nord", "spec.nord", "admin"}
AGENDA_SUD = {"cpi.sud", "sds.sud", "spec.sud", "admin"}


def _expected(user: str) -> dict[str, int]:
    admin = user == "admin"
    return {
        "read_task_equipe_N": 200 if user in WORKS_EQUIPE_N else 404,
        "read_task_ats_N2": 200 if user in ("ats.nord", "admin") else 404,
        "list_cases": 200,
        "read_case_N": 200 if "N" in CASES[user] else 404,
        "read_case_N2": 200 if "N2" in CASES[user] else 404,
        "read_case_S": 200 if "S" in CASES[user] else 404,
        "case_file_pdf_N": 200 if "N" in CASES[user] else 404,
        "case_file_pdf_S": 200 if "S" in CASES[user] else 404,
        "list_cases_zone_nord": 200 if user in ("cpi.nord", "cpi.nord.bis", "sds.nord", "spec.nord", "ats.nord",
                                                "ats.altro", "admin") else 403,
                "claim_task_equipe_N": 204 if user in WORKS_EQUIPE_N else 404,
        "claim_missing_task": 404,
        "list_processes": 200 if user in ("admin", "analista") else 403,
        "startable_processes": 200,
        "list_instances": 200 if admin else 403,
        "read_instance_N": 200 if admin else 403,
        "start_case_nord": 201 if user in ("cpi.nord", "cpi.nord.bis", "admin") else 403,
        "suspend_S": 204 if admin else 403,
        "migrate_N_dry_run": 200 if admin else 403,
        "list_batches": 200 if admin else 403,
        "list_incidents": 200 if admin else 403,
        "retry_incident": 404 if admin else 403,
        "heat_caso_web": 200 if admin else 403,
        "saved_views": 200 if admin else 403,
        "message_N": 200 if admin else 403,
        "zones": 200,
        "meetings_nord": 200 if user in AGENDA_NORD else 403,
        "meetings_sud": 200 if user in AGENDA_SUD else 403,
        "complete_task_equipe_N": 200 if user in WORKS_EQUIPE_N else 404,
        "complete_task_ats_N2": 200 if user in ("ats.nord", "admin") else 404,
    }




@pytest.fixture
def world(api_runtime):
    """The shared cases (see tests/web/authorization_world.py)."""
    return build_world(api_runtime)


def _calls(world):
    equipe, ats = world["task_equipe_N"], world["task_ats_N2"]
    new_case = {"process": "caso_web", "data": {"beneficiario": {"codice_fiscale": valid_cf("VRDNNA90A41G713"),
                                                                 "nome": "Anna", "cognome": "Verdi"}, "zona": "nord"}}
    message = {"name": "nota", "correlation": {"case_id": world["N"]}, "payload": {"case_id": world["N"]}}
    return {
        "read_task_equipe_N": ("get", f"/api/v1/tasks/{equipe}", None),
        "read_task_ats_N2": ("get", f"/api/v1/tasks/{ats}", None),
        "list_cases": ("get", "/api/v1/cases", None),
        "read_case_N": ("get", f"/api/v1/cases/{world['N']}", None),
        "read_case_N2": ("get", f"/api/v1/cases/{world['N2']}", None),
        "read_case_S": ("get", f"/api/v1/cases/{world['S']}", None),
        "case_file_pdf_N": ("get", f"/api/v1/cases/{world['N']}/pdf", None),
        "case_file_pdf_S": ("get", f"/api/v1/cases/{world['S']}/pdf", None),
        "list_cases_zone_nord": ("get", "/api/v1/cases?zone=nord", None),
        "claim_task_equipe_N": ("post", f"/api/v1/tasks/{equipe}/claim", None),
        "claim_missing_task": ("post", "/api/v1/tasks/00000000-0000-4000-8000-000000000000/claim", None),
        "list_processes": ("get", "/api/v1/processes", None),
        "startable_processes": ("get", "/api/v1/processes/startable", None),
        "list_instances": ("get", "/api/v1/instances", None),
        "read_instance_N": ("get", f"/api/v1/instances/{world['N']}", None),
        "start_case_nord": ("post", "/api/v1/instances", new_case),
        "suspend_S": ("post", f"/api/v1/instances/{world['S']}/suspend", {"reason": "verifica"}),
        "migrate_N_dry_run": ("post", "/api/v1/instances/migrate",
                              {"target_version_id": 1, "instance_ids": [world["N"]], "dry_run": True}),
        "list_batches": ("get", "/api/v1/batches", None),
        "list_incidents": ("get", "/api/v1/incidents", None),
        "retry_incident": ("post", "/api/v1/incidents/999999/retry", None),
        "heat_caso_web": ("get", "/api/v1/processes/caso_web/versions/1/heat", None),
        "saved_views": ("get", "/api/v1/saved-views", None),
        "message_N": ("post", "/api/v1/messages", message),
        "zones": ("get", "/api/v1/zones", None),
        "meetings_nord": ("get", "/api/v1/zones/nord/meetings", None),
        "meetings_sud": ("get", "/api/v1/zones/sud/meetings", None),
        "complete_task_equipe_N": ("post", f"/api/v1/tasks/{equipe}/complete",
                                   {"data": {"scheda_esito": {"percorso": "tirocinio", "obiettivi": "lavoro"}}}),
        "complete_task_ats_N2": ("post", f"/api/v1/tasks/{ats}/complete", {"data": {"esito_colloquio": "svolto"}}),
    }


@pytest.mark.parametrize("username", sorted(PEOPLE))
def test_every_route_for_every_role_and_zone(world, api, username) -> None:
    caller = api(username)
    expected = _expected(username)
    wrong = []
    for route, (method, url, body) in _calls(world).items():
        response = caller.get(url) if method == "get" else caller.post(url, json=body)
        if response.status_code != expected[route]:
            wrong.append(f"{route}: {response.status_code} (expected {expected[route]})")
        if response.status_code >= 400:
            assert response.mimetype == "application/problem+json"
            leaked = [name for name in NAMES.values() if name in response.get_data(as_text=True)]
            assert not leaked, f"{username} {route}: a refusal shows {leaked}"
        if route == "claim_task_equipe_N" and response.status_code == 204:
            assert caller.post(url.replace("/claim", "/unclaim")).status_code == 204
    assert not wrong, f"{username}: " + "; ".join(wrong)


@pytest.mark.parametrize("username", sorted(PEOPLE))
def test_inbox_lists_only_workable_tasks(world, api, username) -> None:
    items = api(username).get("/api/v1/tasks").get_json()["items"]
    seen = {key for key, name in NAMES.items() if any(i["case"]["beneficiary_name"] == name for i in items)}
    assert seen == INBOX[username]


@pytest.mark.parametrize("username", sorted(PEOPLE))
def test_case_list_lists_the_cases_one_may_see_with_or_without_a_task(world, api, username) -> None:
    items = api(username).get("/api/v1/cases").get_json()["items"]
    seen = {key for key, name in NAMES.items() if any(i["beneficiary_name"] == name for i in items)}
    assert seen == CASES[username]


@pytest.mark.parametrize("username", ["cpi.sud", "sds.sud", "ats.altro", "analista", "spec.sud", "ats.nord"])
def test_refused_actions_change_nothing(world, api, api_runtime, username) -> None:
    caller = api(username)
    task_id = world["task_equipe_N"]
    caller.post(f"/api/v1/tasks/{task_id}/claim")
    caller.post(f"/api/v1/tasks/{task_id}/complete", json={"data": {"scheda_esito": {"percorso": "tirocinio",
                                                                                     "obiettivi": "x"}}})
    caller.post(f"/api/v1/instances/{world['S']}/terminate")
    with api_runtime.uow(write=False) as uow:
        assert uow.inbox.get(task_id)["assignee"] is None
        assert uow.instances.header(world["S"])["status"] == "running"
