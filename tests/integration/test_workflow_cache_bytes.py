"""The workflow cache of a process holds at most GOL_WORKFLOW_CACHE_MB of serialised state: big cases push out the oldest."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from gol_workflow.bootstrap import bootstrap
from gol_workflow.config import Settings
from gol_workflow.services.workflow import instances as instance_service
from gol_workflow.services.workflow import tasks as task_service
from gol_workflow.services.workflow.runtime import Runtime
from tests.conftest import ADMIN, DATA, deploy_dir

BOUND_MB = 0.25  # 262,144 characters of state: two of the cases below, not three


@pytest.fixture
def small_cache(settings: Settings, clock) -> Iterator[Runtime]:
    """A service whose cache may hold 512 workflows but only a quarter of a megabyte of state."""
    rt = bootstrap(replace(settings, workflow_cache_size=512, workflow_cache_mb=BOUND_MB), clock=clock)
    deploy_dir(rt, DATA / "processes", DATA / "forms")
    yield rt
    rt.db.dispose()


def _start_big(rt: Runtime, characters: int) -> tuple[str, str]:
    data = {"zona": "pistoiese", "allegato_testo": "x" * characters}
    result = instance_service.start_instance(rt, "five_steps", data, ADMIN)
    return result.instance_id, result.next_tasks[0]["id"]


def _state_size(rt: Runtime, instance_id: str) -> int:
    with rt.uow(write=False) as uow:
        return len(uow.instances.state(instance_id) or "")


def test_big_cases_are_evicted_by_bytes_long_before_the_entry_count(small_cache: Runtime) -> None:
    rt = small_cache
    first, first_task = _start_big(rt, 100_000)
    second, second_task = _start_big(rt, 100_000)
    held, weight = rt.workflows.weight
    assert held == 2 and weight == _state_size(rt, first) + _state_size(rt, second)
    assert rt.workflows.known_task(first_task) is not None

    third, third_task = _start_big(rt, 100_000)
    held, weight = rt.workflows.weight
    assert held == 2 and weight <= BOUND_MB * 1024 * 1024
    assert rt.workflows.known_task(first_task) is None  # the least recently used went, with 509 places free
    assert rt.workflows.known_task(second_task) is not None and rt.workflows.known_task(third_task) is not None

    # The evicted case still works, from the database, and comes back into the cache.
    done = task_service.complete_task(rt, first_task, {"nota": "ok"}, ADMIN)
    held, weight = rt.workflows.weight
    assert held == 2 and weight <= BOUND_MB * 1024 * 1024
    assert rt.workflows.known_task(done.next_tasks[0]["id"]) is not None  # back in the cache
    assert rt.workflows.known_task(second_task) is None  # and the least recently used went


def test_a_case_heavier_than_the_whole_bound_is_never_kept(small_cache: Runtime) -> None:
    rt = small_cache
    _small, small_task = _start_big(rt, 1_000)
    _huge, huge_task = _start_big(rt, 300_000)
    assert rt.workflows.known_task(huge_task) is None
    assert rt.workflows.known_task(small_task) is not None  # it did not push out what fits
    task_service.complete_task(rt, huge_task, {"nota": "ok"}, ADMIN)
    assert rt.workflows.weight[0] == 1
