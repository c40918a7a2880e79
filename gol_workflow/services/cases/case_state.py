"""What operators are told of a case that cannot move on: suspended by an administrator, or stopped by an error."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ...domain.model import InstanceStatus
from ...persistence.uow import UnitOfWork

SUSPENDED_NOTICE = ("Caso sospeso dall'amministratore: le attività di questo caso non si possono completare "
                    "finché non viene ripreso. Può salvare i dati inseriti come bozza.")
ERROR_NOTICE = ("Caso in errore: {step}. L'amministrazione del servizio deve intervenire prima che le attività "
                "di questo caso si possano completare. Può salvare i dati inseriti come bozza.")
BLOCKED = (InstanceStatus.SUSPENDED.value, InstanceStatus.ERROR.value)
SHORT = {InstanceStatus.SUSPENDED.value: "Caso sospeso", InstanceStatus.ERROR.value: "Caso in errore"}


def notice(header: Mapping[str, Any] | None) -> str | None:
    """The Italian notice for a suspended or failed case (None when it can move on)."""
    if header is None:
        return None
    if header["status"] == InstanceStatus.SUSPENDED:
        return SUSPENDED_NOTICE
    if header["status"] == InstanceStatus.ERROR:
        error = header.get("error") if isinstance(header.get("error"), Mapping) else {}
        step = error.get("element_name") or error.get("element_id")  # type: ignore[union-attr]
        where = f"il passo «{step}» non è riuscito" if step else "un passo automatico non è riuscito"
        return ERROR_NOTICE.format(step=where)
    return None


def notices_of(headers: Iterable[Mapping[str, Any] | None]) -> dict[str, dict[str, str]]:
    """The same, from {id, status, error} of instances already read (None for those that can move on)."""
    return {str(row["id"]): {"status": row["status"], "short": SHORT[row["status"]], "text": text}
            for row in headers if row is not None and (text := notice(row))}


def notices(uow: UnitOfWork, instance_ids: Iterable[str]) -> dict[str, dict[str, str]]:
    """Instance id -> {status, short, text}, for the instances among these that are suspended or in error."""
    return notices_of(uow.inbox_search.blocked_instances(sorted(set(instance_ids)), BLOCKED))
