"""What completing a task records besides the step itself, registered per form (e.g. on the case it is about)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from ...domain.model import Actor
from ...persistence.uow import UnitOfWork
from .runtime import Runtime

CompletionRecord = Callable[[Runtime, UnitOfWork, Mapping[str, Any], Mapping[str, Any], Actor, datetime], None]
_REGISTRY = "completion_records"


def register_completion_record(rt: Runtime, form: str, record: CompletionRecord) -> None:
    """Run `record(rt, uow, task, data, actor, now)` in the transaction of every completion of this form."""
    rt.extras.setdefault(_REGISTRY, {}).setdefault(form, []).append(record)


def run_completion_records(rt: Runtime, uow: UnitOfWork, task: Mapping[str, Any], data: Mapping[str, Any],
                           actor: Actor, now: datetime) -> None:
    """Every record registered for the task's form."""
    for record in rt.extras.get(_REGISTRY, {}).get(task.get("form") or "", []):
        record(rt, uow, task, data, actor, now)
