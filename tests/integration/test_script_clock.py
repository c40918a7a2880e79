"""A date a script computes with datetime.now() follows the service's clock, as the timers do: on the
simulated clock a timer set from it fires when the clock is moved past it, not months later."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gol_workflow.engine.script_builtins import ScriptRefused, guarded_getattr
from gol_workflow.engine.scripting import make_helpers
from gol_workflow.services.administration import deployment, instance_detail
from gol_workflow.services.workflow import clock, instances
from gol_workflow.services.workflow.runtime import Runtime
from tests.conftest import ADMIN

WAITS_AN_HOUR = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="http://example.org/bpmn">
  <bpmn:process id="attesa_un_ora" isExecutable="true">
    <bpmn:startEvent id="inizio"/>
    <bpmn:sequenceFlow id="f1" sourceRef="inizio" targetRef="fissa"/>
    <bpmn:scriptTask id="fissa" name="Fissa la scadenza">
      <bpmn:script>scadenza = (datetime.now() + timedelta(hours=1)).isoformat()
adesso = datetime.now().isoformat()</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="fissa" targetRef="attesa"/>
    <bpmn:intermediateCatchEvent id="attesa">
      <bpmn:timerEventDefinition><bpmn:timeDate>scadenza</bpmn:timeDate></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f3" sourceRef="attesa" targetRef="fine"/>
    <bpmn:endEvent id="fine"/>
  </bpmn:process>
</bpmn:definitions>
"""


def test_a_timer_set_from_datetime_now_fires_an_hour_later_on_the_simulated_clock(runtime: Runtime) -> None:
    deployment.deploy(runtime, deployment.Sources({"attesa.bpmn": WAITS_AN_HOUR.encode()}, {}), ADMIN)
    started_at = runtime.now()
    instance_id = instances.start_instance(runtime, "attesa_un_ora", {}, ADMIN).instance_id
    detail = instance_detail.instance_detail(runtime, ADMIN, instance_id, reveal=True)
    assert detail.summary.status == "waiting"
    assert detail.summary.next_due_at == started_at + timedelta(hours=1)
    clock.set_clock(runtime, started_at + timedelta(minutes=59), ADMIN)
    assert instance_detail.instance_detail(runtime, ADMIN, instance_id).summary.status == "waiting"
    clock.set_clock(runtime, started_at + timedelta(hours=1, minutes=1), ADMIN)
    assert instance_detail.instance_detail(runtime, ADMIN, instance_id).summary.status == "completed"


def test_datetime_in_scripts_is_bounded_as_before() -> None:
    clocked = make_helpers("Europe/Rome")["datetime"]
    value = clocked.fromisoformat("2026-01-05T08:00:00")  # an instance of the clocked class itself
    assert guarded_getattr(value, "isoformat")() == "2026-01-05T08:00:00"
    with pytest.raises(ScriptRefused, match="is not available in scripts"):
        guarded_getattr(value, "utcfromtimestamp")  # not among datetime's allowed methods
