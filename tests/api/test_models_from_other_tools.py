"""Models written for SpiffWorkflow's Camunda dialect and exported as .bpmn20.xml run through the API as
SpiffWorkflow runs them: message payloads in camunda:expression / camunda:resultVariable, a message without
correlation addressed to its instance by an administrator, generated forms completed with any JSON object."""

from __future__ import annotations

from typing import Any

from gol_workflow.domain.model import Actor
from gol_workflow.services.administration import process_catalog
from gol_workflow.services.workflow.runtime import Runtime
from tests.api.conftest import assert_problem
from tests.conftest import ADMIN

WAITS_FOR_A_REPLY = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="http://example.org/bpmn">
  <bpmn:process id="attesa_risposta" isExecutable="true">
    <bpmn:startEvent id="inizio"/>
    <bpmn:sequenceFlow id="f1" sourceRef="inizio" targetRef="compila"/>
    <bpmn:userTask id="compila" name="Compila la richiesta" camunda:formKey="Richiesta">
      <bpmn:extensionElements>
        <camunda:formData><camunda:formField id="importo" label="Importo" type="long"/></camunda:formData>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="compila" targetRef="risposta"/>
    <bpmn:intermediateCatchEvent id="risposta">
      <bpmn:messageEventDefinition id="md" messageRef="m_risposta" camunda:resultVariable="esito"/>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f3" sourceRef="risposta" targetRef="fine"/>
    <bpmn:endEvent id="fine"/>
  </bpmn:process>
  <bpmn:message id="m_risposta" name="Risposta"/>
</bpmn:definitions>
"""

SENDS_ITS_TOTAL = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d2" targetNamespace="http://example.org/bpmn">
  <bpmn:process id="invia_totale" isExecutable="true">
    <bpmn:startEvent id="via"/>
    <bpmn:sequenceFlow id="g1" sourceRef="via" targetRef="calcola"/>
    <bpmn:scriptTask id="calcola" scriptFormat="python"><bpmn:script>totale = 40 + 2</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="g2" sourceRef="calcola" targetRef="manda"/>
    <bpmn:endEvent id="manda">
      <bpmn:messageEventDefinition id="md2" messageRef="m_risposta" camunda:expression="totale"/>
    </bpmn:endEvent>
  </bpmn:process>
  <bpmn:message id="m_risposta" name="Risposta"/>
</bpmn:definitions>
"""


def deploy(rt: Runtime, files: dict[str, str], actor: Actor = ADMIN) -> process_catalog.UploadReport:
    return process_catalog.deploy_upload(rt, actor, {name: text.encode() for name, text in files.items()})


def start(admin: Any, process: str) -> dict[str, Any]:
    started = admin.post("/api/v1/instances", json={"process": process, "data": {}})
    assert started.status_code == 201, started.get_data(as_text=True)
    return started.get_json()


def test_an_export_named_bpmn20_xml_deploys_and_a_generated_form_takes_any_json(api: Any, api_runtime: Runtime) -> None:
    report = deploy(api_runtime, {"attesa.bpmn20.xml": WAITS_FOR_A_REPLY})
    assert not report.problems, report.problems
    admin = api("admin")
    task = start(admin, "attesa_risposta")["tasks"][0]
    done = admin.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"importo": 12, "nota": "libera"}})
    assert done.status_code == 200, done.get_data(as_text=True)


def test_a_message_without_correlation_is_addressed_to_its_instance_and_lands_in_its_result_variable(
    api: Any, api_runtime: Runtime
) -> None:
    assert not deploy(api_runtime, {"attesa.bpmn20.xml": WAITS_FOR_A_REPLY}).problems
    admin = api("admin")
    started = start(admin, "attesa_risposta")
    admin.post(f"/api/v1/tasks/{started['tasks'][0]['id']}/complete", json={"data": {}})
    body = {"name": "Risposta", "correlation": {}, "payload": {"approvato": True}}
    assert_problem(admin.post("/api/v1/messages", json=body), 400, "invalid-request")  # to whom?
    assert_problem(api("cpi.nord").post("/api/v1/messages", json={**body, "instance": started["id"]}), 403)
    sent = admin.post("/api/v1/messages", json={**body, "instance": started["id"]})
    assert sent.status_code == 200, sent.get_data(as_text=True)
    assert sent.get_json()["delivered_to"] == started["id"]
    instance = admin.get(f"/api/v1/instances/{started['id']}").get_json()
    assert instance["status"] == "completed"
    assert instance["data"]["esito"] == {"approvato": True}
    again = admin.post("/api/v1/messages", json={**body, "instance": started["id"]})
    assert_problem(again, 409)  # it no longer waits


def test_a_thrown_message_sends_its_camunda_expression_as_payload(api: Any, api_runtime: Runtime) -> None:
    report = deploy(api_runtime, {"attesa.bpmn20.xml": WAITS_FOR_A_REPLY, "invia.bpmn": SENDS_ITS_TOTAL})
    assert not report.problems, report.problems
    admin = api("admin")
    waiting = start(admin, "attesa_risposta")
    admin.post(f"/api/v1/tasks/{waiting['tasks'][0]['id']}/complete", json={"data": {}})
    start(admin, "invia_totale")
    instance = admin.get(f"/api/v1/instances/{waiting['id']}").get_json()
    assert instance["status"] == "completed", instance
    assert instance["data"]["esito"] == 42
