"""The scheduler page: liveness, what falls due next, the coming meetings and the e-mail outbox, and its repairs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ...domain.errors import InvalidState, NotFound
from ...domain.model import Actor
from ..access import authorization
from ..mail import outbox
from . import scheduling
from ..meetings.equipe import FAILED, PLANNED
from ..workflow.runtime import Runtime

STALE_AFTER = timedelta(seconds=60)  # heartbeats come every 10 s: a minute of silence is a problem
MEETING_DAYS = 28


@dataclass
class SchedulerOverview:
    """Everything the scheduler page shows."""

    heartbeats: list[dict[str, Any]]
    stale: bool
    due: list[scheduling.DueItem]
    meetings: list[dict[str, Any]]
    outbox_counts: dict[str, int]
    outbox: Sequence[Any]
    outbox_status: str | None


def _beats(rt: Runtime) -> tuple[list[dict[str, Any]], bool]:
    wall = datetime.now(UTC)
    beats = []
    for row in scheduling.heartbeats(rt):
        details = row["details"] if isinstance(row["details"], dict) else {}
        age = wall - row["beat_at"]
        beats.append({**dict(row), "details": details, "age": age,
                      "stale": age > STALE_AFTER or bool(details.get("stopped"))})
    stale = not beats or all(b["stale"] for b in beats)
    return beats, stale


def scheduler_silent(rt: Runtime) -> bool:
    """True when no scheduler has given a sign of life within STALE_AFTER."""
    return _beats(rt)[1]


def overview(rt: Runtime, actor: Actor, outbox_status: str | None = None, limit: int = 50) -> SchedulerOverview:
    """The scheduler page's content (administrators)."""
    authorization.require_admin(actor)
    beats, stale = _beats(rt)
    now = rt.now()
    with rt.uow(write=False) as uow:
        rows = uow.meetings.between(None, now, now + timedelta(days=MEETING_DAYS), 100)
        sizes = uow.meetings.agenda_sizes([r["id"] for r in rows])
    meetings = [{**dict(r), "agenda_size": sizes.get(r["id"], 0)} for r in rows]
    status = outbox_status if outbox_status in outbox.STATUSES else None
    shown = outbox.list_messages(rt, status, limit) if status else outbox.list_messages(rt, None, limit)
    return SchedulerOverview(beats, stale, scheduling.due_items(rt, limit), meetings, outbox.counts(rt), shown,
                             status)


def send_now(rt: Runtime, actor: Actor, message_id: int) -> None:
    """Try a waiting or refused e-mail again at the next pass of the sender, without waiting for its back-off."""
    authorization.require_admin(actor)
    now = rt.now()
    with rt.uow() as uow:
        if not uow.repairs.send_now(message_id, now):
            raise InvalidState("only a message waiting to be sent or refused can be sent again")
        uow.audit.record(now, actor.username, "mail.requeued", None, data={"outbox_id": message_id})
        uow.commit()


def retry_meeting(rt: Runtime, actor: Actor, meeting_id: str) -> None:
    """Convene again, at the scheduler's next pass, a meeting that could not be convened (administrators)."""
    authorization.require_admin(actor)
    now = rt.now()
    with rt.uow() as uow:
        row = uow.meetings.get(meeting_id, lock=True)
        if row is None:
            raise NotFound(f"meeting {meeting_id} does not exist")
        if row["status"] != FAILED:
            raise InvalidState("only a meeting that could not be convened can be retried")
        uow.meetings.update(meeting_id, {"status": PLANNED, "due_at": now, "attempts": 0, "claimed_until": None})
        uow.audit.record(now, actor.username, "meeting.retried", None, data={"meeting": meeting_id})
        uow.commit()
