"""Messages nobody waits for: keep them for a case that may still wait, drop them (audited) once it has ended.

A thrown message with no waiting instance is kept until its target subscribes: the
target may simply not be there yet. But a case that has ended never subscribes again: an
`esito_equipe` for a case closed at 12 months while waiting for a review would otherwise
stay in the buffer forever. So a message for an ended case is dropped at once, and when a
case ends, whatever was kept for it is dropped; both leave an audit event on the case.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ...domain.model import ENDED_STATUSES, Actor
from ...persistence.uow import UnitOfWork

CASE_PROPERTY = "case_id"  # the correlation property every Percorso 4 message carries
DROPPED = "message.dropped"


def case_of(correlation: str) -> str | None:
    """The case id in a canonical correlation text (`case_id=...`), if any."""
    for pair in correlation.split(";"):
        prop, _, value = pair.partition("=")
        if prop == CASE_PROPERTY and value:
            return value
    return None


def keep_or_drop(
    uow: UnitOfWork,
    name: str,
    correlation: str,
    payload: Any,
    sender_id: str | None,
    now: datetime,
    actor: Actor,
) -> bool:
    """Buffer a message nobody waits for, unless its case has ended; True when kept."""
    case_id = case_of(correlation)
    case = uow.instances.header(case_id) if case_id else None
    if case is not None and case["status"] in ENDED_STATUSES:
        uow.audit.record(now, actor.username, DROPPED, case_id,
                         data={"message": name, "from": sender_id, "reason": f"the case is {case['status']}"})
        return False
    uow.instances.buffer_message(
        {"name": name, "correlation": correlation, "payload": payload, "sender_instance_id": sender_id,
         "created_at": now}
    )
    return True


def drop_for_ended_case(uow: UnitOfWork, case_id: str, status: str, now: datetime, actor: Actor) -> int:
    """Drop what was kept for a case that has just ended; returns how many messages."""
    rows = uow.instances.drop_buffered(f"{CASE_PROPERTY}={case_id}")
    for row in rows:
        uow.audit.record(now, actor.username, DROPPED, case_id,
                         data={"message": row["name"], "from": row["sender_instance_id"],
                               "reason": f"the case is {status}",
                               "kept_since": row["created_at"].isoformat()})
    return len(rows)
