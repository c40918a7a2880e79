"""One row of the administrators' instance list, built from an instance-search row."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ...domain.errors import NotFound
from ...persistence.uow import UnitOfWork


@dataclass(frozen=True)
class InstanceSummary:
    """One row of the instance list."""

    id: str
    process_id: str
    version: int
    version_id: int
    status: str
    suspended_status: str | None
    zone: str | None
    beneficiary_name: str | None
    codice_fiscale: str | None
    case_manager: str | None
    current_step: str | None
    error_element: str | None
    error_message: str | None
    next_due_at: datetime | None
    started_by: str
    started_at: datetime
    updated_at: datetime
    ended_at: datetime | None


def summary_of(row: Mapping[str, Any]) -> InstanceSummary:
    """A list row from an instance-search row."""
    error = row["error"] if isinstance(row["error"], Mapping) else {}
    return InstanceSummary(
        id=row["id"], process_id=row["process_id"], version=int(row["version"]),
        version_id=int(row["process_version_id"]), status=row["status"], suspended_status=row["suspended_status"],
        zone=row["zone"], beneficiary_name=row["beneficiary_name"], codice_fiscale=row["codice_fiscale"],
        case_manager=row["case_manager"], current_step=row["current_step"],
        error_element=error.get("element_name") or error.get("element_id"), error_message=error.get("message"),
        next_due_at=row["next_due_at"], started_by=row["started_by"], started_at=row["started_at"],
        updated_at=row["updated_at"], ended_at=row["ended_at"],
    )


def find_summary(uow: UnitOfWork, instance_id: str) -> InstanceSummary:
    """The list row of one instance; NotFound when it does not exist."""
    row = uow.instance_search.one(instance_id)
    if row is None:
        raise NotFound(f"instance {instance_id} does not exist")
    return summary_of(row)
