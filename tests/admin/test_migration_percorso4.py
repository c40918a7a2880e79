"""A real Percorso 4 case waiting on its 12-month timer moves to a new version without losing its end date."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from gol_workflow.domain.errors import MigrationRefused
from gol_workflow.services.administration import deployment, migration
from gol_workflow.services.administration.instance_queries import instance_detail
from tests.conftest import ADMIN, ROOT
from tests.integration.percorso4_support import (  # noqa: F401 - fixtures
    MONITORING_PARTS,
    FINAL_PARTS,
    LUCIA,
    PROGETTO,
    Percorso4,
    local_day,
    p4,
    profilo,
    scheda,
    smtp,
)

FINAL_CHECK = """<bpmn:userTask id="verifica_chiusura" name="Verificare i documenti di chiusura">
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="formJsonSchemaFilename" value="informa_beneficiario.schema.json" />
        </spiffworkflow:properties>
      </bpmn:extensionElements>
      <bpmn:incoming>f_finale_verifica</bpmn:incoming>
      <bpmn:outgoing>f_finale_fine</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="fine_percorso" name="Percorso concluso">"""


def source() -> str:
    return (ROOT / "processes" / "percorso4.bpmn").read_text(encoding="utf-8")


def with_final_check(xml: str) -> str:
    """Version 2: the CPI verifies the closing documents after the final monitoring."""
    xml = xml.replace('<bpmn:endEvent id="fine_percorso" name="Percorso concluso">', FINAL_CHECK, 1)
    xml = xml.replace("<bpmn:incoming>f_pi_finale</bpmn:incoming>\n      <bpmn:outgoing>f_finale_fine</bpmn:outgoing>",
                      "<bpmn:incoming>f_pi_finale</bpmn:incoming>\n      <bpmn:outgoing>f_finale_verifica</bpmn:outgoing>")
    xml = xml.replace('<bpmn:sequenceFlow id="f_finale_fine" sourceRef="monitoraggio_finale" targetRef="fine_percorso" />',
                      '<bpmn:sequenceFlow id="f_finale_verifica" sourceRef="monitoraggio_finale" '
                      'targetRef="verifica_chiusura" />\n    <bpmn:sequenceFlow id="f_finale_fine" '
                      'sourceRef="verifica_chiusura" targetRef="fine_percorso" />')
    xml = xml.replace("<bpmn:flowNodeRef>fine_percorso</bpmn:flowNodeRef>",
                      "<bpmn:flowNodeRef>fine_percorso</bpmn:flowNodeRef>\n"
                      "        <bpmn:flowNodeRef>verifica_chiusura</bpmn:flowNodeRef>")
    return xml


def without_profiling(xml: str) -> str:
    """A version without the profiling task: the start goes straight to the percorso decision."""
    xml = re.sub(r'<bpmn:userTask id="profilazione".*?</bpmn:userTask>\s*', "", xml, count=1, flags=re.DOTALL)
    xml = xml.replace('<bpmn:sequenceFlow id="f_avvio_profilazione" sourceRef="avvio_presa_in_carico" '
                      'targetRef="profilazione" />',
                      '<bpmn:sequenceFlow id="f_avvio_profilazione" sourceRef="avvio_presa_in_carico" '
                      'targetRef="assegna_percorso" />')
    xml = xml.replace('<bpmn:sequenceFlow id="f_profilazione_assegna" sourceRef="profilazione" '
                      'targetRef="assegna_percorso" />', "")
    xml = xml.replace("<bpmn:incoming>f_profilazione_assegna</bpmn:incoming>",
                      "<bpmn:incoming>f_avvio_profilazione</bpmn:incoming>")
    xml = xml.replace("<bpmn:flowNodeRef>profilazione</bpmn:flowNodeRef>", "")
    xml = re.sub(r'<bpmndi:BPMNShape id="profilazione_di".*?</bpmndi:BPMNShape>\s*', "", xml, flags=re.DOTALL)
    return re.sub(r'<bpmndi:BPMNEdge id="f_profilazione_assegna_di".*?</bpmndi:BPMNEdge>\s*', "", xml, flags=re.DOTALL)


def deploy(p4: Percorso4, xml: str) -> int:
    sources = deployment.read_sources(ROOT / "processes", ROOT / "forms")
    processes = {**sources.processes, "percorso4.bpmn": xml.encode("utf-8")}
    deployment.deploy(p4.rt, deployment.Sources(processes, sources.forms), ADMIN)
    with p4.rt.uow(write=False) as uow:
        return int(uow.versions.latest_id("percorso4"))


def into_the_path(p4: Percorso4, case: str) -> None:
    """Profiling, the equipe, the first appointment and the individual project: the case waits for 12 months."""
    p4.complete("profilazione", case, profilo(), "cpi.pistoia")
    p4.hold_meeting(p4.meetings_of(case)[-1]["id"], {case: scheda(presente=True)}, by="sds.pistoia")
    slot = p4.book_first_appointment(case, "cm.rossi", "cpi.pistoia")
    p4.start_path(case, "cm.rossi", slot)
    p4.complete("progetto_individualizzato", case, PROGETTO, "cm.rossi")


def timers(p4: Percorso4, case: str) -> dict[str, datetime]:
    return {w.element_id: w.due_at for w in instance_detail(p4.rt, ADMIN, case).waiting if w.kind == "timer"}


def test_a_case_waiting_on_its_12_month_timer_keeps_its_end_date_on_the_new_version(p4: Percorso4) -> None:
    case = p4.open_case("pistoiese", LUCIA)
    into_the_path(p4, case)
    end = datetime.fromisoformat(p4.data(case)["data_fine_percorso"])
    before = timers(p4, case)
    assert before["scadenza_12_mesi"] == end
    p4.advance(timedelta(days=40))  # a while later the analysts publish version 2

    v2 = deploy(p4, with_final_check(source()))
    report = migration.migrate_instance(p4.rt, ADMIN, case, v2, reason="verifica dei documenti")
    assert report.migrated and (report.from_version, report.to_version) == (1, 2)
    p4.rt.workflows.clear()
    assert timers(p4, case) == before  # neither the 12 months nor the quarterly reminder restarted
    assert p4.header(case)["process_version_id"] == v2

    p4.advance_to(end + timedelta(minutes=1))
    while p4.ready(case) == MONITORING_PARTS:  # quarterly reminders that fell due on the way
        p4.monitor(case, p4.monitoraggio(), "cm.rossi")
        p4.advance_to(end + timedelta(minutes=1))
    assert p4.ready(case) == FINAL_PARTS
    p4.final(case, {"data_monitoraggio_finale": local_day(p4.now()), "esito": "occupato",
                                              "tipo_contratto": "tempo_determinato",
                                              "obiettivi_raggiunti": "raggiunti"}, "cpi.pistoia")
    assert p4.ready(case) == ["verifica_chiusura"]  # the task added by version 2


def test_a_version_without_a_task_the_case_already_did_is_refused_with_the_reason(p4: Percorso4) -> None:
    case = p4.open_case("pistoiese", LUCIA)
    into_the_path(p4, case)
    v2 = deploy(p4, without_profiling(source()))
    plan = migration.check_migration(p4.rt, ADMIN, case, v2)
    assert [(i.kind, i.element_id, i.element_name) for i in plan.issues] == [
        ("removed_ran", "profilazione", "Profilazione e assessment")]
    with pytest.raises(MigrationRefused, match="Profilazione e assessment already ran"):
        migration.migrate_instance(p4.rt, ADMIN, case, v2)
    assert p4.header(case)["process_version_id"] != v2


def test_the_diagram_marks_a_task_open_again_after_a_loop_as_open(p4: Percorso4) -> None:
    case = p4.open_case("pistoiese", LUCIA)
    into_the_path(p4, case)
    for _ in range(2):  # two quarterly reminders: the monitoring runs, then is open again
        p4.advance_to(p4.header(case)["next_due_at"] + timedelta(minutes=1))
        assert p4.ready(case) == MONITORING_PARTS
        detail = instance_detail(p4.rt, ADMIN, case)
        assert detail.element_states["monitoraggio_parte_cpi"] == "READY"
        p4.monitor(case, p4.monitoraggio(), "cm.rossi")
    assert instance_detail(p4.rt, ADMIN, case).element_states["monitoraggio"] == "COMPLETED"


def test_a_version_whose_running_subprocess_is_gone_is_refused(p4: Percorso4) -> None:
    case = p4.open_case("pistoiese", LUCIA)
    into_the_path(p4, case)  # the case runs inside the 12-month subprocess
    v2 = deploy(p4, source().replace("percorso_individuale", "percorso_dodici_mesi"))
    kinds = {(i.kind, i.element_id) for i in migration.check_migration(p4.rt, ADMIN, case, v2).issues}
    assert ("subprocess_missing", "percorso_individuale") in kinds
    with pytest.raises(MigrationRefused, match="running subprocess"):
        migration.migrate_instance(p4.rt, ADMIN, case, v2)
