"""The e-mail outbox: messages are queued inside the use case's transaction and sent afterwards, once."""

from __future__ import annotations

import base64
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import make_msgid
from typing import Any


from ...domain.errors import NotFound
from ...persistence.database import Row
from ...persistence.outbox import EXPIRED, FAILED, PENDING, SENDING, SENT
from ...persistence.uow import UnitOfWork
from .smtp import MailServer, PermanentFailure, TemporaryFailure, build_message
from ..workflow.runtime import Runtime

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)  # a send not settled by then is taken over (the sender died mid-send)
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=1)
DEFAULT_EXPIRY = timedelta(days=7)  # GOL_MAIL_EXPIRY_DAYS: a message not sent by then is given up
BATCH = 20
STATUSES = (PENDING, SENDING, SENT, FAILED, EXPIRED)
WAITING_STATUSES = (PENDING, SENDING)


@dataclass(frozen=True)
class Attachment:
    """A file attached to a message."""

    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class Outgoing:
    """A message to queue; `dedup_key` makes queuing it twice a no-op."""

    dedup_key: str
    recipients: list[str]
    subject: str
    body: str
    attachments: list[Attachment] = field(default_factory=list)
    expires_at: datetime | None = None  # worthless after this moment (None: the default expiry)


@dataclass
class DispatchReport:
    """What one pass over the outbox did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    expired: int = 0


_DOUBLINGS = 12  # 2 ** 12 minutes is well past the longest retry: the exponent never grows further


def retry_delay(attempts: int) -> timedelta:
    """Back-off after the n-th failed attempt: 1, 2, 4 ... minutes, at most an hour, for any n."""
    return min(FIRST_RETRY * (2 ** min(max(0, attempts - 1), _DOUBLINGS)), LONGEST_RETRY)


def enqueue(uow: UnitOfWork, now: datetime, sender: str, message: Outgoing, expiry: timedelta = DEFAULT_EXPIRY) -> int:
    """Queue a message in the current transaction (sent only if it commits); returns its outbox id.

    It is given up if not sent by `message.expires_at`, or `expiry` after now when the message names no moment.
    """
    if not message.recipients:
        raise ValueError("a message needs at least one recipient")
    domain = sender.rpartition("@")[2] or "gol-workflow.local"
    values = {
        "dedup_key": message.dedup_key[:255],
        "recipients": list(message.recipients),
        "subject": message.subject[:998],
        "body": message.body,
        "attachments": [
            {"filename": a.filename, "content_type": a.content_type,
             "content_b64": base64.b64encode(a.content).decode("ascii")}
            for a in message.attachments
        ],
        "status": PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        "message_id": make_msgid(idstring="gol", domain=domain),
        "expires_at": message.expires_at or now + expiry,
    }
    message_id, _ = uow.outbox.enqueue(values)
    return message_id


def dispatch_due(rt: Runtime, now: datetime | None = None) -> DispatchReport:
    """Give up expired messages, then send every message due for an attempt.

    Failures wait with back-off, refusals are kept for the admin; a message past its expiry is never sent.
    """
    report = DispatchReport()
    expire_due(rt, now, report)
    while True:
        moment = now or rt.now()
        with rt.uow() as uow:
            rows = uow.outbox.claim_due(moment, moment + LEASE, BATCH)
            uow.commit()
        if not rows:
            return report
        _send_batch(rt, rows, moment, report)


def expire_due(rt: Runtime, now: datetime | None = None, report: DispatchReport | None = None) -> int:
    """Mark every waiting message past its expiry as expired (audited); returns how many."""
    expired = 0
    while True:
        moment = now or rt.now()
        with rt.uow() as uow:
            rows = uow.outbox.expire_due(moment, BATCH)
            for row in rows:
                log.error("e-mail %s expired unsent after %s attempt(s)", row["id"], row["attempts"])
                uow.audit.record(moment, "sistema", "mail.expired", None,
                                 data={"outbox_id": row["id"], "recipients": len(row["recipients"] or []),
                                       "attempts": row["attempts"],
                                       "expires_at": row["expires_at"].isoformat()})
            uow.commit()
        expired += len(rows)
        if report is not None:
            report.expired += len(rows)
        if len(rows) < BATCH:
            return expired


def _send_batch(rt: Runtime, rows: Sequence[Row], now: datetime, report: DispatchReport) -> None:
    settings = rt.settings.smtp
    outcomes: list[tuple[Row, str, str | None]] = []
    try:
        with MailServer(settings) as server:
            for row in rows:
                try:
                    refused = server.send(build_message(row, settings.sender, now), row["recipients"])
                    outcomes.append((row, SENT, f"refused: {refused}" if refused else None))
                except PermanentFailure as exc:
                    outcomes.append((row, FAILED, str(exc)))
                except TemporaryFailure as exc:
                    outcomes.append((row, PENDING, str(exc)))
    except TemporaryFailure as exc:  # the server could not be reached: nothing left
        done = {row["id"] for row, _, _ in outcomes}
        outcomes += [(row, PENDING, str(exc)) for row in rows if row["id"] not in done]
    with rt.uow() as uow:
        for row, status, error in outcomes:
            _settle(uow, row, status, error, now, report)
        uow.commit()


def _settle(uow: UnitOfWork, row: Row, status: str, error: str | None, now: datetime,
            report: DispatchReport) -> None:
    values: dict[str, Any] = {"status": status, "last_error": error[:2000] if error else None}
    if status == SENT:
        values.update(sent_at=now, next_attempt_at=None)
        report.sent += 1
    elif status == FAILED:
        values["next_attempt_at"] = None
        report.failed += 1
        log.error("e-mail %s refused for good: %s", row["id"], error)
    else:
        values["next_attempt_at"] = now + retry_delay(int(row["attempts"]))
        report.retrying += 1
        log.warning("e-mail %s not sent (attempt %s), retrying later: %s", row["id"], row["attempts"], error)
    if uow.outbox.settle(int(row["id"]), int(row["attempts"]), values):
        action = {SENT: "mail.sent", FAILED: "mail.failed"}.get(status)
        if action:
            uow.audit.record(now, "sistema", action, None, data={"outbox_id": row["id"],
                                                                  "recipients": len(row["recipients"] or []),
                                                                  "failed": bool(error)})


# -- what the admin console reads and does -----------------------------------------------


def list_messages(rt: Runtime, status: str | None = None, limit: int = 50, offset: int = 0) -> Sequence[Row]:
    """Outbox messages, newest first (without bodies), optionally of one status."""
    with rt.uow(write=False) as uow:
        return uow.outbox.listing([status] if status else None, limit, offset)


def message(rt: Runtime, message_id: int) -> Row:
    """One outbox message with its body and attachments."""
    with rt.uow(write=False) as uow:
        row = uow.outbox.get(message_id)
    if row is None:
        raise NotFound(f"e-mail {message_id} is not in the outbox")
    return row


def counts(rt: Runtime) -> dict[str, int]:
    """How many messages are in each status (every status present, zero included)."""
    with rt.uow(write=False) as uow:
        found = uow.outbox.counts()
    return {status: found.get(status, 0) for status in STATUSES}
