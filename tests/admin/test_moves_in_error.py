"""A case in error: a move that leaves the failed step as it is is refused; one that takes the case before it repairs it."""

from __future__ import annotations

from pathlib import Path

import pytest

from gol_workflow.domain.errors import MoveRefused
from gol_workflow.services.administration import deployment, instance_moves
from gol_workflow.services.workflow import instances as instance_service
from tests.conftest import ADMIN, DATA

from .conftest import complete, header, open_task

PARALLEL = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="Definitions_r" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="rami_paralleli" name="Due rami in parallelo" isExecutable="true">
    <bpmn:laneSet id="LaneSet_r"><bpmn:lane id="Lane_r" name="CPI">
      <bpmn:flowNodeRef>r_start</bpmn:flowNodeRef><bpmn:flowNodeRef>r_input</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>r_split</bpmn:flowNodeRef><bpmn:flowNodeRef>r_a</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>r_calc</bpmn:flowNodeRef><bpmn:flowNodeRef>r_join</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>r_fine</bpmn:flowNodeRef><bpmn:flowNodeRef>r_end</bpmn:flowNodeRef>
    </bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="r_start"><bpmn:outgoing>rf0</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="rf0" sourceRef="r_start" targetRef="r_input"/>
    <bpmn:userTask id="r_input" name="Inserisci il divisore">
      <bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property name="formJsonSchemaFilename" value="divisore.schema.json"/></spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>rf0</bpmn:incoming><bpmn:outgoing>rf1</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="rf1" sourceRef="r_input" targetRef="r_split"/>
    <bpmn:parallelGateway id="r_split" name="Due rami"><bpmn:incoming>rf1</bpmn:incoming><bpmn:outgoing>rf2</bpmn:outgoing><bpmn:outgoing>rf3</bpmn:outgoing></bpmn:parallelGateway>
    <bpmn:sequenceFlow id="rf2" sourceRef="r_split" targetRef="r_a"/>
    <bpmn:sequenceFlow id="rf3" sourceRef="r_split" targetRef="r_calc"/>
    <bpmn:userTask id="r_a" name="Controlla i documenti">
      <bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property name="formJsonSchemaFilename" value="step.schema.json"/></spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>rf2</bpmn:incoming><bpmn:outgoing>rf4</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:scriptTask id="r_calc" name="Calcola la quota">
      <bpmn:incoming>rf3</bpmn:incoming><bpmn:outgoing>rf5</bpmn:outgoing>
      <bpmn:script>quota = 100 / divisore</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="rf4" sourceRef="r_a" targetRef="r_join"/>
    <bpmn:sequenceFlow id="rf5" sourceRef="r_calc" targetRef="r_join"/>
    <bpmn:parallelGateway id="r_join" name="Rami conclusi"><bpmn:incoming>rf4</bpmn:incoming><bpmn:incoming>rf5</bpmn:incoming><bpmn:outgoing>rf6</bpmn:outgoing></bpmn:parallelGateway>
    <bpmn:sequenceFlow id="rf6" sourceRef="r_join" targetRef="r_fine"/>
    <bpmn:userTask id="r_fine" name="Chiudi la pratica">
      <bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property name="formJsonSchemaFilename" value="step.schema.json"/></spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>rf6</bpmn:incoming><bpmn:outgoing>rf7</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="rf7" sourceRef="r_fine" targetRef="r_end"/>
    <bpmn:endEvent id="r_end"><bpmn:incoming>rf7</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.fixture
def parallel(runtime, tmp_path: Path):
    folder = tmp_path / "processes"
    folder.mkdir()
    (folder / "rami_paralleli.bpmn").write_text(PARALLEL, encoding="utf-8")
    (folder / "rami_paralleli.case.toml").write_text(
        'process = "rami_paralleli"\nrecord = false\n\n[facts]\nzone = "zona"\n', encoding="utf-8")
    deployment.deploy(runtime, deployment.read_sources(folder, DATA / "forms"), ADMIN)
    return runtime


def test_a_move_that_leaves_the_failed_step_is_refused_one_before_it_repairs(parallel) -> None:
    rt = parallel
    instance_id = instance_service.start_instance(rt, "rami_paralleli", {"zona": "pistoiese"}, ADMIN).instance_id
    complete(rt, instance_id, "r_input", {"divisore": 0})
    assert header(rt, instance_id)["status"] == "error"
    with pytest.raises(MoveRefused) as refused:
        instance_moves.move(rt, ADMIN, instance_id, "skip", "documenti già visti", element="r_a")
    assert refused.value.reason == "error-untouched"
    assert header(rt, instance_id)["status"] == "error"

    plan = instance_moves.move(rt, ADMIN, instance_id, "back_to", "divisore sbagliato", element="r_input",
                               dry_run=True)
    assert {i.element_id for i in plan.cancelled} == {"r_a", "r_calc"}
    instance_moves.move(rt, ADMIN, instance_id, "back_to", "divisore sbagliato", element="r_input")
    row = header(rt, instance_id)
    assert row["status"] == "running" and row["error"] is None
    complete(rt, instance_id, "r_input", {"divisore": 4})
    complete(rt, instance_id, "r_a", {})
    assert open_task(rt, instance_id)["element_id"] == "r_fine"
