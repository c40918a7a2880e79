"""A web process completes the tasks it put in the inbox without reading them back, but what
another process did since always wins: nothing is done twice or against a newer state."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from gol_workflow.bootstrap import bootstrap
from gol_workflow.domain.errors import TaskAlreadyCompleted, TaskHeldByOther
from gol_workflow.domain.model import Actor
from gol_workflow.persistence.inbox import InboxRepository
from gol_workflow.services.workflow import instances as instance_service
from gol_workflow.services.workflow import tasks as task_service
from gol_workflow.services.workflow import timers
from gol_workflow.services.workflow.runtime import Runtime
from gol_workflow.services.integrations.message_buffer import CASE_PROPERTY, DROPPED
from tests.conftest import ADMIN, DATA, assert_cache_matches_database, deploy_dir

CPI_A = Actor(username="mario.rossi", role="cpi", zones=frozenset({"pistoiese"}))
CPI_B = Actor(username="luca.verdi", role="cpi", zones=frozenset({"pistoiese"}))


@pytest.fixture
def other_process(test_processes: Runtime, settings, clock) -> Iterator[Runtime]:
    """A second web process on the same database, with its own connections and memory."""
    rt = bootstrap(settings, clock=clock)
    rt.connectors.update(test_processes.connectors)
    assert_cache_matches_database(rt)
    yield rt
    rt.db.dispose()


def _start(rt: Runtime, process_id: str) -> tuple[str, str]:
    result = instance_service.start_instance(rt, process_id, {"zona": "pistoiese"}, ADMIN)
    return result.instance_id, result.next_tasks[0]["id"]


def _completions(rt: Runtime, instance_id: str) -> list[str | None]:
    with rt.uow(write=False) as uow:
        return [e["task_id"] for e in uow.audit.for_instance(instance_id) if e["action"] == "task.completed"]


def test_the_process_that_made_a_task_completes_it_without_reading_it_back(
    test_processes: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt = test_processes
    instance_id, task_id = _start(rt, "five_steps")
    assert rt.workflows.known_task(task_id) is not None
    reads: list[str] = []
    plain = InboxRepository.get_with_instance

    def counted(self: InboxRepository, found_id: str) -> tuple[dict, dict] | None:
        reads.append(found_id)
        return plain(self, found_id)

    monkeypatch.setattr(InboxRepository, "get_with_instance", counted)
    result = task_service.complete_task(rt, task_id, {"nota": "ok"}, CPI_A)
    assert task_id not in reads  # (the tests' cache check reads back only the next task)
    assert result.next_tasks and result.next_tasks[0]["name"] == "Passo 2"
    assert _completions(rt, instance_id) == [task_id]


def test_a_task_claimed_in_another_process_stays_with_whoever_claimed_it(
    test_processes: Runtime, other_process: Runtime
) -> None:
    instance_id, task_id = _start(test_processes, "five_steps")
    task_service.claim(other_process, task_id, CPI_B)
    with pytest.raises(TaskHeldByOther) as held:
        task_service.complete_task(test_processes, task_id, {"nota": "ok"}, CPI_A)
    assert held.value.assignee == CPI_B.username
    assert _completions(test_processes, instance_id) == []
    # The one who claimed it completes it, from either process.
    task_service.complete_task(test_processes, task_id, {"nota": "ok"}, CPI_B)
    assert _completions(test_processes, instance_id) == [task_id]


def test_a_task_completed_in_another_process_is_not_completed_again(
    test_processes: Runtime, other_process: Runtime
) -> None:
    instance_id, task_id = _start(test_processes, "five_steps")
    task_service.complete_task(other_process, task_id, {"nota": "da B"}, CPI_B)
    with pytest.raises(TaskAlreadyCompleted) as done:
        task_service.complete_task(test_processes, task_id, {"nota": "da A"}, CPI_A)
    assert done.value.by == CPI_B.username and done.value.at is not None
    assert _completions(test_processes, instance_id) == [task_id]
    with test_processes.uow(write=False) as uow:
        assert [t["name"] for t in uow.inbox.for_instance(instance_id)] == ["Passo 2"]
        assert uow.instances.header(instance_id)["row_version"] == 2


def test_a_connector_is_not_called_for_a_step_another_process_already_took(
    test_processes: Runtime, other_process: Runtime
) -> None:
    calls: list[float] = []
    for rt in (test_processes, other_process):
        rt.connectors["test_registra"] = lambda call: calls.append(call.params["valore"]) or {"ok": True}
    instance_id, task_id = _start(test_processes, "script_error")
    task_service.complete_task(other_process, task_id, {"divisore": 4}, CPI_B)
    assert calls == [25.0]
    with pytest.raises(TaskAlreadyCompleted):
        task_service.complete_task(test_processes, task_id, {"divisore": 5}, CPI_A)
    assert calls == [25.0]
    assert _completions(test_processes, instance_id) == [task_id]


def test_a_case_that_ends_from_memory_still_drops_the_messages_kept_for_it(test_processes: Runtime) -> None:
    rt = test_processes
    instance_id, task_id = _start(rt, "five_steps")
    for _ in range(4):
        task_id = task_service.complete_task(rt, task_id, {"nota": "ok"}, CPI_A).next_tasks[0]["id"]
    with rt.uow() as uow:  # a message sent to the case, that nothing in it will wait for
        uow.instances.buffer_message({"name": "esito_colloquio", "correlation": f"{CASE_PROPERTY}={instance_id}",
                                      "payload": {"esito": "ok"}, "sender_instance_id": None, "created_at": rt.now()})
        uow.commit()
    assert rt.workflows.known_task(task_id) is not None
    assert task_service.complete_task(rt, task_id, {"nota": "ok"}, CPI_A).status == "completed"
    with rt.uow(write=False) as uow:
        assert not uow.case_search.has_loose_ends(instance_id, f"{CASE_PROPERTY}={instance_id}", rt.now())
        dropped = [e["data"]["message"] for e in uow.audit.for_instance(instance_id) if e["action"] == DROPPED]
    assert dropped == ["esito_colloquio"]
    assert len(_completions(rt, instance_id)) == 5


def test_a_task_remembered_here_after_another_process_fired_its_timer_keeps_what_the_timer_did(
    runtime: Runtime, other_process: Runtime, clock
) -> None:
    """Another process fires a reminder timer on the case; this process's remembered workflow is then older
    than the row, so the completion must work from the database, keeping the reminder and firing it once."""
    deploy_dir(runtime, DATA / "processes-reminder", DATA / "forms")
    instance_id, task_id = _start(runtime, "reminder_task")
    assert runtime.workflows.known_task(task_id) is not None  # this process remembers the case as it left it
    clock.advance(timedelta(days=1, minutes=1))
    assert timers.run_due_timers(other_process) == 1
    result = task_service.complete_task(runtime, task_id, {"nota": "ok"}, CPI_A)
    assert result.status == "completed"
    with runtime.uow(write=False) as uow:
        data = instance_service.read_workflow(runtime, uow, instance_id, lambda loaded: dict(loaded.handle.data()))
        header = uow.instances.header(instance_id)
    assert data.get("promemoria") is True  # what the timer's branch recorded is still there
    assert header["next_due_at"] is None  # and its timer is not waiting to fire a second time
    assert timers.run_due_timers(runtime) == 0
    assert _completions(runtime, instance_id) == [task_id]
