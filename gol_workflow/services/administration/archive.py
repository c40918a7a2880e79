"""Moving closed cases out of the hot tables: their state and audit rows go to the archive tables."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dateutil.relativedelta import relativedelta

from ...domain.errors import InputRefused
from ...domain.model import SYSTEM, Actor
from ..access import authorization
from ..workflow.runtime import Runtime


@dataclass(frozen=True)
class ArchiveReport:
    """What one archive run moved."""

    closed_before: datetime
    batches: int
    instances: int
    audit_rows: int
    state_chars: int


def archive_closed(rt: Runtime, months: int, batch_size: int = 500, max_batches: int | None = None,
                   actor: Actor = SYSTEM) -> ArchiveReport:
    """Archive the instances closed more than `months` months ago, `batch_size` per transaction.

    Each batch is its own transaction (state, audit rows and the header's mark move together or
    not at all), so a stopped run leaves only whole batches behind and the next run goes on.
    """
    authorization.require_admin(actor)
    if months < 0 or batch_size < 1:
        raise InputRefused("bad-archive-window", "months must be 0 or more and the batch size at least 1",
                           {"months": [str(months)], "batch": [str(batch_size)]})
    now = rt.now()
    closed_before = now - relativedelta(months=months)
    batches = moved = audit_rows = chars = 0
    while max_batches is None or batches < max_batches:
        with rt.uow() as uow:
            ids = uow.archive.due(closed_before, batch_size)
            if not ids:
                break
            result = uow.archive.move(ids, now)
            uow.audit.record(now, actor.username, "archive.moved", None, None, None,
                             {"instances": result.instances, "audit_rows": result.audit_rows,
                              "closed_before": closed_before.isoformat()})
            uow.commit()
        for instance_id in ids:
            rt.workflows.forget(instance_id)
        batches += 1
        moved += result.instances
        audit_rows += result.audit_rows
        chars += result.state_chars
        if result.instances == 0:
            break  # what was found was archived meanwhile by another run: let that one go on
    return ArchiveReport(closed_before, batches, moved, audit_rows, chars)


def archive_counts(rt: Runtime) -> dict[str, int]:
    """How many instances and audit rows the archive holds."""
    with rt.uow(write=False) as uow:
        return uow.archive.counts()
