"""Recent incidents: engine failures of the last days grouped by process, element and message."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from typing import Any

from ...domain.model import SYSTEM, Actor, InstanceStatus
from ...persistence.uow import UnitOfWork
from ..access import authorization
from ..workflow.runtime import Runtime

MAX_EVENTS = 5000  # the newest failures read; older ones in the window are summarised as "more"
LINKED = 20  # instances linked per group


@dataclass
class IncidentGroup:
    """Failures of one element of one process with the same message."""

    process_id: str
    element_id: str | None
    element_name: str | None
    message: str
    count: int = 0
    first_at: datetime | None = None
    last_at: datetime | None = None
    instances: list[str] = field(default_factory=list)  # newest first, at most LINKED
    instance_count: int = 0
    still_failing: set[str] = field(default_factory=set)
    retryable: bool = False


@dataclass
class IncidentReport:
    """The groups, most recent first, and whether the window held more failures than were read."""

    since: datetime
    groups: list[IncidentGroup]
    truncated: bool


SET_ASIDE = "set_aside"  # key of a scheduler incident in an instance's `error`: what to restore on retry


def set_aside(uow: UnitOfWork, row: Mapping[str, Any], now: datetime, attempts: int) -> None:
    """Stop firing an instance whose due step failed or timed out `attempts` times: an incident for the admin.

    A running or waiting instance is put in error with what its retry restores; one already in
    error (an automatic connector retry that never finished) keeps its error and stops retrying.
    """
    instance_id, status = str(row["id"]), str(row["status"])
    message = (f"Lo scheduler ha tentato {attempts} volte questo passo senza riuscirci (errore o tempo scaduto): "
               "messo da parte finché un amministratore non lo ripete")
    values: dict[str, Any] = {"next_due_at": None, "claimed_until": None, "due_attempts": 0, "updated_at": now}
    error: dict[str, Any] = {"element_id": None, "element_name": row.get("current_step"), "message": message,
                             "line": None, "source_line": None, "retryable": False}
    if status != InstanceStatus.ERROR:
        due = row["next_due_at"]
        values["status"] = InstanceStatus.ERROR.value
        values["error"] = {**error, "at": now.isoformat(),
                           SET_ASIDE: {"status": status, "due_at": due.isoformat() if due else None}}
    uow.audit.keys.prepare(instance_id)  # a read: before the write, which then waits for the commit
    uow.instances.update(instance_id, int(row["row_version"]), values)
    uow.audit.record(now, SYSTEM.username, "instance.error", instance_id, None, None, error,
                     codice_fiscale=row.get("codice_fiscale") or "")


def recent_incidents(rt: Runtime, actor: Actor, days: int = 30) -> IncidentReport:
    """Failures of the last `days` days grouped by (process, element, message), newest group first."""
    authorization.require_admin(actor)
    since = rt.now() - timedelta(days=max(1, min(days, 365)))
    with rt.uow(write=False) as uow:
        rows = uow.incidents.errors_since(since, MAX_EVENTS + 1)
    truncated = len(rows) > MAX_EVENTS
    groups: dict[tuple[str, str | None, str], IncidentGroup] = {}
    seen: dict[tuple[str, str | None, str], set[str]] = {}
    for row in rows[:MAX_EVENTS]:
        data = row["data"] if isinstance(row["data"], Mapping) else {}
        message = str(data.get("message") or "")
        key = (row["process_id"], row["element_id"], message)
        group = groups.get(key)
        if group is None:
            group = groups[key] = IncidentGroup(row["process_id"], row["element_id"], data.get("element_name"),
                                                message, retryable=bool(data.get("retryable")))
            seen[key] = set()
        group.count += 1
        group.last_at = group.last_at or row["at"]
        group.first_at = row["at"]
        instance_id = row["instance_id"]
        if instance_id not in seen[key]:
            seen[key].add(instance_id)
            if len(group.instances) < LINKED:
                group.instances.append(instance_id)
            if row["status"] == InstanceStatus.ERROR:
                group.still_failing.add(instance_id)
    for key, group in groups.items():
        group.instance_count = len(seen[key])
    ordered = sorted(groups.values(), key=lambda g: g.last_at or since, reverse=True)
    return IncidentReport(since, ordered, truncated)
