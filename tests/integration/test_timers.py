"""Timers fire once, oldest first, after downtime too, whatever happens to the instances around them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from gol_workflow.persistence.tables import instances
from gol_workflow.scheduler import start_embedded_scheduler
from gol_workflow.services.workflow import instances as instance_service
from gol_workflow.services.meetings import equipe
from gol_workflow.services.workflow import timers
from gol_workflow.services.workflow.due_work import run_due_work
from gol_workflow.services.workflow.runtime import Runtime
from tests.conftest import ADMIN, PG_POOLER
from tests.integration.scheduling_support import (
    audit_actions,
    fired_counts,
    header,
    ready,
    run_cli,
)


def start_timer(rt: Runtime) -> str:
    return instance_service.start_instance(rt, "timer_wait", {"zona": "pistoiese"}, ADMIN).instance_id


def test_after_downtime_every_due_timer_fires_once_oldest_first(test_processes: Runtime, clock) -> None:
    rt = test_processes
    base = clock.now()
    started = []
    for hours in (0, 5, 1, 3):  # created out of order: due two days later at +0h, +5h, +1h, +3h
        clock.set(base + timedelta(hours=hours))
        started.append((start_timer(rt), clock.now()))
    clock.set(clock.now() + timedelta(days=30))  # nothing ran for a month
    assert run_due_work(rt).timers_fired == 4
    order = [e["instance_id"] for e in audit_actions(rt, "timer.fired")]
    by_due = [iid for iid, _ in sorted(started, key=lambda item: item[1])]
    assert order == by_due
    assert fired_counts(rt) == {iid: 1 for iid, _ in started}
    assert run_due_work(rt).timers_fired == 0
    assert all(ready(rt, iid)[0]["name"] == "Dopo l'attesa" for iid, _ in started)


def test_a_broken_instance_does_not_stop_the_others(test_processes: Runtime, clock) -> None:
    rt = test_processes
    ids = [start_timer(rt) for _ in range(5)]
    with rt.uow() as uow:
        uow.conn.execute(update(instances).where(instances.c.id == ids[2]).values(state="{not json"))
        uow.commit()
    rt.workflows.clear()
    clock.set(clock.now() + timedelta(days=3))
    assert timers.run_due_timers(rt) == 4
    assert set(fired_counts(rt)) == set(ids) - {ids[2]}
    broken = header(rt, ids[2])
    assert broken["next_due_at"] == clock.now() + timers.FAILURE_BACKOFF  # retried later, not in a loop
    assert [e["instance_id"] for e in audit_actions(rt, "scheduler.failed")] == [ids[2]]
    assert all(len(ready(rt, i)) == 1 for i in ids if i != ids[2])


def test_not_due_yet_means_not_fired(test_processes: Runtime, clock) -> None:
    rt = test_processes
    instance_id = start_timer(rt)
    due = header(rt, instance_id)["next_due_at"]
    clock.set(due)
    assert run_due_work(rt).timers_fired == 0  # due < now, strictly, as the engine fires it
    clock.set(due + timedelta(milliseconds=1))
    assert run_due_work(rt).timers_fired == 1


def test_timers_list_shows_timers_and_meeting_cutoffs(test_processes: Runtime, monkeypatch, capsys) -> None:
    rt = test_processes
    instance_id = start_timer(rt)
    equipe.plan_meetings(rt)
    code, out, _ = run_cli(monkeypatch, rt, capsys, "timers", "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("due (local time)")
    assert any(instance_id in line and "timer" in line and "Due giorni" in line for line in lines)
    assert any("pistoiese-20260113" in line and "cut-off of the pistoiese meeting" in line
               and line.startswith("2026-01-08T09:30:00+01:00") for line in lines)


def test_timers_run_due_fires_what_is_due_once_and_exits(test_processes: Runtime, monkeypatch, capsys) -> None:
    rt = test_processes
    instance_id = start_timer(rt)  # due on 7 January 2026: long past on the real clock the CLI reads
    code, out, _ = run_cli(monkeypatch, rt, capsys, "timers", "run-due")
    assert code == 0 and "timers fired: 1 instance(s)" in out
    assert fired_counts(rt) == {instance_id: 1}
    code, out, _ = run_cli(monkeypatch, rt, capsys, "timers", "run-due")
    assert "timers fired: 0 instance(s)" in out


@pytest.mark.skipif(PG_POOLER == "transaction",
                    reason="through a transaction pooler the embedded scheduler is refused (its lock is a session lock)")
def test_only_one_embedded_scheduler_runs_per_database(test_processes: Runtime, settings, monkeypatch) -> None:
    rt = test_processes
    first = start_embedded_scheduler(rt)
    second = start_embedded_scheduler(rt)
    try:
        assert first is not None and second is None
        assert start_embedded_scheduler(rt, reloader=True) is None  # the reloader's watching parent never runs one
    finally:
        if first is not None:
            first.stop()
    again = start_embedded_scheduler(rt)
    assert again is not None
    again.stop()
    monkeypatch.setattr(rt, "settings", rt.settings.with_overrides(embedded_scheduler=False))
    assert start_embedded_scheduler(rt) is None


def test_a_timer_the_engine_does_not_fire_is_retried_later_not_in_a_loop(test_processes: Runtime, clock,
                                                                        monkeypatch) -> None:
    rt = test_processes
    stuck = start_timer(rt)
    # As if the engine left the timer waiting: the step is saved (ending the scheduler's lease), the due time unchanged.
    monkeypatch.setattr(timers, "fire_due", lambda rt, uow, iid, *args: uow.instances.release(iid) or True)
    clock.set(clock.now() + timedelta(days=3))
    assert timers.run_due_timers(rt) == 1  # one attempt, then it waits
    assert header(rt, stuck)["next_due_at"] == clock.now() + timers.FAILURE_BACKOFF
    assert [e["instance_id"] for e in audit_actions(rt, "scheduler.failed")] == [stuck]
