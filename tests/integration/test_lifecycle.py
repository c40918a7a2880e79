"""Instances through the service layer, persisted at every step."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from gol_workflow.domain.errors import Conflict, Forbidden, NotFound, ValidationFailed
from gol_workflow.domain.model import Actor
from gol_workflow.persistence.tables import audit_events, instances, tasks
from gol_workflow.services.workflow import instances as instance_service
from gol_workflow.services.integrations import messages
from gol_workflow.services.workflow import tasks as task_service, timers
from gol_workflow.services.workflow.runtime import Runtime
from tests.conftest import ADMIN

CPI = Actor(username="mario.rossi", role="cpi", zones=frozenset({"pistoiese"}))
OTHER_ZONE = Actor(username="anna.bianchi", role="cpi", zones=frozenset({"valdinievole"}))


def ready_tasks(rt: Runtime, instance_id: str) -> list[dict]:
    with rt.uow(write=False) as uow:
        return [dict(r) for r in uow.inbox.for_instance(instance_id)]


def header(rt: Runtime, instance_id: str) -> dict:
    with rt.uow(write=False) as uow:
        row = uow.instances.header(instance_id)
        assert row is not None
        return dict(row)


def complete_all(rt: Runtime, instance_id: str, actor: Actor = CPI) -> int:
    done = 0
    while ready := ready_tasks(rt, instance_id):
        task_service.complete_task(rt, ready[0]["id"], {"nota": f"passo {done}"}, actor)
        done += 1
    return done


def test_five_steps_run_to_completion_with_inbox_and_audit(test_processes: Runtime) -> None:
    rt = test_processes
    instance_id = instance_service.start_instance(rt, "five_steps", {"zona": "pistoiese"}, ADMIN).instance_id
    first = ready_tasks(rt, instance_id)
    assert [t["name"] for t in first] == ["Passo 1"]
    assert first[0]["zone"] == "pistoiese" and first[0]["lane"] == "CPI"
    assert first[0]["due_at"] == first[0]["created_at"] + timedelta(days=2)
    assert complete_all(rt, instance_id) == 5
    row = header(rt, instance_id)
    assert row["status"] == "completed" and row["ended_at"] is not None and row["next_due_at"] is None
    with rt.uow(write=False) as uow:
        actions = [r["action"] for r in uow.audit.for_instance(instance_id)]
        assert actions.count("task.completed") == 5
        assert actions[0] == "instance.started"
        assert uow.conn.execute(select(func.count()).select_from(tasks)).scalar() == 0


def test_a_start_answers_with_the_tasks_ready_as_a_completion_does(test_processes: Runtime) -> None:
    rt = test_processes
    started = instance_service.start_instance(rt, "five_steps", {"zona": "pistoiese"}, ADMIN)
    assert started.status == "running"
    assert [(t["id"], t["name"], t["lane"]) for t in started.next_tasks] == [
        (t["id"], t["name"], t["lane"]) for t in ready_tasks(rt, started.instance_id)
    ]
    done = task_service.complete_task(rt, started.next_tasks[0]["id"], {"nota": "ok"}, CPI)
    assert [t["name"] for t in done.next_tasks] == ["Passo 2"]


def test_state_survives_a_cold_cache(test_processes: Runtime) -> None:
    rt = test_processes
    instance_id = instance_service.start_instance(rt, "five_steps", {"zona": "pistoiese"}, ADMIN).instance_id
    for _ in range(2):
        rt.workflows.clear()
        task = ready_tasks(rt, instance_id)[0]
        task_service.complete_task(rt, task["id"], {"nota": "ok"}, CPI)
    assert [t["name"] for t in ready_tasks(rt, instance_id)] == ["Passo 3"]


def test_invalid_form_data_is_refused_and_nothing_changes(test_processes: Runtime) -> None:
    rt = test_processes
    instance_id = instance_service.start_instance(rt, "five_steps", {"zona": "pistoiese"}, ADMIN).instance_id
    task = ready_tasks(rt, instance_id)[0]
    before = header(rt, instance_id)
    with pytest.raises(ValidationFailed) as exc:
        task_service.complete_task(rt, task["id"], {"nota": "x" * 500, "intruso": 1}, CPI)
    assert exc.value.errors == {
        "intruso": ["Campo non previsto dal modulo."],
        "nota": ["Inserire al massimo 200 caratteri."],
    }
    assert header(rt, instance_id)["row_version"] == before["row_version"]
    assert ready_tasks(rt, instance_id)[0]["id"] == task["id"]


def test_second_completion_is_a_conflict(test_processes: Runtime) -> None:
    rt = test_processes
    instance_id = instance_service.start_instance(rt, "five_steps", {"zona": "pistoiese"}, ADMIN).instance_id
    task = ready_tasks(rt, instance_id)[0]
    task_service.complete_task(rt, task["id"], {}, CPI)
    with pytest.raises(Conflict, match="already completed"):
        task_service.complete_task(rt, task["id"], {}, CPI)


def test_operator_of_another_zone_cannot_complete(test_processes: Runtime) -> None:
    rt = test_processes
    instance_id = instance_service.start_instance(rt, "five_steps", {"zona": "pistoiese"}, ADMIN).instance_id
    task = ready_tasks(rt, instance_id)[0]
    with pytest.raises(NotFound):  # as if it did not exist
        task_service.complete_task(rt, task["id"], {}, OTHER_ZONE)


def test_claim_blocks_colleagues_until_released(test_processes: Runtime) -> None:
    rt = test_processes
    colleague = Actor(username="luca.verdi", role="cpi", zones=frozenset({"pistoiese"}))
    instance_id = instance_service.start_instance(rt, "five_steps", {"zona": "pistoiese"}, ADMIN).instance_id
    task = ready_tasks(rt, instance_id)[0]
    task_service.claim(rt, task["id"], CPI)
    with pytest.raises(Conflict, match="mario.rossi"):
        task_service.claim(rt, task["id"], colleague)
    with pytest.raises(Conflict):
        task_service.complete_task(rt, task["id"], {}, colleague)
    with pytest.raises(Forbidden):
        task_service.unclaim(rt, task["id"], colleague)
    task_service.unclaim(rt, task["id"], CPI)
    task_service.complete_task(rt, task["id"], {}, colleague)


def test_timer_fires_when_due_and_not_before(test_processes: Runtime, clock) -> None:
    rt = test_processes
    instance_id = instance_service.start_instance(rt, "timer_wait", {"zona": "pistoiese"}, ADMIN).instance_id
    row = header(rt, instance_id)
    assert row["status"] == "waiting"
    assert row["next_due_at"] == clock.now() + timedelta(days=2)
    clock.advance(timedelta(days=1))
    assert timers.run_due_timers(rt) == 0
    clock.advance(timedelta(days=1, seconds=1))
    assert timers.run_due_timers(rt) == 1
    assert [t["name"] for t in ready_tasks(rt, instance_id)] == ["Dopo l'attesa"]
    assert header(rt, instance_id)["next_due_at"] is None
    assert timers.run_due_timers(rt) == 0


def test_message_between_instances_and_buffering(test_processes: Runtime) -> None:
    rt = test_processes
    early = instance_service.start_instance(rt, "message_send", {"destinatario": "caso-42"}, ADMIN).instance_id
    with rt.uow(write=False) as uow:
        assert uow.instances.header(early)["status"] == "completed"
    waiting = instance_service.start_instance(
        rt, "message_wait", {"zona": "pistoiese", "case_id": "caso-42"}, ADMIN
    ).instance_id
    # The message sent before anyone waited is delivered as soon as the instance waits for it.
    assert [t["name"] for t in ready_tasks(rt, waiting)] == ["Dopo la conferma"]
    other = instance_service.start_instance(rt, "message_wait", {"zona": "pistoiese", "case_id": "caso-7"}, ADMIN).instance_id
    assert header(rt, other)["status"] == "waiting"
    result = messages.send_message(rt, "conferma", {"case_id": "caso-7"}, {"case_id": "caso-7", "esito": "ok"}, ADMIN)
    assert result.delivered_to == other
    assert [t["name"] for t in ready_tasks(rt, other)] == ["Dopo la conferma"]


def test_script_error_keeps_input_and_retry_after_fix(test_processes: Runtime) -> None:
    rt = test_processes
    calls: list[float] = []
    rt.connectors["test_registra"] = lambda call: calls.append(call.params["valore"]) or {"ok": True}
    instance_id = instance_service.start_instance(rt, "script_error", {"zona": "pistoiese"}, ADMIN).instance_id
    task = ready_tasks(rt, instance_id)[0]
    task_service.complete_task(rt, task["id"], {"divisore": 0}, CPI)
    row = header(rt, instance_id)
    assert row["status"] == "error"
    assert row["error"]["element_id"] == "e_compute"
    assert row["error"]["line"] == 2
    assert "division by zero" in row["error"]["message"]
    assert ready_tasks(rt, instance_id) == []
    with pytest.raises(Forbidden):
        instance_service.retry(rt, instance_id, CPI)
    instance_service.retry(rt, instance_id, ADMIN)  # still failing: same error, nothing lost
    assert header(rt, instance_id)["status"] == "error"
    assert calls == []


def test_connector_failure_is_retried_automatically_then_left_for_admin(test_processes: Runtime, clock) -> None:
    rt = test_processes
    attempts: list[int] = []

    def flaky(call):
        attempts.append(1)
        if len(attempts) < 3:
            raise ConnectionError("IDOL non raggiungibile")
        return {"protocollo": "X1"}

    rt.connectors["test_registra"] = flaky
    instance_id = instance_service.start_instance(rt, "script_error", {"zona": "pistoiese"}, ADMIN).instance_id
    task_service.complete_task(rt, ready_tasks(rt, instance_id)[0]["id"], {"divisore": 4}, CPI)
    row = header(rt, instance_id)
    assert row["status"] == "error" and row["error"]["retryable"] and row["next_due_at"] is not None
    clock.advance(timedelta(minutes=2))
    assert timers.run_due_timers(rt) == 1
    assert header(rt, instance_id)["status"] == "error"
    clock.advance(timedelta(minutes=6))
    timers.run_due_timers(rt)
    assert header(rt, instance_id)["status"] == "running"
    assert [t["name"] for t in ready_tasks(rt, instance_id)] == ["Controlla la quota"]
    assert len(attempts) == 3


def test_suspend_stops_timers_and_resume_fires_them(test_processes: Runtime, clock) -> None:
    rt = test_processes
    instance_id = instance_service.start_instance(rt, "timer_wait", {"zona": "pistoiese"}, ADMIN).instance_id
    instance_service.suspend(rt, instance_id, ADMIN, "verifica")
    clock.advance(timedelta(days=3))
    assert timers.run_due_timers(rt) == 0
    instance_service.resume(rt, instance_id, ADMIN)
    assert [t["name"] for t in ready_tasks(rt, instance_id)] == ["Dopo l'attesa"]


def test_terminate_clears_the_inbox(test_processes: Runtime) -> None:
    rt = test_processes
    instance_id = instance_service.start_instance(rt, "five_steps", {"zona": "pistoiese"}, ADMIN).instance_id
    instance_service.terminate(rt, instance_id, ADMIN, "errore di apertura")
    assert ready_tasks(rt, instance_id) == []
    assert header(rt, instance_id)["status"] == "terminated"
    with rt.uow(write=False) as uow:
        count = uow.conn.execute(
            select(func.count()).select_from(audit_events).where(audit_events.c.action == "instance.terminated")
        ).scalar()
        assert count == 1
        assert uow.conn.execute(select(instances.c.status)).scalar() == "terminated"
