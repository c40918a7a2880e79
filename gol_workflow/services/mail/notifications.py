"""Telling operators of new and overdue tasks in their queues: a daily digest, one e-mail per task, or nothing.

Who is told of what follows the inbox's own rules (`authorization.inbox_scope`): a task visible to the
person, free or assigned to them. Each notice is recorded with the e-mail that carries it, in one
transaction, so nobody hears of the same task twice; the e-mail leaves through the outbox.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ...domain.errors import NotFound, ValidationFailed
from ...domain.model import Actor
from ...persistence.notices import NEW, OVERDUE
from ...persistence.uow import UnitOfWork
from ..access import authorization
from . import outbox
from ..workflow.runtime import Runtime

DIGEST = "digest"
IMMEDIATE = "immediate"
NONE = "none"
MODES = (DIGEST, IMMEDIATE, NONE)
MODE_LABELS = {
    DIGEST: "Un riepilogo al giorno (consigliato)",
    IMMEDIATE: "Un messaggio per ogni nuova attività o scadenza",
    NONE: "Nessun messaggio",
}
DIGEST_LIMIT = 500  # tasks per person and kind in one digest; the rest come in the next one
IMMEDIATE_LIMIT = 50


@dataclass
class NoticeReport:
    """What one notification pass queued."""

    digests: int = 0
    immediate: int = 0


@dataclass(frozen=True)
class Preferences:
    """How a person wants to hear of their tasks."""

    mode: str
    email: str | None


def actor_of(row: Mapping[str, Any]) -> Actor:
    """The actor a user row stands for."""
    return Actor(row["username"], row["role"], frozenset(row["zones"] or ()), frozenset(row["services"] or ()),
                 int(row["id"]))


def next_digest(after: datetime, hour: int, timezone: str) -> datetime:
    """The first digest moment (the given local hour, every day) strictly after `after`."""
    tz = ZoneInfo(timezone)
    local = after.astimezone(tz)
    moment = datetime.combine(local.date(), time(hour), tz)
    if moment <= local:
        moment = datetime.combine(local.date() + timedelta(days=1), time(hour), tz)
    return moment


def digest_due(rt: Runtime, uow: UnitOfWork) -> datetime | None:
    """When the next digest is due: the first digest hour after a task appears or falls overdue.

    None while nobody with an e-mail address wants a digest: then a simulated clock need not stop for it.
    """
    if not uow.notices.any_recipient(DIGEST):
        return None
    last = uow.notices.last_run(DIGEST)
    event = uow.notices.next_event(last)
    if event is None:
        return None
    return next_digest(max(event, last) if last else event, rt.settings.digest_hour, rt.settings.timezone)


def send_due_notices(rt: Runtime, now: datetime | None = None) -> NoticeReport:
    """Queue the e-mail of people who want one per task, and the digest when its hour has come."""
    report = NoticeReport()
    moment = now or rt.now()
    with rt.uow(write=False) as uow:
        immediate = uow.notices.any_recipient(IMMEDIATE)
        due = digest_due(rt, uow)
    if immediate:
        with rt.uow() as uow:
            for row in uow.notices.recipients(IMMEDIATE):
                report.immediate += _immediate(rt, uow, row, moment)
                uow.notices.forget_finished(row["username"])
            uow.commit()
    if due is not None and due <= moment:
        with rt.uow() as uow:
            if digest_due(rt, uow) == due:  # another scheduler has not sent it meanwhile
                for row in uow.notices.recipients(DIGEST):
                    report.digests += _digest(rt, uow, row, moment)
                uow.notices.forget_finished()
                uow.notices.set_last_run(DIGEST, moment)
            uow.commit()
    return report


def _pending(uow: UnitOfWork, row: Mapping[str, Any], now: datetime, limit: int) -> tuple[list[Any], list[Any]]:
    if row["role"] not in authorization.operator_roles():  # administrators see every task: not told
        return [], []
    scope = authorization.inbox_scope(actor_of(row))
    fresh = list(uow.notices.pending(scope, row["username"], NEW, now, limit))
    overdue = list(uow.notices.pending(scope, row["username"], OVERDUE, now, limit))
    return fresh, overdue


def _immediate(rt: Runtime, uow: UnitOfWork, row: Mapping[str, Any], now: datetime) -> int:
    fresh, overdue = _pending(uow, row, now, IMMEDIATE_LIMIT)
    late = {t["id"] for t in overdue}
    sent = 0
    for kind, found in ((NEW, [t for t in fresh if t["id"] not in late]), (OVERDUE, overdue)):
        for task in found:
            outbox.enqueue(uow, now, rt.settings.smtp.sender, outbox.Outgoing(
                dedup_key=f"notice:{kind}:{row['username']}:{task['id']}",
                recipients=[row["email"]],
                subject=f"GOL Percorso 4: {'attività scaduta' if kind == OVERDUE else 'nuova attività'}"
                        f" – {task['name']}",
                body=_immediate_body(rt, row, task, kind),
            ))
            sent += 1
    uow.notices.record(row["username"], [t["id"] for t in fresh], NEW, now)
    uow.notices.record(row["username"], sorted(late), OVERDUE, now)
    return sent


def _digest(rt: Runtime, uow: UnitOfWork, row: Mapping[str, Any], now: datetime) -> int:
    fresh, overdue = _pending(uow, row, now, DIGEST_LIMIT)
    if not fresh and not overdue:
        return 0
    late = {t["id"] for t in overdue}
    new_only = [t for t in fresh if t["id"] not in late]
    day = now.astimezone(ZoneInfo(rt.settings.timezone)).date()
    subject = "GOL Percorso 4: " + ", ".join(part for part in (
        _count(len(overdue), "attività scaduta", "attività scadute"),
        _count(len(new_only), "nuova attività", "nuove attività"),
    ) if part)
    outbox.enqueue(uow, now, rt.settings.smtp.sender, outbox.Outgoing(
        dedup_key=f"digest:{row['username']}:{day.isoformat()}",
        recipients=[row["email"]],
        subject=subject,
        body=_digest_body(rt, row, overdue, new_only, day.strftime("%d/%m/%Y")),
    ))
    uow.notices.record(row["username"], [t["id"] for t in fresh], NEW, now)
    uow.notices.record(row["username"], sorted(late), OVERDUE, now)
    return 1


def _count(n: int, one: str, many: str) -> str:
    return "" if n == 0 else f"1 {one}" if n == 1 else f"{n} {many}"


def _link(rt: Runtime, task: Mapping[str, Any]) -> str:
    return f"{rt.settings.base_url}/attivita/{task['id']}"


def _date(rt: Runtime, value: datetime | None) -> str:
    return value.astimezone(ZoneInfo(rt.settings.timezone)).strftime("%d/%m/%Y") if value else ""


def _greeting(row: Mapping[str, Any]) -> str:
    return f"Buongiorno {row['full_name']}," if row["full_name"] else "Buongiorno,"


def _task_line(rt: Runtime, task: Mapping[str, Any], overdue: bool) -> str:
    due = task["due_at"]
    when = f", scaduta il {_date(rt, due)}" if overdue else f", da completare entro il {_date(rt, due)}" if due else ""
    return f"  - {task['name']}{when}\n    {_link(rt, task)}"


def _by_case(tasks: Sequence[Mapping[str, Any]]) -> list[tuple[str, list[Mapping[str, Any]]]]:
    """Tasks grouped by the person's case, in the order the cases first appear."""
    groups: dict[str, tuple[str, list[Mapping[str, Any]]]] = {}
    for task in tasks:
        key = str(task["case_id"] or task["instance_id"])
        groups.setdefault(key, (task["beneficiary_name"] or "Beneficiario non indicato", []))[1].append(task)
    return list(groups.values())


def _digest_body(rt: Runtime, row: Mapping[str, Any], overdue: Sequence[Mapping[str, Any]],
                 fresh: Sequence[Mapping[str, Any]], day: str) -> str:
    lines = [_greeting(row), "", f"ecco il riepilogo del {day} delle attività GOL Percorso 4 nelle sue code di lavoro.", ""]
    for title, found, late in (("Attività scadute", overdue, True), ("Nuove attività", fresh, False)):
        if not found:
            continue
        lines += [title, "-" * len(title)]
        for name, tasks in _by_case(found):
            lines.append(name)
            lines += [_task_line(rt, t, late) for t in tasks]
        lines.append("")
    lines += _footer(rt)
    return "\n".join(lines)


def _immediate_body(rt: Runtime, row: Mapping[str, Any], task: Mapping[str, Any], kind: str) -> str:
    what = "è scaduta" if kind == OVERDUE else "è nelle sue code di lavoro"
    lines = [_greeting(row), "", f"un'attività GOL Percorso 4 {what}:", "",
             task["beneficiary_name"] or "Beneficiario non indicato", _task_line(rt, task, kind == OVERDUE), ""]
    return "\n".join(lines + _footer(rt))


def _footer(rt: Runtime) -> list[str]:
    return ["Tutte le attività: " + f"{rt.settings.base_url}/attivita",
            "Per scegliere quando ricevere questi avvisi: " + f"{rt.settings.base_url}/preferenze", "",
            "Messaggio automatico del servizio GOL Percorso 4: non rispondere."]


# -- preferences ----------------------------------------------------------------------------


def preferences(rt: Runtime, actor: Actor) -> Preferences:
    """The person's own notification preference and address."""
    return preferences_of(rt, actor.username, actor)


def preferences_of(rt: Runtime, username: str, actor: Actor) -> Preferences:
    """A person's notification preference and address: their own, or anyone's for an administrator."""
    if actor.username != username:
        authorization.require_admin(actor)
    with rt.uow(write=False) as uow:
        row = uow.users.by_username(username)
    if row is None:
        raise NotFound(f"user {username!r} does not exist")
    return Preferences(row["notifications"] or DIGEST, row["email"])


def set_preferences(rt: Runtime, username: str, mode: str, actor: Actor, email: str | None = None) -> Preferences:
    """Change how a person hears of their tasks: themselves, or an administrator for anyone."""
    if actor.username != username:
        authorization.require_admin(actor)
    if mode not in MODES:
        message = f"unknown notification mode {mode!r} (one of {', '.join(MODES)})"
        raise ValidationFailed(message, {"notifications": ["Scelta non valida."]})
    if email is not None and email and ("@" not in email or any(c.isspace() for c in email) or len(email) > 255):
        raise ValidationFailed(f"{email!r} is not an e-mail address", {"email": ["Indirizzo e-mail non valido."]})
    now = rt.now()
    with rt.uow() as uow:
        row = uow.users.by_username(username)
        if row is None:
            raise NotFound(f"user {username!r} does not exist")
        values: dict[str, Any] = {"notifications": mode}
        if email is not None:
            values["email"] = email or None
        uow.users.update(row["id"], values)
        uow.audit.record(now, actor.username, "user.notifications",
                         data={"user": username, "notifications": mode, "email_changed": email is not None})
        uow.commit()
    return Preferences(mode, values.get("email", row["email"]))


def badge(rt: Runtime, actor: Actor) -> tuple[int, int]:
    """Tasks in the person's queues (free or theirs) and how many are overdue, for the page header."""
    if actor.role not in authorization.operator_roles():
        return 0, 0
    with rt.uow(write=False) as uow:
        return uow.notices.badge(authorization.inbox_scope(actor), actor.username, rt.now())
