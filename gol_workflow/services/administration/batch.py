"""Batch operations over a filtered set of instances, worked off as due work by the scheduler.

A batch is stored with one row per instance before anything runs, so it survives a restart:
whichever scheduler next takes the job's lease carries on from the first item not done.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ..data_protection.minimisation import without_texts
from ...domain.errors import AlreadyEnded, InputRefused, NotFound
from ...domain.model import Actor
from ..access.roles import SYSTEM as SYSTEM_ROLE
from ...persistence import batches as rows
from ..access import authorization
from .instance_queries import InstanceFilters, criteria_for, describe
from .operations import NEEDS_REASON, OPERATIONS, Outcome, run_operation
from ..workflow.runtime import Runtime

MAX_INSTANCES = 50_000
LEASE = timedelta(seconds=60)
CHUNK = 20  # items read per round trip
DEFAULT_BUDGET = 2.0  # seconds of work per pass, so a pass never holds the scheduler for long


@dataclass
class BatchView:
    """A batch with its progress and a page of per-instance results."""

    job: dict[str, Any]
    counts: dict[str, int]
    items: list[dict[str, Any]] = field(default_factory=list)

    @property
    def percent(self) -> int:
        """How much is done, 0-100."""
        total = int(self.job["total"]) or 1
        return min(100, int(100 * int(self.job["done"]) / total))

    @property
    def open(self) -> bool:
        """True while items are still to be done."""
        return self.job["status"] in rows.OPEN_JOBS


def _params(filters: InstanceFilters, reason: str | None, target_version_id: int | None) -> dict[str, Any]:
    return {"filters": describe(filters), "reason": reason, "target_version_id": target_version_id}


def _check(rt: Runtime, operation: str, filters: InstanceFilters, reason: str | None,
           target_version_id: int | None) -> None:
    if operation not in OPERATIONS:
        raise InputRefused("unknown-operation", "unknown operation", {"operation": [f"unknown operation {operation!r}"]})
    if operation in NEEDS_REASON and not (reason or "").strip():
        raise InputRefused("reason-required", "a reason is required", {"reason": ["required"]})
    if operation != "migrate":
        return
    if not filters.process_id:
        raise InputRefused("process-required", "choose the process first", {"process_id": ["a migration needs a process filter"]})
    with rt.uow(write=False) as uow:
        target = uow.versions.get(int(target_version_id or 0))
    if target is None or target["process_id"] != filters.process_id:
        raise InputRefused("unknown-target-version", "unknown target version", {"target_version_id": ["not a version of this process"]})


def start_batch(
    rt: Runtime, actor: Actor, operation: str, filters: InstanceFilters, reason: str | None = None,
    target_version_id: int | None = None,
) -> str:
    """Queue an operation over every instance matching the filters; returns the batch id."""
    authorization.require_admin(actor)
    _check(rt, operation, filters, reason, target_version_id)
    now = rt.now()
    batch_id = str(uuid.uuid4())
    with rt.uow() as uow:
        ids = uow.instance_search.ids(criteria_for(rt, filters), MAX_INSTANCES + 1)
        if not ids:
            raise InputRefused("no-instance-matches", "no instance matches", {"filters": ["no instance matches the filters"]})
        if len(ids) > MAX_INSTANCES:
            raise InputRefused("too-many-instances", "too many instances", {"filters": [f"more than {MAX_INSTANCES} instances"]})
        params = _params(filters, reason, target_version_id)
        uow.batches.add({"id": batch_id, "operation": operation, "params": params, "total": len(ids), "done": 0,
                         "status": rows.QUEUED, "results": {"ok": 0, "failed": 0, "skipped": 0},
                         "created_by": actor.username, "created_at": now}, ids)
        uow.audit.record(now, actor.username, "batch.created", data={"batch": batch_id, "operation": operation,
                                                                     "total": len(ids), **params,
                                                                     "filters": without_texts(params["filters"],
                                                                                              ("beneficiary",))})
        uow.commit()
    return batch_id


def run_batches(rt: Runtime, budget: float = DEFAULT_BUDGET) -> int:
    """Work on open batches for about `budget` seconds; returns how many items were done."""
    deadline = time.monotonic() + budget
    done = 0
    while True:  # at least one item per pass, however short the budget
        with rt.uow() as uow:
            job = uow.batches.claim(datetime.now(UTC), datetime.now(UTC) + LEASE)
            uow.commit()
        if job is None:
            return done
        done += _work(rt, dict(job), deadline)
        if time.monotonic() >= deadline:
            return done


def _work(rt: Runtime, job: dict[str, Any], deadline: float) -> int:
    """Do items of one claimed job until it is finished or the time is up, then let go of it."""
    actor = Actor(job["created_by"], SYSTEM_ROLE)  # the job goes on with the rights it was started with
    params = dict(job["params"] or {})
    results = dict(job["results"] or {})
    done = 0
    while True:
        with rt.uow(write=False) as uow:
            pending = list(uow.batches.pending(job["id"], CHUNK))
        if not pending:
            _close(rt, job["id"], rows.FINISHED)
            return done
        for item in pending:
            outcome = run_operation(rt, actor, job["operation"], item["instance_id"], params)
            key = "ok" if outcome.ok else "failed"
            results[key] = results.get(key, 0) + 1
            if not _record(rt, job["id"], item["position"], outcome, results):
                return done  # cancelled meanwhile
            done += 1
            if time.monotonic() >= deadline:
                with rt.uow() as uow:
                    uow.batches.release(job["id"])
                    uow.commit()
                return done


def _record(rt: Runtime, batch_id: str, position: int, outcome: Outcome, results: dict[str, int]) -> bool:
    values = {"status": "ok" if outcome.ok else "failed", "code": outcome.code, "message": outcome.message[:2000],
              "details": outcome.details, "done_at": rt.now()}
    with rt.uow() as uow:
        recorded = uow.batches.record(batch_id, position, values, results)
        uow.commit()
    return recorded


def _close(rt: Runtime, batch_id: str, status: str) -> None:
    now = rt.now()
    with rt.uow() as uow:
        job = uow.batches.get(batch_id)
        uow.batches.finish(batch_id, status, now)
        if job is not None:
            uow.audit.record(now, "sistema", "batch.finished",
                             data={"batch": batch_id, "operation": job["operation"], "results": job["results"]})
        uow.commit()


def cancel_batch(rt: Runtime, actor: Actor, batch_id: str) -> int:
    """Stop a batch: the items not done yet are skipped; returns how many."""
    authorization.require_admin(actor)
    now = rt.now()
    with rt.uow() as uow:
        job = uow.batches.get(batch_id)
        if job is None:
            raise NotFound(f"batch {batch_id} does not exist")
        if job["status"] not in rows.OPEN_JOBS:
            raise AlreadyEnded(f"the batch is already {job['status']}", job["status"])
        skipped = uow.batches.skip_pending(batch_id, now, "cancelled by " + actor.username)
        uow.batches.finish(batch_id, rows.CANCELLED, now, {**(job["results"] or {}), "skipped": skipped})
        uow.audit.record(now, actor.username, "batch.cancelled", data={"batch": batch_id, "skipped": skipped})
        uow.commit()
    return skipped


def batch_view(rt: Runtime, actor: Actor, batch_id: str, status: str | None = None, limit: int = 100,
               offset: int = 0) -> BatchView:
    """A batch with its counts and a page of its items."""
    authorization.require_admin(actor)
    with rt.uow(write=False) as uow:
        job = uow.batches.get(batch_id)
        if job is None:
            raise NotFound(f"batch {batch_id} does not exist")
        counts = uow.batches.counts(batch_id)
        items = [dict(r) for r in uow.batches.items(batch_id, status, limit, offset)]
    return BatchView(dict(job), {k: counts.get(k, 0) for k in ("pending", "ok", "failed", "skipped")}, items)


def recent_batches(rt: Runtime, actor: Actor, limit: int = 20) -> list[dict[str, Any]]:
    """The latest batches, newest first."""
    authorization.require_admin(actor)
    with rt.uow(write=False) as uow:
        return [dict(r) for r in uow.batches.recent(limit)]


def progress(view: BatchView) -> Mapping[str, Any]:
    """Progress as plain values (for polling)."""
    return {"id": view.job["id"], "status": view.job["status"], "total": view.job["total"],
            "done": view.job["done"], "percent": view.percent, **view.counts}
