"""Real `gol-workflow scheduler` processes: two at once fire 1,000 timers exactly once; a kill -9 loses nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlalchemy import select as sql_select

from gol_workflow.persistence.tables import instances, tasks
from gol_workflow.services.workflow import instances as instance_service
from gol_workflow.services.administration import scheduling
from gol_workflow.services.workflow.runtime import Runtime
from tests.conftest import ADMIN, ROOT
from tests.integration.scheduling_support import TEST_ZONES, fired_counts, free_port

GOL = Path(sys.executable).parent / "gol-workflow"


def scheduler_env(rt: Runtime, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOL_")}
    env.update(
        GOL_DATABASE_URL=rt.settings.database_url,
        GOL_SECRET_KEY="test-secret-key",
        GOL_VAR_DIR=str(rt.settings.var_dir),
        GOL_ZONES_DIR=str(TEST_ZONES),
        GOL_PROCESSES_DIR=str(ROOT / "tests" / "data" / "processes"),
        GOL_ROLES_FILE=str(ROOT / "processes" / "roles.toml"),
        GOL_CLOCK="system",
        GOL_SMTP_HOST="127.0.0.1",
        GOL_SMTP_PORT=str(free_port()),
        **extra,
    )
    return env


class SchedulerProcess:
    """A `gol-workflow scheduler` subprocess; its output goes to a file (a full pipe would block it)."""

    def __init__(self, rt: Runtime, name: str, **env: str) -> None:
        self.name = name
        self.log = Path(rt.settings.var_dir) / f"scheduler-{name}.log"
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("w") as out:
            self.proc = subprocess.Popen(
                [str(GOL), "scheduler", "--poll", "0.2", "--name", name],
                env=scheduler_env(rt, **env), cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, text=True,
            )

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_for_line(self, prefix: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.output().splitlines():
                if line.startswith(prefix):
                    return line
            time.sleep(0.1)
        raise AssertionError(f"{self.name} never printed {prefix!r}: {self.output()[-2000:]}")

    def terminate(self) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)
        return self.output()

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)


@pytest.fixture
def processes() -> Iterator[list[SchedulerProcess]]:
    started: list[SchedulerProcess] = []
    yield started
    for proc in started:
        if proc.proc.poll() is None:
            proc.kill9()


def overdue_timers(rt: Runtime, clock, count: int) -> list[str]:
    """Instances whose two-day timers fell due a little while ago on the real clock."""
    clock.set(datetime.now(UTC) - timedelta(days=2, minutes=1))
    return [instance_service.start_instance(rt, "timer_wait", {"zona": "nord"}, ADMIN).instance_id for _ in range(count)]


def waiting_count(rt: Runtime) -> int:
    with rt.uow(write=False) as uow:
        return int(uow.conn.execute(sql_select(func.count()).select_from(instances)
                                    .where(instances.c.next_due_at.is_not(None))).scalar_one())


def task_counts(rt: Runtime) -> dict[str, int]:
    with rt.uow(write=False) as uow:
        stmt = sql_select(tasks.c.instance_id, func.count()).group_by(tasks.c.instance_id)
        return {row[0]: int(row[1]) for row in uow.conn.execute(stmt)}


def wait_until(predicate, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.2)


@pytest.mark.slow
def test_two_scheduler_processes_fire_a_thousand_timers_exactly_once(test_processes: Runtime, clock,
                                                                    processes: list[SchedulerProcess]) -> None:
    rt = test_processes
    ids = overdue_timers(rt, clock, 1000)
    assert waiting_count(rt) == 1000
    processes += [SchedulerProcess(rt, "uno"), SchedulerProcess(rt, "due")]
    wait_until(lambda: waiting_count(rt) == 0, timeout=240)
    time.sleep(1.0)  # a duplicate would show up now
    outputs = [proc.terminate() for proc in processes]
    assert fired_counts(rt) == {instance_id: 1 for instance_id in ids}, outputs
    assert task_counts(rt) == {instance_id: 1 for instance_id in ids}
    beats = {row["name"]: row["details"] for row in scheduling.heartbeats(rt)}
    assert set(beats) == {"uno", "due"} and all(b["stopped"] for b in beats.values())
    assert beats["uno"]["timers"] + beats["due"]["timers"] == 1000


@pytest.mark.slow
def test_a_scheduler_killed_between_claim_and_commit_loses_nothing(test_processes: Runtime, clock,
                                                                   processes: list[SchedulerProcess]) -> None:
    rt = test_processes
    ids = overdue_timers(rt, clock, 3)
    # Short lease and step limit, so that the survivor may take over the dead scheduler's claims soon.
    lease = {"GOL_SCHEDULER_LEASE": "4", "GOL_SCHEDULER_STEP_TIMEOUT": "2"}
    doomed = SchedulerProcess(rt, "condannato", GOL_TEST_PAUSE_BEFORE_COMMIT="60", **lease)
    processes.append(doomed)
    line = doomed.wait_for_line("paused before commit:", timeout=60)
    assert line.split(":", 1)[1].split()[0] in ids  # it claimed and fired one, and has not committed
    doomed.kill9()
    assert fired_counts(rt) == {} and waiting_count(rt) == 3 and task_counts(rt) == {}
    survivor = SchedulerProcess(rt, "superstite", **lease)
    processes.append(survivor)
    wait_until(lambda: waiting_count(rt) == 0, timeout=60)
    survivor.terminate()
    assert fired_counts(rt) == {instance_id: 1 for instance_id in ids}
    assert task_counts(rt) == {instance_id: 1 for instance_id in ids}


@pytest.mark.slow
def test_a_running_scheduler_fires_a_timer_shortly_after_it_falls_due(test_processes: Runtime, clock,
                                                                      processes: list[SchedulerProcess]) -> None:
    rt = test_processes
    clock.set(datetime.now(UTC) - timedelta(days=2) + timedelta(seconds=3))
    instance_id = instance_service.start_instance(rt, "timer_wait", {"zona": "nord"}, ADMIN).instance_id
    with rt.uow(write=False) as uow:
        due = uow.instances.header(instance_id)["next_due_at"]
    processes.append(SchedulerProcess(rt, "puntuale"))
    assert fired_counts(rt) == {}
    wait_until(lambda: fired_counts(rt) == {instance_id: 1}, timeout=30)
    with rt.uow(write=False) as uow:
        fired_at = uow.audit.for_instance(instance_id)[-1]["at"]
    assert fired_at > due  # never early; how late is measured by benchmarks/timers.py
