"""Migrating running instances to a newer version: due dates and drafts kept, unsafe changes refused with reasons."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gol_workflow.domain.errors import InvalidState, MigrationRefused
from gol_workflow.services.workflow import instances as instance_service
from gol_workflow.services.administration import migration
from gol_workflow.services.workflow import tasks as task_service
from gol_workflow.services.workflow.due_work import run_due_work
from tests.conftest import ADMIN

from .conftest import complete, deploy_xml, header, open_task, original_xml, start

ADDED_TASK = """
    <bpmn:sequenceFlow id="pa_f3" sourceRef="attesa_un_anno" targetRef="controllo"/>
    <bpmn:userTask id="controllo" name="Controllo aggiuntivo">
      <bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property name="formJsonSchemaFilename" value="controllo.schema.json"/></spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>pa_f3</bpmn:incoming><bpmn:outgoing>pa_f3b</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="pa_f3b" sourceRef="controllo" targetRef="verifica"/>"""


def with_added_task(xml: str) -> str:
    """Version 2: a user task "Controllo aggiuntivo" between the 12-month timer and the final check."""
    xml = xml.replace('<bpmn:sequenceFlow id="pa_f3" sourceRef="attesa_un_anno" targetRef="verifica"/>', ADDED_TASK)
    xml = xml.replace("<bpmn:incoming>pa_f3</bpmn:incoming><bpmn:outgoing>pa_f4</bpmn:outgoing>",
                      "<bpmn:incoming>pa_f3b</bpmn:incoming><bpmn:outgoing>pa_f4</bpmn:outgoing>")
    xml = xml.replace('<bpmn:flowNodeRef>verifica</bpmn:flowNodeRef>',
                      '<bpmn:flowNodeRef>verifica</bpmn:flowNodeRef><bpmn:flowNodeRef>controllo</bpmn:flowNodeRef>')
    shape = '<bpmndi:BPMNShape id="controllo_di" bpmnElement="controllo"><dc:Bounds x="660" y="220" width="100" height="60"/></bpmndi:BPMNShape>'
    return xml.replace("</bpmndi:BPMNPlane>", shape + "</bpmndi:BPMNPlane>")


def without_raccolta(xml: str) -> str:
    """A version where "Raccolta dati" no longer exists: the start leads straight to the calculation."""
    start_at = xml.index('<bpmn:userTask id="raccolta"')
    end_at = xml.index("</bpmn:userTask>", start_at) + len("</bpmn:userTask>")
    xml = xml[:start_at] + xml[end_at:]
    xml = xml.replace('<bpmn:sequenceFlow id="pa_f0" sourceRef="pa_avvio" targetRef="raccolta"/>', "")
    xml = xml.replace('<bpmn:sequenceFlow id="pa_f1" sourceRef="raccolta" targetRef="calcolo"/>',
                      '<bpmn:sequenceFlow id="pa_f1" sourceRef="pa_avvio" targetRef="calcolo"/>')
    xml = xml.replace("<bpmn:outgoing>pa_f0</bpmn:outgoing>", "<bpmn:outgoing>pa_f1</bpmn:outgoing>")
    return xml.replace("<bpmn:flowNodeRef>raccolta</bpmn:flowNodeRef>", "")


def with_script(xml: str, script: str) -> str:
    """A version whose calculation runs another script."""
    return xml.replace("<bpmn:script>quota = 100 / divisore</bpmn:script>", f"<bpmn:script>{script}</bpmn:script>")


def test_a_waiting_timer_keeps_its_due_date_and_the_added_task_runs(admin_rt, waiting, clock) -> None:
    instance_id = waiting()
    due = header(admin_rt, instance_id)["next_due_at"]
    assert due is not None and due > clock.now() + timedelta(days=360)
    clock.advance(timedelta(days=60))
    v2 = deploy_xml(admin_rt, with_added_task(original_xml()))

    plan = migration.check_migration(admin_rt, ADMIN, instance_id, v2)
    assert plan.issues == [] and plan.to_version == 2
    assert ("timer_kept", "attesa_un_anno") in {(n.kind, n.element_id) for n in plan.notes}
    report = migration.migrate_instance(admin_rt, ADMIN, instance_id, v2, reason="nuovo controllo")
    assert report.migrated

    after = header(admin_rt, instance_id)
    assert after["process_version_id"] == v2 and after["next_due_at"] == due  # the 12 months did not restart
    admin_rt.workflows.clear()  # from the database, not the cache
    clock.set(due + timedelta(seconds=1))
    assert run_due_work(admin_rt).timers_fired == 1
    complete(admin_rt, instance_id, "controllo", {"esito": "ok"})
    complete(admin_rt, instance_id, "verifica", {"esito": "ok"})
    assert header(admin_rt, instance_id)["status"] == "completed"


def test_removing_a_task_that_already_ran_is_refused_with_the_reason(admin_rt, waiting) -> None:
    instance_id = waiting()
    v2 = deploy_xml(admin_rt, without_raccolta(original_xml()))
    plan = migration.check_migration(admin_rt, ADMIN, instance_id, v2)
    assert [(i.kind, i.element_id, i.element_name) for i in plan.issues] == [("removed_ran", "raccolta", "Raccolta dati")]
    with pytest.raises(MigrationRefused) as refused:
        migration.migrate_instance(admin_rt, ADMIN, instance_id, v2)
    assert "Raccolta dati already ran" in refused.value.message
    assert header(admin_rt, instance_id)["process_version_id"] != v2
    admin_rt.workflows.clear()
    with admin_rt.uow(write=False) as uow:  # the refused instance still loads on its own version
        assert instance_service.read_workflow(admin_rt, uow, instance_id, lambda loaded: loaded.version.version) == 1


def test_an_instance_that_has_not_reached_the_removed_task_can_not_move_either_while_standing_on_it(admin_rt) -> None:
    instance_id = start(admin_rt)  # stands at "Raccolta dati"
    v2 = deploy_xml(admin_rt, without_raccolta(original_xml()))
    issues = migration.check_migration(admin_rt, ADMIN, instance_id, v2).issues
    assert [(i.kind, i.element_id) for i in issues] == [("removed_current", "raccolta")]


def test_the_draft_of_the_open_task_survives_and_the_task_takes_the_new_name(admin_rt, clock) -> None:
    instance_id = start(admin_rt)
    task = open_task(admin_rt, instance_id)
    task_service.save_draft(admin_rt, task["id"], {"divisore": 7, "note_raccolta": "a metà"}, ADMIN)
    task_service.claim(admin_rt, task["id"], ADMIN)
    clock.advance(timedelta(hours=3))
    v2 = deploy_xml(admin_rt, original_xml().replace('name="Raccolta dati"', 'name="Raccolta dei dati"'))
    migration.migrate_instance(admin_rt, ADMIN, instance_id, v2)
    moved = open_task(admin_rt, instance_id)
    assert moved["name"] == "Raccolta dei dati"
    assert moved["draft"] == {"divisore": 7, "note_raccolta": "a metà"} and moved["assignee"] == "admin"
    assert moved["created_at"] == task["created_at"]  # still "waiting since" the same moment
    complete(admin_rt, instance_id, "raccolta", {"divisore": 5})
    assert header(admin_rt, instance_id)["status"] == "waiting"


def test_a_changed_script_that_already_ran_is_refused_but_fixes_a_failed_one(admin_rt, waiting) -> None:
    done = waiting()
    failed = start(admin_rt, nome="Gino", cognome="Rossi", first15="RSSGNI70A01G713")
    complete(admin_rt, failed, "raccolta", {"divisore": 0})
    assert header(admin_rt, failed)["status"] == "error"
    v2 = deploy_xml(admin_rt, with_script(original_xml(), "quota = 100 / divisore if divisore else 0"))

    issues = migration.check_migration(admin_rt, ADMIN, done, v2).issues
    assert [(i.kind, i.element_id, i.attributes) for i in issues] == [("changed_ran", "calcolo", ("script",))]

    migration.migrate_instance(admin_rt, ADMIN, failed, v2, reason="divisione per zero")
    moved = header(admin_rt, failed)
    assert moved["status"] == "error" and moved["process_version_id"] == v2  # still failed: a retry is separate
    instance_service.retry(admin_rt, failed, ADMIN)
    assert header(admin_rt, failed)["status"] == "waiting"


def test_only_newer_versions_of_the_same_process_and_only_live_instances(admin_rt, waiting) -> None:
    instance_id = waiting()
    with admin_rt.uow(write=False) as uow:
        v1 = uow.versions.latest_id("pratica_admin")
    with pytest.raises(InvalidState):
        migration.check_migration(admin_rt, ADMIN, instance_id, int(v1))
    instance_service.terminate(admin_rt, instance_id, ADMIN, "prova")
    v2 = deploy_xml(admin_rt, with_added_task(original_xml()))
    with pytest.raises(InvalidState):
        migration.migrate_instance(admin_rt, ADMIN, instance_id, v2)
