"""Firing due timers exactly once: instances are claimed by the indexed `next_due_at`, locked until commit."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True)
class _Batch:
    claimed: int
    fired: int


def run_due_timers(
    rt: Runtime,
    now: datetime | None = None,
    limit: int | None = None,
    actor: Actor = SYSTEM,
    before: datetime | None = None,
    before_commit: BeforeCommit | None = None,
) -> int:
    """Fire every instance timer due before `now` (and `before`), oldest first; returns how many fired."""
    fired = 0
    while limit is None or fired < limit:
        moment = now or rt.now()
        bound = min(moment, before) if before is not None else moment
        size = BATCH if limit is None else min(BATCH, limit - fired)
        batch = _fire_batch(rt, moment, bound, size, actor, before_commit)
        if batch.claimed == 0:
            break
        fired += batch.fired
    return fired


def _fire_batch(
    rt: Runtime, now: datetime, bound: datetime, size: int, actor: Actor, before_commit: BeforeCommit | None
) -> _Batch:
    """Claim up to `size` due instances in one transaction and fire them all; commit once.

    The claim reads whole rows, so a timer costs one write round trip. If any instance fails, the
    batch is rolled back and fired again with a savepoint per instance, so the failure is isolated.
    """
    try:
        with rt.uow() as uow:
            rows = uow.instances.claim_due_rows(bound, size)
            if not rows:
                return _Batch(0, 0)
            fired = sum(int(fire_due(rt, uow, row["id"], now, actor, row)) for row in rows)
            _commit(uow, [row["id"] for row in rows], before_commit)
            return _Batch(len(rows), fired)
    except Exception:  # noqa: BLE001 - retried below one instance at a time
        log.warning("a batch of due timers failed: firing it again one instance at a time", exc_info=True)
    with rt.uow() as uow:
        rows = uow.instances.claim_due_rows(bound, size)
        fired = sum(_fire_isolated(rt, uow, row, now, actor) for row in rows)
        _commit(uow, [row["id"] for row in rows], before_commit)
    return _Batch(len(rows), fired)


def _commit(uow: UnitOfWork, claimed: list[str], before_commit: BeforeCommit | None) -> None:
    if before_commit is not None:
        before_commit(claimed)
    uow.commit()


def _fire_isolated(rt: Runtime, uow: UnitOfWork, row: RowMapping, now: datetime, actor: Actor) -> int:
    instance_id = str(row["id"])
    rt.workflows.forget(instance_id)  # the failed pass may have left a half-run workflow behind
    try:
        with uow.savepoint():
            return int(fire_due(rt, uow, instance_id, now, actor, row))
    except Exception:  # noqa: BLE001 - one broken instance must not stop the others
        log.exception("firing timers of instance %s failed", instance_id)
        rt.workflows.forget(instance_id)
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
