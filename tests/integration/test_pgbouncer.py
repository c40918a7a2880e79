"""Through PgBouncer in transaction pooling mode: row locks, conflicts and timer claims still hold, connections stay few."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta

import pytest

from benchmarks.pgbouncer import ServerConnections, pgbouncer
from gol_workflow.bootstrap import bootstrap
from gol_workflow.config import Settings
from gol_workflow.services.workflow import instances as instance_service
from gol_workflow.services.workflow import timers
from gol_workflow.services.workflow.runtime import Runtime
from tests.conftest import ADMIN, DATA, PG_POOLER, deploy_dir, on_postgres
from tests.integration.test_concurrency import CPI_A, CPI_B, _assert_completed_once, _complete_at_once

POOL_SIZE = 2

pytestmark = pytest.mark.skipif(not on_postgres() or PG_POOLER == "transaction",
                                reason="PgBouncer in front of PostgreSQL (started here): PostgreSQL only")


@pytest.fixture
def pooled(settings: Settings, clock) -> tuple[Settings, list[Runtime]]:
    """Two web workers' runtimes reaching the test database through a PgBouncer of two server connections."""
    with pgbouncer(settings.database_url, pool_size=POOL_SIZE) as url:
        through = replace(settings, database_url=url, database_pooler="transaction", embedded_scheduler=False)
        workers = [bootstrap(through, clock=clock), bootstrap(through, clock=clock)]
        try:
            yield through, workers
        finally:
            for rt in workers:
                rt.db.dispose()


def test_two_workers_through_pgbouncer_complete_a_task_once_and_fire_each_timer_once(pooled, settings, clock) -> None:
    _, (worker_a, worker_b) = pooled
    deploy_dir(worker_a, DATA / "processes", DATA / "forms")
    with ServerConnections(settings.database_url, every=0.05) as seen:
        # More rounds than psycopg's prepare threshold: a statement prepared on one server session and
        # run on another would fail here.
        for _ in range(8):
            instance_id = instance_service.start_instance(worker_a, "five_steps", {"zona": "pistoiese"}, ADMIN).instance_id
            with worker_a.uow(write=False) as uow:
                task_id = uow.inbox.for_instance(instance_id)[0]["id"]
            outcomes = _complete_at_once(task_id, (worker_a, CPI_A, "da A"), (worker_b, CPI_B, "da B"))
            _assert_completed_once(worker_a, instance_id, outcomes)

        waiting = [instance_service.start_instance(worker_a, "timer_wait", {"zona": "pistoiese"}, ADMIN).instance_id
                   for _ in range(40)]
        clock.advance(timedelta(days=3))
        with ThreadPoolExecutor(2) as pool:  # an error in either worker fails the test
            fired = list(pool.map(timers.run_due_timers, (worker_a, worker_b)))

    assert sum(fired) == len(waiting)
    with worker_a.uow(write=False) as uow:
        for instance_id in waiting:
            events = [e for e in uow.audit.for_instance(instance_id) if e["action"] == "timer.fired"]
            assert len(events) == 1, instance_id
    assert 0 < seen.most <= POOL_SIZE
