"""The equipe agenda: cases book onto their zone's next meeting; at the cut-off the meeting is convened."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ...domain.errors import StepTimedOut
from ...domain.model import SYSTEM, InstanceStatus
from ...domain.zones import Zone
from ...persistence.uow import UnitOfWork
from . import calendar
from ..workflow.instances import start_in
from ..workflow.runtime import Runtime, ServiceCall
from ..workflow.step_runner import StepRunner, step_runner

log = logging.getLogger(__name__)

MEETING_PROCESS = "riunione_equipe"
PLANNING_HORIZON = timedelta(days=35)
FIRST_REVIEW = "prima_valutazione"
SUBSTANTIAL_CHANGE = "modifica_sostanziale"
REASONS = (FIRST_REVIEW, SUBSTANTIAL_CHANGE)
PLANNED, CONVENED, CANCELLED, FAILED = "planned", "convened", "cancelled", "failed"
LOST = "lost"  # a convening whose lease another scheduler took over
RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30))
ACTIVE_CASE = (InstanceStatus.RUNNING.value, InstanceStatus.WAITING.value, InstanceStatus.ERROR.value,
               InstanceStatus.SUSPENDED.value)


@dataclass
class ConveneReport:
    """What the cut-off job did."""

    convened: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    timed_out: list[str] = field(default_factory=list)  # still convening after the time limit: left to the lease

    @property
    def total(self) -> int:
        """Meetings handled."""
        return len(self.convened) + len(self.cancelled) + len(self.failed) + len(self.timed_out)


def tz_of(rt: Runtime) -> ZoneInfo:
    """The service time zone."""
    return ZoneInfo(rt.settings.timezone)


def zone_of(rt: Runtime, zone_id: Any) -> Zone:
    """A configured zone, or a clear error naming the known ones."""
    zone = rt.zones.get(str(zone_id)) if zone_id is not None else None
    if zone is None:
        known = ", ".join(sorted(rt.zones)) or "none configured"
        raise ValueError(f"unknown zone {zone_id!r} (known zones: {known})")
    return zone


def _meeting_row(slot: calendar.MeetingSlot, zone: Zone, now: datetime) -> dict[str, Any]:
    return {
        "id": slot.meeting_id,
        "zone": zone.id,
        "scheduled_at": slot.starts_at,
        "cutoff_at": slot.cutoff_at,
        "due_at": slot.cutoff_at,
        "location": zone.location[:255] or None,
        "status": PLANNED,
        "attempts": 0,
        "created_at": now,
    }


# -- planning -------------------------------------------------------------------------------


def plan_in(rt: Runtime, uow: UnitOfWork, now: datetime) -> int:
    """Create the coming weeks' meetings of every zone; drop empty ones the calendar no longer has."""
    created = 0
    tz = tz_of(rt)
    for zone in rt.zones.values():
        slots = calendar.slots_between(zone, now, now + PLANNING_HORIZON, tz)
        wanted = {slot.meeting_id for slot in slots}
        existing = uow.meetings.between(zone.id, now - timedelta(days=zone.notice_days + 14), None, 200)
        known = {row["id"]: row for row in existing}
        for slot in slots:
            if slot.meeting_id not in known:
                created += int(uow.meetings.add_if_missing(_meeting_row(slot, zone, now)))
            else:
                _follow_configuration(uow, known[slot.meeting_id], slot, zone)
        stale = [r["id"] for r in existing if r["status"] == PLANNED and r["cutoff_at"] > now
                 and r["id"] not in wanted and r["scheduled_at"] <= now + PLANNING_HORIZON]
        sizes = uow.meetings.agenda_sizes(stale)
        uow.meetings.delete([m for m in stale if not sizes.get(m)])
    return created


def _follow_configuration(uow: UnitOfWork, row: Mapping[str, Any], slot: calendar.MeetingSlot, zone: Zone) -> None:
    """A planned meeting takes up a changed hour, notice or place from the zone file."""
    if row["status"] != PLANNED:
        return
    changes: dict[str, Any] = {}
    if row["scheduled_at"] != slot.starts_at or row["cutoff_at"] != slot.cutoff_at:
        changes = {"scheduled_at": slot.starts_at, "cutoff_at": slot.cutoff_at}
        if not row["attempts"]:
            changes["due_at"] = slot.cutoff_at
    if (row["location"] or "") != zone.location[:255]:
        changes["location"] = zone.location[:255] or None
    if changes:
        uow.meetings.update(row["id"], changes)


def plan_meetings(rt: Runtime, now: datetime | None = None) -> int:
    """Plan the coming meetings of every zone in one transaction; returns how many were created."""
    moment = now or rt.now()
    with rt.uow() as uow:
        created = plan_in(rt, uow, moment)
        uow.commit()
    return created


# -- booking (service task `equipe_iscrivi`) -----------------------------------------------


def _agenda_item(data: Mapping[str, Any], zone: Zone, case_id: str, reason: str) -> dict[str, Any]:
    person = data.get("beneficiario") if isinstance(data.get("beneficiario"), Mapping) else {}
    particular = bool(data.get("bisogni_particolari"))
    services = [str(s) for s in (data.get("servizi_specialistici") or [])] if particular else []
    unknown = [s for s in services if zone.service(s) is None]
    if unknown:
        raise ValueError(f"zone {zone.id} has no specialist service {', '.join(unknown)}")
    return {
        "case_id": case_id,
        "beneficiario": {k: person.get(k) for k in ("codice_fiscale", "nome", "cognome", "data_nascita")}
        | ({"email": person["email"]} if person.get("email") else {}),  # the convocation letter's address
        "bisogni_particolari": particular,
        "servizi_specialistici": services,
        "servizi_specialistici_nomi": [zone.service(s).name for s in services],  # type: ignore[union-attr]
        "conosciuto_servizio_sociale": bool(data.get("conosciuto_servizio_sociale")),
        "motivo": reason,
    }


def _reason(data: Mapping[str, Any], meetings_of_case: Sequence[Mapping[str, Any]]) -> str:
    asked = data.get("motivo_equipe")
    if asked in REASONS:
        return str(asked)
    discussed = any(row["status"] == CONVENED for row in meetings_of_case)
    return SUBSTANTIAL_CHANGE if discussed else FIRST_REVIEW


def _booking(slot_row: Mapping[str, Any], tz: ZoneInfo) -> dict[str, Any]:
    return {
        "riunione_id": slot_row["id"],
        "data_equipe": slot_row["scheduled_at"].astimezone(tz).isoformat(),
        "data_cutoff": slot_row["cutoff_at"].astimezone(tz).isoformat(),
        "luogo": slot_row["location"] or "",
    }


def book_in(rt: Runtime, uow: UnitOfWork, data: Mapping[str, Any], case_id: str, now: datetime) -> dict[str, Any]:
    """Put a case on the agenda of its zone's next meeting whose cut-off has not passed."""
    zone = zone_of(rt, data.get("zona"))
    tz = tz_of(rt)
    booked = uow.meetings.meetings_of_case(case_id)
    for row in booked:
        if row["status"] == PLANNED and row["cutoff_at"] > now:
            item = _agenda_item(data, zone, case_id, row["reason"])
            uow.meetings.update_agenda_item(row["id"], case_id, {"item": item})
            return _booking(row, tz)  # already booked: booking again changes nothing
    reason = _reason(data, booked)
    item = _agenda_item(data, zone, case_id, reason)
    for slot in calendar.slots_from(zone, now, tz):
        uow.meetings.add_if_missing(_meeting_row(slot, zone, now))
        row = uow.meetings.get(slot.meeting_id, lock=True)  # waits for a convening in progress
        if row is None or row["status"] != PLANNED or row["cutoff_at"] <= now:
            continue
        uow.meetings.add_to_agenda(
            {"meeting_id": row["id"], "case_id": case_id, "reason": reason, "item": item, "added_at": now}
        )
        uow.audit.record(now, SYSTEM.username, "equipe.booked", case_id,
                         data={"meeting": row["id"], "reason": reason})
        return _booking(row, tz)
    raise AssertionError("unreachable: the calendar is endless")


def equipe_iscrivi(call: ServiceCall) -> dict[str, Any]:
    """Connector: book the calling case onto the next open meeting of its zone."""
    case_id = str(call.data.get("case_id") or call.instance_id)
    data = {**call.data, "motivo_equipe": call.params.get("motivo") or call.data.get("motivo_equipe")}
    return book_in(call.runtime, call.uow, data, case_id, call.now)


# -- convening at the cut-off --------------------------------------------------------------


def convene_due(rt: Runtime, now: datetime | None = None, until: datetime | None = None,
                runner: StepRunner | None = None) -> ConveneReport:
    """Convene every planned meeting whose cut-off has come (up to `until`), oldest first, one per transaction.

    A short transaction claims the meeting, leases it and counts the attempt; convening runs in a
    transaction of its own, bounded in time by `runner`. A meeting that timed out waits for its
    lease to end; after every attempt it is shown failed to the administrator.
    """
    report = ConveneReport()
    steps = runner or step_runner(rt)
    try:
        while True:
            moment = now or rt.now()
            bound = min(moment, until) if until is not None else moment
            claim = _claim(rt, moment, bound, report)
            if claim is None:
                return report
            meeting_id, lease = claim
            if not meeting_id:
                continue
            try:
                outcome = steps.run(lambda: _convene_alone(rt, meeting_id, lease, moment))
            except StepTimedOut:
                log.error("convening meeting %s did not finish within %g s: left to its lease", meeting_id,
                          steps.timeout or 0)
                report.timed_out.append(meeting_id)
                continue
            except Exception as exc:  # noqa: BLE001 - one meeting must not stop the others
                log.exception("convening meeting %s failed", meeting_id)
                outcome = _record_failure(rt, meeting_id, moment, exc)
            if outcome != LOST:
                getattr(report, outcome).append(meeting_id)
    finally:
        if runner is None:
            steps.close()


def _claim(rt: Runtime, now: datetime, bound: datetime, report: ConveneReport) -> tuple[str, datetime] | None:
    """The next due meeting and its lease, its attempt counted ("" when given up instead); None: nothing due."""
    with rt.uow() as uow:
        claimed = uow.meetings.claim_due(bound, 1, now=now)
        if not claimed:
            return None
        meeting = uow.meetings.get(claimed[0])
        assert meeting is not None
        if int(meeting["attempts"] or 0) > len(RETRY_DELAYS):  # every attempt made, the last ones timed out
            message = "la convocazione non si è conclusa in tempo"
            uow.meetings.update(meeting["id"], {"status": FAILED, "last_error": message, "claimed_until": None})
            uow.audit.record(now, SYSTEM.username, "meeting.failed", None,
                             data={"meeting": meeting["id"], "attempt": meeting["attempts"], "error": message})
            uow.commit()
            report.failed.append(meeting["id"])
            return "", now
        lease = now + timedelta(seconds=rt.settings.scheduler_lease)
        uow.meetings.lease(meeting["id"], lease)
        uow.commit()
        return str(meeting["id"]), lease


def _convene_alone(rt: Runtime, meeting_id: str, lease: datetime, now: datetime) -> str:
    with rt.uow() as uow:
        meeting = uow.meetings.get(meeting_id, lock=True)
        if meeting is None or meeting["status"] != PLANNED or meeting["claimed_until"] != lease:
            return LOST  # this scheduler's lease ran out and another one took the meeting
        outcome = convene_in(rt, uow, meeting_id, now)
        uow.commit()
    return outcome


def _record_failure(rt: Runtime, meeting_id: str, now: datetime, exc: Exception) -> str:
    with rt.uow() as uow:
        meeting = uow.meetings.get(meeting_id, lock=True)
        if meeting is None or meeting["status"] != PLANNED:
            return "failed"
        outcome = _convene_failed(uow, meeting, now, exc)
        uow.commit()
    return outcome


def _case_active(uow: UnitOfWork, case_id: str) -> bool:
    header = uow.instances.header(case_id)
    return header is None or header["status"] in ACTIVE_CASE


def convene_in(rt: Runtime, uow: UnitOfWork, meeting_id: str, now: datetime) -> str:
    """Convene one claimed meeting: cancel it when nothing is on the agenda, else start its process."""
    meeting = uow.meetings.get(meeting_id, lock=True)
    assert meeting is not None
    items = [row for row in uow.meetings.agenda(meeting_id) if _case_active(uow, row["case_id"])]
    if not items:
        uow.meetings.update(meeting_id, {"status": CANCELLED, "last_error": None, "claimed_until": None})
        uow.audit.record(now, SYSTEM.username, "meeting.cancelled", None, data={"meeting": meeting_id,
                         "reason": "nessun caso all'ordine del giorno"})
        return "cancelled"
    data = meeting_data(rt, meeting, items)
    try:
        with uow.savepoint():
            instance_id = start_in(rt, uow, MEETING_PROCESS, data, SYSTEM, now).instance_id
    except Exception as exc:  # noqa: BLE001 - a meeting that cannot start is retried, then shown to the admin
        return _convene_failed(uow, meeting, now, exc)
    uow.meetings.update(meeting_id, {"status": CONVENED, "instance_id": instance_id, "last_error": None,
                                     "claimed_until": None})
    uow.audit.record(now, SYSTEM.username, "meeting.convened", instance_id,
                     data={"meeting": meeting_id, "cases": [row["case_id"] for row in items]})
    return "convened"


def meeting_data(rt: Runtime, meeting: Mapping[str, Any], items: list[Mapping[str, Any]]) -> dict[str, Any]:
    """The initial data of a `riunione_equipe` instance."""
    tz = tz_of(rt)
    return {
        "zona": meeting["zone"],
        "riunione_id": meeting["id"],
        "data_equipe": meeting["scheduled_at"].astimezone(tz).isoformat(),
        "luogo": meeting["location"] or "",
        "casi": {str(row["case_id"]): dict(row["item"]) for row in items},
    }


def _convene_failed(uow: UnitOfWork, meeting: Mapping[str, Any], now: datetime, exc: Exception) -> str:
    attempts = max(1, int(meeting["attempts"] or 0))  # counted when the meeting was claimed
    message = f"{exc.__class__.__name__}: {exc}"
    log.warning("meeting %s could not be convened (attempt %d): %s", meeting["id"], attempts, message)
    values: dict[str, Any] = {"attempts": attempts, "last_error": message[:2000], "claimed_until": None}
    if attempts <= len(RETRY_DELAYS):
        values["due_at"] = now + RETRY_DELAYS[attempts - 1]
    else:
        values["status"] = FAILED
    uow.meetings.update(meeting["id"], values)
    uow.audit.record(now, SYSTEM.username, "meeting.failed", None,
                     data={"meeting": meeting["id"], "attempt": attempts, "error": message})
    return "failed"
