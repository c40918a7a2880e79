"""A call activity that calls its own process (directly or through another) is refused at deployment;
a version stored before that rule stops in error with an incident instead of running for ever."""

from __future__ import annotations

import hashlib

import pytest

from gol_workflow.domain.errors import DeploymentFailed
from gol_workflow.engine.runner import MAX_CALL_DEPTH
from gol_workflow.services.administration import deployment, incident_desk, instance_detail
from gol_workflow.services.workflow import instances
from gol_workflow.services.workflow.runtime import Runtime
from tests.conftest import ADMIN

HEADER = ('<?xml version="1.0" encoding="UTF-8"?>\n'
          '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" '
          'targetNamespace="http://example.org/bpmn">\n')


def calling(process_id: str, call_id: str, called: str) -> str:
    """A process that calls `called` and ends."""
    return (f'  <bpmn:process id="{process_id}" isExecutable="true">\n'
            f'    <bpmn:startEvent id="{process_id}_s"/>\n'
            f'    <bpmn:sequenceFlow id="{process_id}_f1" sourceRef="{process_id}_s" targetRef="{call_id}"/>\n'
            f'    <bpmn:callActivity id="{call_id}" calledElement="{called}"/>\n'
            f'    <bpmn:sequenceFlow id="{process_id}_f2" sourceRef="{call_id}" targetRef="{process_id}_e"/>\n'
            f'    <bpmn:endEvent id="{process_id}_e"/>\n'
            '  </bpmn:process>\n')


ITSELF = HEADER + calling("ricorsivo", "richiama", "ricorsivo") + "</bpmn:definitions>\n"
FIRST = HEADER + calling("primo", "chiama_secondo", "secondo") + "</bpmn:definitions>\n"
SECOND = HEADER + calling("secondo", "chiama_primo", "primo") + "</bpmn:definitions>\n"
LEAF = ('  <bpmn:process id="foglia" isExecutable="true">\n'
        '    <bpmn:startEvent id="foglia_s"/>\n'
        '    <bpmn:sequenceFlow id="foglia_f" sourceRef="foglia_s" targetRef="foglia_e"/>\n'
        '    <bpmn:endEvent id="foglia_e"/>\n'
        '  </bpmn:process>\n')
NOT_A_CYCLE = HEADER + calling("sopra", "chiama_sotto", "sotto") + calling("sotto", "chiama_foglia", "foglia") + \
    LEAF + "</bpmn:definitions>\n"


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def refused(rt: Runtime, files: dict[str, str]) -> list[str]:
    with pytest.raises(DeploymentFailed) as raised:
        deployment.deploy(rt, deployment.Sources({k: v.encode() for k, v in files.items()}, {}), ADMIN)
    return [str(p) for p in raised.value.problems]


def test_a_process_calling_itself_is_refused_with_file_line_and_element(runtime: Runtime) -> None:
    problems = refused(runtime, {"ricorsivo.bpmn": ITSELF})
    line = line_of(ITSELF, 'id="richiama"')
    assert problems == [f"ricorsivo.bpmn:{line}: richiama: call activity calls process 'ricorsivo', which leads "
                        "back to 'ricorsivo' (ricorsivo → ricorsivo): a recursive call never ends, starting an "
                        "instance would never return"]


def test_a_cycle_through_two_files_is_refused_on_both_call_activities(runtime: Runtime) -> None:
    problems = refused(runtime, {"primo.bpmn": FIRST, "secondo.bpmn": SECOND})
    first, second = line_of(FIRST, "<bpmn:callActivity"), line_of(SECOND, "<bpmn:callActivity")
    assert [p.split(": ")[0:2] for p in problems] == [
        [f"primo.bpmn:{first}", "chiama_secondo"], [f"secondo.bpmn:{second}", "chiama_primo"],
    ]
    assert "(primo → secondo → primo)" in problems[0]


def test_nested_calls_without_a_cycle_deploy_and_run(runtime: Runtime) -> None:
    report = deployment.deploy(runtime, deployment.Sources({"annidati.bpmn": NOT_A_CYCLE.encode()}, {}), ADMIN)
    assert {p.process_id for p in report.processes} == {"sopra", "sotto", "foglia"}
    started = instances.start_instance(runtime, "sopra", {}, ADMIN)
    detail = instance_detail.instance_detail(runtime, ADMIN, started.instance_id, reveal=True)
    assert detail.summary.status == "completed"


def test_a_recursive_version_stored_before_the_rule_stops_in_error_with_an_incident(runtime: Runtime) -> None:
    with runtime.uow() as uow:
        uow.versions.add({
            "process_id": "ricorsivo", "version": 1, "name": "ricorsivo",
            "content_hash": hashlib.sha256(ITSELF.encode()).hexdigest(), "main_file": "ricorsivo.bpmn",
            "files": {"ricorsivo.bpmn": ITSELF}, "deployed_by": ADMIN.username, "deployed_at": runtime.now(),
            "note": None, "scenarios": None,
        })
        uow.commit()
    started = instances.start_instance(runtime, "ricorsivo", {}, ADMIN)  # returns: no endless loop
    detail = instance_detail.instance_detail(runtime, ADMIN, started.instance_id, reveal=True)
    assert detail.summary.status == "error"
    [incident] = incident_desk.list_incidents(runtime, ADMIN).items
    assert (incident.process_id, incident.element_id, incident.instance_id) == ("ricorsivo", "richiama",
                                                                               started.instance_id)
    assert f"nested more than {MAX_CALL_DEPTH} deep" in incident.message
    assert "recursive call never ends" in incident.message
