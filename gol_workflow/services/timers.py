"""Firing due timers: claimed one instance per transaction, so each fires exactly once."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import RowMapping

from ..domain.model import SYSTEM, Actor
from .instances import fire_due
from .runtime import Runtime

log = logging.getLogger(__name__)

FAILURE_BACKOFF = timedelta(minutes=1)


def run_due_timers(rt: Runtime, now: datetime | None = None, limit: int | None = None, actor: Actor = SYSTEM) -> int:
    """Fire every instance timer due before `now`, oldest first; returns how many instances fired."""
    fired = 0
    while limit is None or fired < limit:
        moment = now or rt.now()
        outcome = _fire_one(rt, moment, actor)
        if outcome is None:
            break
        fired += int(outcome)
    return fired


def _fire_one(rt: Runtime, now: datetime, actor: Actor) -> bool | None:
    """Claim the most overdue instance and fire it; None when nothing is due."""
    instance_id: str | None = None
    try:
        with rt.uow() as uow:
            claimed = uow.instances.claim_due(now, 1)
            if not claimed:
                return None
            instance_id = claimed[0]
            fired = fire_due(rt, uow, instance_id, now, actor)
            uow.commit()
            return fired
    except Exception:  # noqa: BLE001 - one broken instance must not stop the others
        log.exception("firing timers of instance %s failed", instance_id)
        if instance_id is not None:
            _postpone(rt, instance_id, now)
        return False


def _postpone(rt: Runtime, instance_id: str, now: datetime) -> None:
    rt.workflows.forget(instance_id)
    with rt.uow() as uow:
        header = uow.instances.header(instance_id)
        if header is not None:
            uow.instances.update(instance_id, int(header["row_version"]), {"next_due_at": now + FAILURE_BACKOFF})
            uow.audit.record(now, "sistema", "scheduler.failed", instance_id)
        uow.commit()


def upcoming(rt: Runtime, limit: int = 50) -> Sequence[RowMapping]:
    """The next instance timers to fire, earliest first."""
    with rt.uow(write=False) as uow:
        return uow.instances.due_list(limit)


def next_due_at(rt: Runtime) -> datetime | None:
    """When the earliest instance timer falls due."""
    rows = upcoming(rt, 1)
    return rows[0]["next_due_at"] if rows else None
