"""What the scheduler records about itself and what the admin console reads about due work."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo


from ...persistence.database import Row
from ...persistence.locks import HeldLock, try_exclusive
from ..workflow.runtime import Runtime

EMBEDDED_LOCK = "gol-workflow-embedded-scheduler"


@dataclass(frozen=True)
class DueItem:
    """One thing waiting for its moment: an instance timer, a meeting cut-off or an e-mail attempt."""

    kind: str  # timer | meeting | mail
    due_at: datetime
    ref: str  # instance id, meeting id or outbox id
    what: str  # process and waiting element, meeting zone, e-mail subject
    detail: str = ""


def record_heartbeat(rt: Runtime, name: str, details: dict[str, Any]) -> None:
    """Record that a scheduler is alive (wall-clock time, also under a simulated clock)."""
    with rt.uow() as uow:
        uow.system.heartbeat(name, datetime.now(UTC), details)
        uow.commit()


def heartbeats(rt: Runtime) -> list[Row]:
    """Every scheduler's last heartbeat, newest first."""
    with rt.uow(write=False) as uow:
        return list(uow.system.heartbeats())


def last_heartbeat(rt: Runtime) -> Row | None:
    """The most recent heartbeat of any scheduler, or None if none ever ran."""
    beats = heartbeats(rt)
    return beats[0] if beats else None


def claim_embedded_slot(rt: Runtime) -> HeldLock | None:
    """The right to run the one embedded scheduler of this database, or None if another process has it."""
    return try_exclusive(rt.db, EMBEDDED_LOCK)


def due_items(rt: Runtime, limit: int = 50) -> list[DueItem]:
    """What falls due next, all kinds together, earliest first (reads only the indexed heads)."""
    tz = ZoneInfo(rt.settings.timezone)
    items: list[DueItem] = []
    with rt.uow(write=False) as uow:
        for row in uow.instances.due_list(limit):
            what = f"{row['process_id']}: {row['current_step'] or ''}".strip()
            items.append(DueItem("timer", row["next_due_at"], row["id"], what, row["beneficiary_name"] or ""))
        for row in uow.meetings.planned_due(limit):
            starts = row["scheduled_at"].astimezone(tz).isoformat(timespec="minutes")
            items.append(DueItem("meeting", row["due_at"], row["id"], f"cut-off of the {row['zone']} meeting",
                                 f"meeting {starts}"))
        for row in uow.outbox.waiting(limit):
            items.append(DueItem("mail", row["next_attempt_at"], str(row["id"]), row["subject"],
                                 f"attempts {row['attempts']}"))
    items.sort(key=lambda item: item.due_at)
    return items[:limit]
