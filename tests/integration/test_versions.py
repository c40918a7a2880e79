"""Every instance stays on the version it started on, whatever is deployed later."""

from __future__ import annotations

import shutil
from pathlib import Path

from gol_workflow.bootstrap import bootstrap
from gol_workflow.domain.model import Actor
from gol_workflow.services.workflow import instances as instance_service
from gol_workflow.services.workflow import tasks as task_service
from gol_workflow.services.workflow.runtime import Runtime
from tests.conftest import ADMIN, DATA, deploy_dir

CPI = Actor(username="mario.rossi", role="cpi", zones=frozenset({"pistoiese"}))


def _names(rt: Runtime, instance_id: str) -> list[str]:
    with rt.uow(write=False) as uow:
        return [t["name"] for t in uow.inbox.for_instance(instance_id)]


def _complete_next(rt: Runtime, instance_id: str) -> None:
    with rt.uow(write=False) as uow:
        task_id = uow.inbox.for_instance(instance_id)[0]["id"]
    task_service.complete_task(rt, task_id, {}, CPI)


def _version(rt: Runtime, instance_id: str) -> int:
    with rt.uow(write=False) as uow:
        row = uow.instances.header(instance_id)
        return uow.versions.get(row["process_version_id"])["version"]


def test_v1_cases_finish_on_v1_while_new_cases_run_v2(runtime: Runtime, tmp_path: Path) -> None:
    rt = runtime
    processes, forms = tmp_path / "processes", tmp_path / "forms"
    processes.mkdir()
    shutil.copytree(DATA / "forms", forms)
    bpmn = (DATA / "processes" / "five_steps.bpmn").read_text()
    (processes / "five_steps.bpmn").write_text(bpmn)
    assert [p.version for p in deploy_dir(rt, processes, forms).processes] == [1]
    old_cases = [instance_service.start_instance(rt, "five_steps", {"zona": "pistoiese"}, ADMIN).instance_id for _ in range(2)]
    _complete_next(rt, old_cases[0])

    # v2 renames step 3 and drops steps 4 and 5: a real change to the diagram.
    v2 = bpmn.replace('name="Passo 3"', 'name="Verifica finale"').replace(
        '<bpmn:sequenceFlow id="f3" sourceRef="step_3" targetRef="step_4"/>',
        '<bpmn:sequenceFlow id="f3" sourceRef="step_3" targetRef="sum_up"/>',
    )
    for step in ("step_4", "step_5"):
        start = v2.index(f'<bpmn:userTask id="{step}"')
        v2 = v2[:start] + v2[v2.index("</bpmn:userTask>", start) + len("</bpmn:userTask>"):]
        v2 = v2.replace(f"<bpmn:flowNodeRef>{step}</bpmn:flowNodeRef>", "")
    v2 = v2.replace('<bpmn:sequenceFlow id="f4" sourceRef="step_4" targetRef="step_5"/>', "")
    v2 = v2.replace('<bpmn:sequenceFlow id="f5" sourceRef="step_5" targetRef="sum_up"/>', "")
    v2 = v2.replace("<bpmn:incoming>f5</bpmn:incoming>", "<bpmn:incoming>f3</bpmn:incoming>")
    (processes / "five_steps.bpmn").write_text(v2)
    assert [p.version for p in deploy_dir(rt, processes, forms).processes] == [2]
    assert [p.changed for p in deploy_dir(rt, processes, forms).processes] == [False]

    rt.workflows.clear()  # as after a restart: state comes back from the database
    new_case = instance_service.start_instance(rt, "five_steps", {"zona": "pistoiese"}, ADMIN).instance_id
    assert [_version(rt, c) for c in old_cases] == [1, 1] and _version(rt, new_case) == 2

    steps_old = []
    while names := _names(rt, old_cases[0]):
        steps_old += names
        _complete_next(rt, old_cases[0])
    assert steps_old == ["Passo 2", "Passo 3", "Passo 4", "Passo 5"]
    steps_new = []
    while names := _names(rt, new_case):
        steps_new += names
        _complete_next(rt, new_case)
    assert steps_new == ["Passo 1", "Passo 2", "Verifica finale"]
    while _names(rt, old_cases[1]):
        _complete_next(rt, old_cases[1])
    with rt.uow(write=False) as uow:
        assert {uow.instances.header(i)["status"] for i in [*old_cases, new_case]} == {"completed"}


def test_a_start_after_another_process_deployed_runs_the_new_version(runtime: Runtime, settings, clock,
                                                                      tmp_path: Path) -> None:
    # Each web process remembers the newest version it saw; another may deploy meanwhile.
    web, console = runtime, bootstrap(settings, clock=clock)
    try:
        processes, forms = tmp_path / "processes", tmp_path / "forms"
        processes.mkdir()
        shutil.copytree(DATA / "forms", forms)
        bpmn = (DATA / "processes" / "five_steps.bpmn").read_text()
        (processes / "five_steps.bpmn").write_text(bpmn)
        deploy_dir(console, processes, forms)
        first = instance_service.start_instance(web, "five_steps", {"zona": "pistoiese"}, ADMIN)
        (processes / "five_steps.bpmn").write_text(bpmn.replace('name="Passo 1"', 'name="Primo passo"'))
        assert [p.version for p in deploy_dir(console, processes, forms).processes] == [2]
        second = instance_service.start_instance(web, "five_steps", {"zona": "pistoiese"}, ADMIN)
        third = instance_service.start_instance(web, "five_steps", {"zona": "pistoiese"}, ADMIN)
        assert [_version(web, r.instance_id) for r in (first, second, third)] == [1, 2, 2]
        assert [r.next_tasks[0]["name"] for r in (first, second, third)] == ["Passo 1", "Primo passo", "Primo passo"]
        with web.uow(write=False) as uow:
            started = [e for e in uow.audit.recent(50) if e["action"] == "instance.started"]
        assert len(started) == 3  # the start tried on the old version left nothing behind
    finally:
        console.db.dispose()
