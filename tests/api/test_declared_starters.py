"""Any deployed process starts through the API for those it declares as starters, and for administrators."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gol_workflow.services.access import lanes, roles, tokens, users
from gol_workflow.web import create_app
from tests.api.conftest import Caller, assert_problem
from tests.conftest import ADMIN, DATA, ROOT, deploy_dir
from tests.web.test_declared_roles import NEW_ROLE, PEOPLE

PASSWORD = "password-di-prova"

NO_FORM = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x">
  <bpmn:process id="senza_moduli" name="Senza moduli" isExecutable="true">
    <bpmn:startEvent id="s"><bpmn:outgoing>a</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="a" sourceRef="s" targetRef="t"/>
    <bpmn:userTask id="t" name="Controllo"><bpmn:incoming>a</bpmn:incoming><bpmn:outgoing>b</bpmn:outgoing></bpmn:userTask>
    <bpmn:sequenceFlow id="b" sourceRef="t" targetRef="x"/>
    <bpmn:scriptTask id="x" name="Somma"><bpmn:incoming>b</bpmn:incoming><bpmn:outgoing>c</bpmn:outgoing>
      <bpmn:script>totale = quanti + 1</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="c" sourceRef="x" targetRef="e"/>
    <bpmn:endEvent id="e"><bpmn:incoming>c</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.fixture
def caller(settings: Any, clock: Any, tmp_path: Path) -> Iterator[Any]:
    from gol_workflow.bootstrap import bootstrap

    shutil.copytree(DATA / "declared", tmp_path / "processi")
    (tmp_path / "processi" / "senza_moduli.bpmn").write_text(NO_FORM, encoding="utf-8")
    (tmp_path / "ruoli.toml").write_text((ROOT / "processes" / "roles.toml").read_text(encoding="utf-8") + NEW_ROLE,
                                         encoding="utf-8")
    rt = bootstrap(settings.with_overrides(zones_dir=DATA / "web" / "zones", roles_file=tmp_path / "ruoli.toml"),
                   clock=clock)
    deploy_dir(rt, tmp_path / "processi", DATA / "declared-forms")
    for username, (role, zones) in PEOPLE.items():
        users.add_user(rt, username, role, ADMIN, zones, (), PASSWORD, username.title())
    app = create_app(rt, {"TESTING": True})

    def make(username: str) -> Caller:
        return Caller(app.test_client(), tokens.issue_token(rt, username, ADMIN).secret)

    yield make
    rt.db.dispose()
    roles.install(roles.load(ROOT / "processes" / "roles.toml"))
    lanes.install(lanes.load(ROOT / "processes"))


def test_a_process_of_another_domain_is_started_by_its_starters_and_refused_to_others(caller: Any) -> None:
    body = {"process": "accompagnamento", "data": {"territorio": "nord", "persona": "Marta Neri"}}
    assert_problem(caller("cpi.nord").post("/api/v1/instances", json=body), 403)
    assert_problem(caller("sds.nord").post("/api/v1/instances", json=body), 403)
    started = caller("terzo.nord").post("/api/v1/instances", json=body)
    assert started.status_code == 201, started.get_data(as_text=True)
    assert [t["name"] for t in started.get_json()["tasks"]] == ["Colloquio di accompagnamento"]
    assert caller("amministratore").post("/api/v1/instances", json=body).status_code == 201
    missing = caller("amministratore").post("/api/v1/instances", json={"process": "inesistente", "data": {}})
    assert_problem(missing, 400)


def test_an_administrator_starts_a_process_without_start_form_and_completes_its_task_with_any_json(caller: Any) -> None:
    admin = caller("amministratore")
    started = admin.post("/api/v1/instances", json={"process": "senza_moduli", "data": {"quanti": 2}})
    assert started.status_code == 201, started.get_data(as_text=True)
    task = started.get_json()["tasks"][0]
    done = admin.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"quanti": 41, "note": ["ok"]}})
    assert done.status_code == 200, done.get_data(as_text=True)
    instance = admin.get(f"/api/v1/instances/{started.get_json()['id']}").get_json()
    assert instance["status"] == "completed"
    assert instance["data"]["totale"] == 42
    # Without any body data at all.
    assert admin.post("/api/v1/instances", json={"process": "senza_moduli"}).status_code == 201
    # Nobody else: the process declares no starter.
    assert_problem(caller("cpi.nord").post("/api/v1/instances", json={"process": "senza_moduli"}), 403)


def test_the_instance_lists_every_element_that_ran_in_order_with_who(caller: Any) -> None:
    admin = caller("amministratore")
    started = admin.post("/api/v1/instances", json={"process": "senza_moduli", "data": {"quanti": 1}}).get_json()
    opened = admin.get(f"/api/v1/instances/{started['id']}").get_json()
    assert [(p["element"], p["type"], p["state"]) for p in opened["path"]] == [
        ("s", "startEvent", "COMPLETED"), ("t", "userTask", "READY")]
    assert opened["path"][1]["ended_at"] is None and opened["path"][1]["by"] is None
    terzo_task = started["tasks"][0]["id"]
    admin.post(f"/api/v1/tasks/{terzo_task}/complete", json={"data": {"quanti": 2}})
    done = admin.get(f"/api/v1/instances/{started['id']}").get_json()
    assert [(p["element"], p["type"], p["by"]) for p in done["path"]] == [
        ("s", "startEvent", "system"), ("t", "userTask", "amministratore"), ("x", "scriptTask", "system"),
        ("e", "endEvent", "system")]
    assert all(p["started_at"] and p["ended_at"] for p in done["path"])
