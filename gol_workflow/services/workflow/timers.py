"""Firing due timers exactly once, each in its own transaction, none held up by another.

A short transaction claims a batch of due instances (`FOR UPDATE SKIP LOCKED`), records a lease
and counts the attempt, and commits; then each instance is fired in a transaction of its own, with
no row lock held while its step runs, bounded in time. Another scheduler passes over leased rows;
an instance whose step fails or times out waits with back-off, and after
`scheduler_max_attempts` attempts is set aside as an incident for the administrator.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any


from ...domain.errors import ConcurrentChange, StepTimedOut
from ...domain.model import SYSTEM, Actor
from ...persistence.database import Row
from ...persistence.uow import UnitOfWork
from ..administration.incidents import set_aside
from .instances import fire_due
from .runtime import Runtime
from .step_runner import StepRunner, step_runner

log = logging.getLogger(__name__)

FAILURE_BACKOFF = timedelta(minutes=1)  # after the first failure; doubling after each further one
LONGEST_BACKOFF = timedelta(minutes=30)
BATCH = 16  # instances claimed per claiming transaction
RELEASED = {"claimed_until": None, "due_attempts": 0}  # written with a successful step: the lease ends

BeforeCommit = Callable[[list[str]], None]
"""Called with the fired instance's id after firing and before committing (fault-injection tests)."""


@dataclass
class _Run:
    """One pass of `run_due_timers`: who fires, how, and what it fired (to spot a timer that does not move)."""

    rt: Runtime
    actor: Actor
    before_commit: BeforeCommit | None
    runner: StepRunner
    fired_due: dict[str, datetime] = field(default_factory=dict)
    conflicted: set[str] = field(default_factory=set)


def failure_backoff(attempts: int) -> timedelta:
    """How long an instance waits after its n-th failed attempt: 1, 2, 4 ... minutes, at most 30."""
    return min(FAILURE_BACKOFF * (2 ** min(max(0, attempts - 1), 10)), LONGEST_BACKOFF)


def run_due_timers(
    rt: Runtime,
    now: datetime | None = None,
    limit: int | None = None,
    actor: Actor = SYSTEM,
    before: datetime | None = None,
    before_commit: BeforeCommit | None = None,
    runner: StepRunner | None = None,
) -> int:
    """Fire every instance timer due before `now` (and `before`), oldest first; returns how many fired.

    Each step is bounded by `runner` (by default `step_runner(rt)`).
    """
    run = _Run(rt, actor, before_commit, runner or step_runner(rt))
    fired = 0
    try:
        while limit is None or fired < limit:
            moment = now or rt.now()
            bound = min(moment, before) if before is not None else moment
            size = BATCH if limit is None else min(BATCH, limit - fired)
            claimed, rows = _claim(run, moment, bound, size)
            if claimed == 0:
                break
            for row in rows:
                fired += _fire_one(run, row, now or rt.now())
    finally:
        if runner is None:
            run.runner.close()
    return fired


def _claim(run: _Run, now: datetime, bound: datetime, size: int) -> tuple[int, list[dict[str, Any]]]:
    """Claim due instances not leased by anyone, lease them and count the attempt; set aside the exhausted."""
    settings = run.rt.settings
    until = now + timedelta(seconds=settings.scheduler_lease)
    with run.rt.uow() as uow:
        rows = uow.instances.claim_due_rows(bound, size, now=now)
        if not rows:
            return 0, []
        runnable: list[dict[str, Any]] = []
        for row in rows:
            attempts = int(row["due_attempts"] or 0)
            if attempts >= settings.scheduler_max_attempts:
                log.error("instance %s failed or timed out %d times: set aside as an incident", row["id"], attempts)
                set_aside(uow, row, now, attempts)
            else:
                runnable.append({**row, "claimed_until": until, "due_attempts": attempts + 1})
        uow.instances.lease([str(row["id"]) for row in runnable], until)
        uow.commit()
    for row in rows:
        if int(row["due_attempts"] or 0) >= settings.scheduler_max_attempts:
            run.rt.workflows.forget(str(row["id"]))
    return len(rows), runnable


def _fire_one(run: _Run, row: dict[str, Any], now: datetime) -> int:
    """Fire one claimed instance in its own transaction; a failure or a time-out touches no other instance."""
    instance_id = str(row["id"])
    try:
        return run.runner.run(lambda: _fire_alone(run, row, now))
    except StepTimedOut:
        # The step goes on in its own thread; the lease keeps others off it until it ends,
        # then the next claim counts another attempt.
        log.error("firing timers of instance %s did not finish within %g s: left to its lease",
                  instance_id, run.runner.timeout or 0)
        return 0
    except ConcurrentChange:
        run.rt.workflows.forget(instance_id)
        run.fired_due.pop(instance_id, None)
        if instance_id not in run.conflicted:  # changed meanwhile (a task completed): try again now, uncounted
            run.conflicted.add(instance_id)
            _release(run, instance_id, int(row["due_attempts"]) - 1)
            return 0
        log.warning("instance %s kept changing while its timers fired", instance_id, exc_info=True)
    except Exception:  # one broken instance must not stop the others
        log.exception("firing timers of instance %s failed", instance_id)
    run.rt.workflows.forget(instance_id)  # the failed step may have left a half-run workflow behind
    run.fired_due.pop(instance_id, None)
    _postpone_failed(run, instance_id, now)
    return 0


def _fire_alone(run: _Run, row: dict[str, Any], now: datetime) -> int:
    with run.rt.uow() as uow:
        fired = _fire(run, uow, row, now)
        if run.before_commit is not None:
            run.before_commit([str(row["id"])])
        uow.commit()
    return fired


def _fire(run: _Run, uow: UnitOfWork, row: dict[str, Any], now: datetime) -> int:
    instance_id, due = str(row["id"]), row["next_due_at"]
    if run.fired_due.get(instance_id) == due:
        # Fired once already in this pass and still due at the same instant: the engine did not
        # fire it. Wait rather than spin on it.
        log.error("timer of instance %s due at %s did not fire: retrying later", instance_id, due)
        _postpone(uow, instance_id, now, int(row["due_attempts"]))
        return 0
    run.fired_due[instance_id] = due
    if fire_due(run.rt, uow, instance_id, now, run.actor, row, RELEASED):
        return 1
    uow.instances.release(instance_id)  # nothing was due after all (or the instance has ended)
    return 0


def _release(run: _Run, instance_id: str, attempts: int) -> None:
    try:
        with run.rt.uow() as uow:
            uow.instances.release(instance_id, max(0, attempts))
            uow.commit()
    except Exception:  # the lease then simply runs out
        log.exception("releasing instance %s failed", instance_id)


def _postpone_failed(run: _Run, instance_id: str, now: datetime) -> None:
    try:
        with run.rt.uow() as uow:
            header = uow.instances.header(instance_id)
            if header is not None:
                _postpone(uow, instance_id, now, int(header["due_attempts"] or 0))
            uow.commit()
    except Exception:  # the lease then simply runs out
        log.exception("postponing instance %s failed", instance_id)


def _postpone(uow: UnitOfWork, instance_id: str, now: datetime, attempts: int) -> None:
    """Try a failed instance again after a back-off; its lease ends and its failed attempts stay counted."""
    header = uow.instances.header(instance_id)
    if header is not None:
        uow.audit.keys.prepare(instance_id)  # a read: before the write, which then waits for the commit
        uow.instances.update(instance_id, int(header["row_version"]),
                             {"next_due_at": now + failure_backoff(attempts), "claimed_until": None})
        uow.audit.record(now, SYSTEM.username, "scheduler.failed", instance_id, data={"attempt": attempts},
                         codice_fiscale=header["codice_fiscale"] or "")


def upcoming(rt: Runtime, limit: int = 50) -> Sequence[Row]:
    """The next instance timers to fire, earliest first."""
    with rt.uow(write=False) as uow:
        return uow.instances.due_list(limit)


def next_due_at(rt: Runtime) -> datetime | None:
    """When the earliest instance timer falls due."""
    with rt.uow(write=False) as uow:
        return uow.instances.earliest_due(rt.now())
