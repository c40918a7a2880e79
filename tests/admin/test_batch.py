"""Batch operations over a filtered set: stored first, worked off in passes, one result per instance."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import update

from gol_workflow.domain.errors import Forbidden, ValidationFailed
from gol_workflow.domain.model import Actor
from gol_workflow.persistence.tables import batch_jobs
from gol_workflow.scheduler import Scheduler, SchedulerOptions
from gol_workflow.services.administration import batch
from gol_workflow.services.workflow import instances as instance_service
from gol_workflow.services.administration.instance_queries import InstanceFilters
from tests.conftest import ADMIN

from .conftest import complete, deploy_xml, header, original_xml, start
from .test_migration import with_added_task, without_raccolta


@pytest.fixture
def five(admin_rt) -> list[str]:
    """Five running instances in zone nord, one of them already suspended, and one in zone sud."""
    ids = [start(admin_rt, nome=f"Persona{n}", first15=f"PRSPRS80A{n + 1:02d}G713") for n in range(5)]
    batch.run_batches(admin_rt)
    start(admin_rt, zone="valdinievole", nome="Altra", first15="LTRLTR80A01G713")
    instance_service.suspend(admin_rt, ids[4], ADMIN, "prima")
    return ids


def test_a_batch_suspends_the_filtered_instances_and_reports_each_one(admin_rt, five) -> None:
    batch_id = batch.start_batch(admin_rt, ADMIN, "suspend", InstanceFilters(zone="pistoiese"), reason="manutenzione")
    view = batch.batch_view(admin_rt, ADMIN, batch_id)
    assert view.job["status"] == "queued" and view.job["total"] == 5 and view.counts["pending"] == 5

    assert batch.run_batches(admin_rt, budget=30) == 5
    view = batch.batch_view(admin_rt, ADMIN, batch_id)
    assert view.job["status"] == "finished" and view.percent == 100
    assert view.counts == {"pending": 0, "ok": 4, "failed": 1, "skipped": 0}
    assert view.job["results"] == {"ok": 4, "failed": 1, "skipped": 0}
    failed = [i for i in view.items if i["status"] == "failed"]
    assert [(i["instance_id"], i["code"]) for i in failed] == [(five[4], "invalid_state")]
    assert all(header(admin_rt, i)["status"] == "suspended" for i in five)
    assert batch.run_batches(admin_rt) == 0  # nothing left


def test_a_batch_survives_an_interruption_and_carries_on_where_it_stopped(admin_rt, five) -> None:
    batch_id = batch.start_batch(admin_rt, ADMIN, "terminate", InstanceFilters(statuses=("running",)),
                                 reason="doppioni")
    assert batch.run_batches(admin_rt, budget=0) == 1  # one item, then the pass ran out of time
    with admin_rt.uow() as uow:  # a worker died holding the lease: it expires
        uow.conn.execute(update(batch_jobs).values(lease_until=None, status="running"))
        uow.commit()
    batch.run_batches(admin_rt, budget=30)
    view = batch.batch_view(admin_rt, ADMIN, batch_id)
    assert view.job["status"] == "finished" and view.counts["ok"] == 5  # 4 in nord, 1 in sud, each once


def test_a_batch_migration_moves_what_it_can_and_says_why_not_for_the_others(admin_rt) -> None:
    at_start = start(admin_rt)  # still on "Raccolta dati"
    past = start(admin_rt, nome="Gino", first15="RSSGNI70A01G713")
    complete(admin_rt, past, "raccolta", {"divisore": 2})
    v2 = deploy_xml(admin_rt, without_raccolta(original_xml()))
    with pytest.raises(ValidationFailed):  # a migration needs its process chosen
        batch.start_batch(admin_rt, ADMIN, "migrate", InstanceFilters(), reason="x", target_version_id=v2)
    batch_id = batch.start_batch(admin_rt, ADMIN, "migrate", InstanceFilters(process_id="pratica_admin"),
                                 reason="semplificazione", target_version_id=v2)
    batch.run_batches(admin_rt, budget=30)
    items = {i["instance_id"]: i for i in batch.batch_view(admin_rt, ADMIN, batch_id).items}
    assert items[past]["code"] == "refused"
    assert items[past]["details"][0]["kind"] == "removed_ran"
    assert items[past]["details"][0]["element_name"] == "Raccolta dati"
    assert items[at_start]["code"] == "refused"  # it stands on the removed task

    v3 = deploy_xml(admin_rt, with_added_task(original_xml()))
    again = batch.start_batch(admin_rt, ADMIN, "migrate", InstanceFilters(process_id="pratica_admin", version=1),
                              reason="nuovo controllo", target_version_id=v3)
    batch.run_batches(admin_rt, budget=30)
    assert batch.batch_view(admin_rt, ADMIN, again).counts["ok"] == 2
    assert {header(admin_rt, i)["process_version_id"] for i in (at_start, past)} == {v3}


def test_cancelling_skips_what_is_left_and_bad_requests_are_refused(admin_rt, five) -> None:
    batch_id = batch.start_batch(admin_rt, ADMIN, "resume", InstanceFilters(statuses=("suspended",)))
    assert batch.cancel_batch(admin_rt, ADMIN, batch_id) == 1
    assert batch.run_batches(admin_rt) == 0
    view = batch.batch_view(admin_rt, ADMIN, batch_id)
    assert view.job["status"] == "cancelled" and view.counts["skipped"] == 1
    with pytest.raises(ValidationFailed):
        batch.start_batch(admin_rt, ADMIN, "suspend", InstanceFilters(zone="pistoiese"))  # no reason
    with pytest.raises(ValidationFailed):
        batch.start_batch(admin_rt, ADMIN, "explode", InstanceFilters())
    with pytest.raises(ValidationFailed):
        batch.start_batch(admin_rt, ADMIN, "retry", InstanceFilters(zone="nessuna"))
    with pytest.raises(Forbidden):
        batch.start_batch(admin_rt, Actor("a", "analyst"), "retry", InstanceFilters())


def test_a_running_scheduler_works_the_batch_off(admin_rt, five) -> None:
    batch_id = batch.start_batch(admin_rt, ADMIN, "suspend", InstanceFilters(statuses=("running",)), reason="notte")
    scheduler = Scheduler(admin_rt, SchedulerOptions(poll_seconds=0.2, heartbeat_seconds=5, plan_seconds=3600))
    scheduler.start()
    try:
        deadline = time.monotonic() + 30
        while batch.batch_view(admin_rt, ADMIN, batch_id).open and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        scheduler.stop()
    view = batch.batch_view(admin_rt, ADMIN, batch_id)
    assert view.job["status"] == "finished" and view.counts["ok"] == 5
