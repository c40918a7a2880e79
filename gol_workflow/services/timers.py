"""Firing due timers exactly once: instances are claimed by the indexed `next_due_at`, locked until commit."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import RowMapping

from ..domain.model import SYSTEM, Actor
from ..persistence.uow import UnitOfWork
from .instances import fire_due
from .runtime import Runtime

log = logging.getLogger(__name__)

FAILURE_BACKOFF = timedelta(minutes=1)
BATCH = 16  # instances fired per transaction: fewer commits, short enough to keep latency low

BeforeCommit = Callable[[list[str]], None]
"""Called with the claimed ids after firing and before committing (fault-injection tests)."""


@dataclass
class _Run:
    """One pass of `run_due_timers`: who fires, and what it fired (to spot a timer that does not move)."""

    rt: Runtime
    actor: Actor
    before_commit: BeforeCommit | None
    fired_due: dict[str, datetime] = field(default_factory=dict)


def run_due_timers(
    rt: Runtime,
    now: datetime | None = None,
    limit: int | None = None,
    actor: Actor = SYSTEM,
    before: datetime | None = None,
    before_commit: BeforeCommit | None = None,
) -> int:
    """Fire every instance timer due before `now` (and `before`), oldest first; returns how many fired."""
    run = _Run(rt, actor, before_commit)
    fired = 0
    while limit is None or fired < limit:
        moment = now or rt.now()
        bound = min(moment, before) if before is not None else moment
        size = BATCH if limit is None else min(BATCH, limit - fired)
        claimed, fired_now = _fire_batch(run, moment, bound, size)
        if claimed == 0:
            break
        fired += fired_now
    return fired


def _fire_batch(run: _Run, now: datetime, bound: datetime, size: int) -> tuple[int, int]:
    """Claim up to `size` due instances in one transaction and fire them all; commit once.

    The claim reads whole rows, so a timer costs one write round trip. If any instance fails, the
    batch is rolled back and fired again with a savepoint per instance, so the failure is isolated.
    """
    try:
        with run.rt.uow() as uow:
            rows = uow.instances.claim_due_rows(bound, size)
            if not rows:
                return 0, 0
            fired = sum(_fire(run, uow, row, now) for row in rows)
            _commit(run, uow, rows)
            return len(rows), fired
    except Exception:  # retried below one instance at a time
        log.warning("a batch of due timers failed: firing it again one instance at a time", exc_info=True)
    with run.rt.uow() as uow:
        rows = uow.instances.claim_due_rows(bound, size)
        fired = sum(_fire_isolated(run, uow, row, now) for row in rows)
        _commit(run, uow, rows)
    return len(rows), fired


def _fire(run: _Run, uow: UnitOfWork, row: RowMapping, now: datetime) -> int:
    instance_id, due = str(row["id"]), row["next_due_at"]
    if run.fired_due.get(instance_id) == due:
        # Fired once already in this pass and still due at the same instant: the engine did not
        # fire it. Wait a minute rather than spin on it.
        log.error("timer of instance %s due at %s did not fire: retrying in a minute", instance_id, due)
        _postpone(uow, instance_id, now)
        return 0
    run.fired_due[instance_id] = due
    return int(fire_due(run.rt, uow, instance_id, now, run.actor, row))


def _commit(run: _Run, uow: UnitOfWork, rows: list[RowMapping]) -> None:
    if run.before_commit is not None:
        run.before_commit([str(row["id"]) for row in rows])
    uow.commit()


def _fire_isolated(run: _Run, uow: UnitOfWork, row: RowMapping, now: datetime) -> int:
    instance_id = str(row["id"])
    run.rt.workflows.forget(instance_id)  # the failed pass may have left a half-run workflow behind
    run.fired_due.pop(instance_id, None)
    try:
        with uow.savepoint():
            return _fire(run, uow, row, now)
    except Exception:  # one broken instance must not stop the others
        log.exception("firing timers of instance %s failed", instance_id)
        run.rt.workflows.forget(instance_id)
        _postpone(uow, instance_id, now)
        return 0


def _postpone(uow: UnitOfWork, instance_id: str, now: datetime) -> None:
    header = uow.instances.header(instance_id)
    if header is not None:
        uow.instances.update(instance_id, int(header["row_version"]), {"next_due_at": now + FAILURE_BACKOFF})
        uow.audit.record(now, SYSTEM.username, "scheduler.failed", instance_id)


def upcoming(rt: Runtime, limit: int = 50) -> Sequence[RowMapping]:
    """The next instance timers to fire, earliest first."""
    with rt.uow(write=False) as uow:
        return uow.instances.due_list(limit)


def next_due_at(rt: Runtime) -> datetime | None:
    """When the earliest instance timer falls due."""
    with rt.uow(write=False) as uow:
        return uow.instances.earliest_due()
