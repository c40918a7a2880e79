"""Incidents: an instance's error from its first failure to its resolution, kept by the step that fails or
leaves the error (the desk that shows and repairs them is incident_desk)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ...domain.model import SYSTEM, Actor, InstanceStatus, StepError
from ...persistence.incidents import OPEN, RESOLVED
from ...persistence.uow import UnitOfWork

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
                             "line": None, "source_line": None, "retryable": False, "kind": "scheduler_set_aside"}
    if status != InstanceStatus.ERROR:
        due = row["next_due_at"]
        values["status"] = InstanceStatus.ERROR.value
        values["error"] = {**error, "at": now.isoformat(),
                           SET_ASIDE: {"status": status, "due_at": due.isoformat() if due else None}}
    uow.audit.keys.prepare(instance_id)  # a read: before the write, which then waits for the commit
    uow.instances.update(instance_id, int(row["row_version"]), values)
    uow.audit.record(now, SYSTEM.username, "instance.error", instance_id, None, None, error,
                     codice_fiscale=row.get("codice_fiscale") or "")
    if row.get("process_version_id") is not None:
        failed(uow, instance_id, str(row["process_id"]), int(row["process_version_id"]), error, now)


# What an instance's leaving its error says about how its incident was resolved.
RESOLUTIONS = {
    "instance.retried": "retried", "instance.auto_retried": "retried_automatically", "timer.fired": "retried",
    "instance.terminated": "terminated", "instance.migrated": "migrated", "instance.moved": "moved",
    "incident.skipped": "skipped", "incident.edited_and_retried": "edited",
}


def failed(uow: UnitOfWork, instance_id: str, process_id: str, version_id: int, error: Mapping[str, Any],
           now: datetime) -> None:
    """Open the instance's incident, or count one more failed attempt on the open one."""
    current = uow.incidents.open_of(instance_id)
    detail = {key: error.get(key) for key in ("line", "source_line", "retryable", "exception")}
    values = {"element_id": error.get("element_id"), "element_name": error.get("element_name"),
              "kind": str(error.get("kind") or "engine")[:32], "message": str(error.get("message") or ""),
              "detail": detail, "last_failed_at": now, "process_version_id": version_id}
    if current is None:
        uow.incidents.add({**values, "instance_id": instance_id, "process_id": process_id, "status": OPEN,
                           "attempts": 1, "opened_at": now})
    else:
        uow.incidents.update(int(current["id"]), {**values, "attempts": int(current["attempts"]) + 1})


def resolved(uow: UnitOfWork, instance_id: str, resolution: str, actor: str, now: datetime,
             note: str | None = None) -> None:
    """Close the instance's open incident (nothing to do when it has none)."""
    current = uow.incidents.open_of(instance_id)
    if current is not None:
        uow.incidents.update(int(current["id"]), {"status": RESOLVED, "resolution": resolution[:32],
                                                  "resolution_note": note, "resolved_by": actor, "resolved_at": now},
                             only_open=True)


def track(uow: UnitOfWork, before: Mapping[str, Any], stored: Mapping[str, Any], error: StepError | None,
          action: str, actor: Actor, now: datetime, note: str | None = None) -> None:
    """Keep the instance's incident in step with a saved step: a failure opens or counts, leaving the error resolves.

    Costs nothing (no statement) for a step of an instance that neither was nor is in error.
    """
    was_failing = before.get("status") == InstanceStatus.ERROR or (
        before.get("status") == InstanceStatus.SUSPENDED and before.get("suspended_status") == InstanceStatus.ERROR)
    if error is not None:
        failed(uow, str(stored["id"]), str(stored["process_id"]), int(stored["process_version_id"]),
               error.as_dict(), now)
    elif was_failing and stored.get("status") not in (InstanceStatus.ERROR, InstanceStatus.SUSPENDED):
        resolved(uow, str(stored["id"]), RESOLUTIONS.get(action, action.rsplit(".", 1)[-1]), actor.username, now,
                 note)
