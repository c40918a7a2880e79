"""Two operators completing the same task at the same moment: one wins, the other is told."""

from __future__ import annotations

import threading

from gol_workflow.bootstrap import bootstrap
from gol_workflow.domain.errors import Conflict
from gol_workflow.domain.model import Actor
from gol_workflow.services.workflow import instances as instance_service
from gol_workflow.services.workflow import tasks as task_service
from gol_workflow.services.workflow.instances import read_workflow
from gol_workflow.services.workflow.runtime import Runtime
from tests.conftest import ADMIN

CPI_A = Actor(username="mario.rossi", role="cpi", zones=frozenset({"pistoiese"}))
CPI_B = Actor(username="luca.verdi", role="cpi", zones=frozenset({"pistoiese"}))


def _complete_at_once(task_id: str, *attempts: tuple[Runtime, Actor, str]) -> list[str]:
    """Each (runtime, operator, note) completes the task on its own thread, all released together."""
    barrier = threading.Barrier(len(attempts))
    outcomes: list[str] = []

    def complete(rt: Runtime, actor: Actor, note: str) -> None:
        barrier.wait()
        try:
            task_service.complete_task(rt, task_id, {"nota": note}, actor)
            outcomes.append("ok")
        except Conflict as exc:
            outcomes.append(f"conflict: {exc.message}")

    threads = [threading.Thread(target=complete, args=attempt) for attempt in attempts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def _assert_completed_once(rt: Runtime, instance_id: str, outcomes: list[str]) -> None:
    assert sorted(outcomes)[1:] == ["ok"] and sorted(outcomes)[0].startswith("conflict: "), outcomes
    with rt.uow(write=False) as uow:
        names = [t["name"] for t in uow.inbox.for_instance(instance_id)]
        completions = [e for e in uow.audit.for_instance(instance_id) if e["action"] == "task.completed"]
    assert names == ["Passo 2"]
    assert len(completions) == 1


def test_concurrent_completions_give_one_success_and_one_conflict(test_processes: Runtime, settings, clock) -> None:
    # Two runtimes = two web workers, each with its own connection pool and workflow cache.
    worker_a, worker_b = test_processes, bootstrap(settings, clock=clock)
    try:
        for _ in range(15):
            instance_id = instance_service.start_instance(worker_a, "five_steps", {"zona": "pistoiese"}, ADMIN).instance_id
            with worker_a.uow(write=False) as uow:
                task_id = uow.inbox.for_instance(instance_id)[0]["id"]
            # Both workers have the workflow warm, as after showing the task page to both operators.
            for rt in (worker_a, worker_b):
                with rt.uow(write=False) as uow:
                    read_workflow(rt, uow, instance_id, lambda loaded: None)
            outcomes = _complete_at_once(task_id, (worker_a, CPI_A, "da A"), (worker_b, CPI_B, "da B"))
            _assert_completed_once(worker_a, instance_id, outcomes)
    finally:
        worker_b.db.dispose()


def test_a_double_submission_in_one_process_completes_the_task_once(test_processes: Runtime) -> None:
    # Two requests for the same task reach the same web process at once (a double click):
    # both find the task in the process's memory and work from it.
    rt = test_processes
    for _ in range(15):
        started = instance_service.start_instance(rt, "five_steps", {"zona": "pistoiese"}, ADMIN)
        task_id = started.next_tasks[0]["id"]
        assert rt.workflows.known_task(task_id) is not None
        outcomes = _complete_at_once(task_id, (rt, CPI_A, "primo"), (rt, CPI_A, "secondo"))
        _assert_completed_once(rt, started.instance_id, outcomes)
