"""A deployed process whose code would run unbounded fails its step in seconds; the runtime keeps serving."""

from __future__ import annotations

import time

import pytest

from gol_workflow.domain.errors import DeploymentFailed
from gol_workflow.services.workflow import instances as instance_service
from gol_workflow.services.workflow.runtime import Runtime
from tests.conftest import ADMIN, DATA, deploy_dir
from tests.integration.test_lifecycle import header

RUNS = DATA / "sandbox" / "runs"
REFUSED = DATA / "sandbox" / "refused"


@pytest.fixture
def sandbox_processes(runtime: Runtime) -> Runtime:
    """The runtime with the sandbox test processes deployed."""
    deploy_dir(runtime, RUNS, DATA / "forms")
    return runtime


def test_a_script_summing_a_huge_range_puts_its_instance_in_error_and_the_next_case_runs(
    sandbox_processes: Runtime,
) -> None:
    rt = sandbox_processes
    started = time.monotonic()
    stuck = instance_service.start_instance(rt, "script_hog", {}, ADMIN)
    assert time.monotonic() - started < rt.settings.script_time_limit + 3
    row = header(rt, stuck.instance_id)
    assert row["status"] == "error"
    assert row["error"]["element_id"] == "h_script"
    assert row["error"]["message"] == "script stopped: it ran for more than 2 s (time limit)"
    assert row["error"]["line"] == 2

    started = time.monotonic()
    normal = instance_service.start_instance(
        rt, "script_ok", {"nomi": ["Rossi", "Bianchi"], "ore": [3, 4]}, ADMIN
    )
    assert time.monotonic() - started < 1
    assert header(rt, normal.instance_id)["status"] == "completed"


def test_a_condition_building_a_huge_string_stops_with_a_clear_message(sandbox_processes: Runtime) -> None:
    rt = sandbox_processes
    started = time.monotonic()
    stuck = instance_service.start_instance(rt, "condition_hog", {}, ADMIN)
    assert time.monotonic() - started < 3
    row = header(rt, stuck.instance_id)
    assert row["status"] == "error"
    assert row["error"]["message"].startswith(
        "script stopped: it would build a string of 1,000,000,000 characters (limit 10,000,000)"
    )


def test_deploy_refuses_a_script_that_imports_a_module(runtime: Runtime) -> None:
    with pytest.raises(DeploymentFailed) as failed:
        deploy_dir(runtime, REFUSED, DATA / "forms")
    shown = [str(problem) for problem in failed.value.problems]
    assert shown == [
        "sandbox_escape.bpmn:9: x_script: script: import is not available in scripts: no module can be loaded "
        "(datetime, date, timedelta, add_days, add_months, at_local_time, today and now_iso are already there)"
    ]
    with runtime.uow(write=False) as uow:
        assert uow.versions.latest("sandbox_escape") is None
