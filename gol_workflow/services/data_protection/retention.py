"""Retention: closed cases anonymised once their zone's period has passed, unless a legal hold stops it.

A pass finds, per zone, the closed cases that ended more than `conservazione_anni` years ago
(the zone file's `[protezione_dati]`, 10 years by default) and anonymises each in its own
transaction; a case under legal hold is reported and left alone. The scheduler runs one pass
a day, by the service clock: the day's row in `retention_runs` is its lease, so several
schedulers run it once, and a pass whose scheduler died is taken over when its lease ends.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

from ...domain.errors import CaseAnonymised, NotFound, ValidationFailed
from ...domain.model import SYSTEM, Actor
from ...domain.zones import DEFAULT_RETENTION_YEARS
from ..access import authorization
from ..workflow.runtime import Runtime
from .anonymisation import anonymise_case

log = logging.getLogger(__name__)

BATCH = 200  # cases read per zone at a time
MAX_REASON = 2000

DRY_RUN, MANUAL, SCHEDULED = "dry_run", "manual", "scheduled"


@dataclass
class RetentionReport:
    """What a pass did (or, dry, would do)."""

    run_id: int | None
    mode: str
    anonymised: list[dict[str, Any]] = field(default_factory=list)
    held: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)

    @property
    def attachments(self) -> int:
        """Documents deleted (or to delete)."""
        return sum(int(c.get("attachments", 0)) for c in self.anonymised)

    @property
    def bytes(self) -> int:
        """Their size."""
        return sum(int(c.get("bytes", 0)) for c in self.anonymised)

    def totals(self) -> dict[str, int]:
        """The counts a run row keeps."""
        return {"cases_anonymised": len(self.anonymised), "attachments_deleted": self.attachments,
                "bytes_deleted": self.bytes, "cases_held": len(self.held)}

    def rows(self) -> list[dict[str, Any]]:
        """One line per case: what happened to it."""
        return ([{**c, "action": "would_anonymise" if self.mode == DRY_RUN else "anonymised"}
                 for c in self.anonymised] + [{**c, "action": "held"} for c in self.held]
                + [{**c, "action": "failed"} for c in self.failed])


def retention_years(rt: Runtime, zone: str | None) -> int:
    """The zone's period; the default for a case without a (known) zone."""
    found = rt.zones.get(zone or "")
    return found.retention_years if found is not None else DEFAULT_RETENTION_YEARS


def cut_off(rt: Runtime, zone: str | None, now: datetime) -> datetime:
    """Cases of the zone that ended before this moment are due (the period counted on the local calendar)."""
    local = now.astimezone(ZoneInfo(rt.settings.timezone))
    return local - relativedelta(years=retention_years(rt, zone))


def run(rt: Runtime, actor: Actor, dry_run: bool = False) -> RetentionReport:
    """One pass by hand (an administrator or the CLI): anonymise what is due, or only report it."""
    authorization.require_admin(actor)
    mode = DRY_RUN if dry_run else MANUAL
    now = rt.now()
    with rt.uow() as uow:
        run_id = uow.retention.start_run(mode, actor.username, now)
        uow.commit()
    return _pass(rt, actor, run_id, mode)


def run_due(rt: Runtime) -> RetentionReport | None:
    """The scheduler's daily pass: run it if this day's has not been (or its scheduler died); None otherwise."""
    now = rt.now()
    day = now.astimezone(ZoneInfo(rt.settings.timezone)).date()
    wall = rt.wall_now()
    lease = wall + timedelta(seconds=rt.settings.scheduler_lease)
    with rt.uow() as uow:
        run_id = uow.retention.claim_day(day, SYSTEM.username, now, lease, wall)
        uow.commit()
    if run_id is None:
        return None
    return _pass(rt, SYSTEM, run_id, SCHEDULED)


def _pass(rt: Runtime, actor: Actor, run_id: int, mode: str) -> RetentionReport:
    report = RetentionReport(run_id, mode)
    now = rt.now()
    try:
        with rt.uow(write=False) as uow:
            zones = uow.retention.zones_with_closed_cases()
        for zone in sorted(zones, key=lambda z: z or ""):
            _zone_pass(rt, actor, report, zone, now)
    except Exception as exc:
        log.exception("retention pass %s failed", run_id)
        _finish(rt, report, "failed", f"{exc.__class__.__name__}: {exc}")
        raise
    _finish(rt, report, "done", None)
    return report


def _zone_pass(rt: Runtime, actor: Actor, report: RetentionReport, zone: str | None, now: datetime) -> None:
    bound = cut_off(rt, zone, now)
    after: tuple[datetime, str] | None = None
    while True:
        with rt.uow(write=False) as uow:
            due = uow.retention.closed_before(zone, bound, BATCH, after)
        if not due:
            return
        # Read on from the last case of this batch: cases held, failed or only listed (dry run) stay
        # closed and not anonymised, and are not read again.
        after = (due[-1]["ended_at"], str(due[-1]["id"]))
        for case in due:
            line = {"case": case["id"], "zone": zone, "ended_at": case["ended_at"].isoformat()}
            if case["legal_hold"]:
                report.held.append(line)
            elif report.mode == DRY_RUN:
                with rt.uow(write=False) as uow:
                    files = uow.attachments.for_instance(str(case["id"]))
                report.anonymised.append({**line, "attachments": len(files),
                                          "bytes": sum(int(f["size"]) for f in files)})
            else:
                _anonymise_one(rt, actor, report, str(case["id"]), line, now)


def _anonymise_one(rt: Runtime, actor: Actor, report: RetentionReport, case_id: str, line: dict[str, Any],
                   now: datetime) -> None:
    """One case, one transaction: a failure leaves it whole and is reported; the pass goes on."""
    try:
        with rt.uow() as uow:
            case = uow.retention.case_for_update(case_id)
            if case is None or case["anonymised_at"] is not None or case["legal_hold"]:
                return  # another pass got there first, or a hold came meanwhile
            done = anonymise_case(uow, case, now, actor.username, report.run_id)
            uow.commit()
    except Exception as exc:  # noqa: BLE001 - one case's failure must not stop the others
        log.exception("anonymising case %s failed", case_id)
        report.failed.append({**line, "error": exc.__class__.__name__})
        return
    rt.workflows.forget(case_id)
    for instance_id in done.instances:
        rt.workflows.forget(instance_id)
    report.anonymised.append(done.as_dict())


def _finish(rt: Runtime, report: RetentionReport, status: str, error: str | None) -> None:
    if report.run_id is None:
        return
    now = rt.now()
    with rt.uow() as uow:
        uow.retention.finish_run(report.run_id, now, status, report.totals(), report.rows(), error)
        uow.audit.record(now, SYSTEM.username, "retention.run", None,
                         data={"run": report.run_id, "mode": report.mode, **report.totals()})
        uow.commit()


def runs(rt: Runtime, actor: Actor, limit: int = 50) -> list[dict[str, Any]]:
    """The latest retention passes, newest first."""
    authorization.require_admin(actor)
    with rt.uow(write=False) as uow:
        return uow.retention.runs(limit)


def run_detail(rt: Runtime, actor: Actor, run_id: int) -> dict[str, Any]:
    """One pass with its report."""
    authorization.require_admin(actor)
    with rt.uow(write=False) as uow:
        found = uow.retention.run(run_id)
    if found is None:
        raise NotFound(f"no retention run {run_id}")
    return found


def set_legal_hold(rt: Runtime, actor: Actor, case_id: str, reason: str) -> None:
    """Stop retention for a case (a claim, an inquiry): an administrator, with a reason; audited."""
    authorization.require_admin(actor)
    text = (reason or "").strip()
    if not text or len(text) > MAX_REASON:
        raise ValidationFailed("reason", {"motivo": [f"Indicare il motivo (al massimo {MAX_REASON} caratteri)."]})
    _hold(rt, actor, case_id, True, text)


def clear_legal_hold(rt: Runtime, actor: Actor, case_id: str, reason: str) -> None:
    """Let retention take the case again: an administrator, with a reason; audited."""
    authorization.require_admin(actor)
    text = (reason or "").strip()
    if not text or len(text) > MAX_REASON:
        raise ValidationFailed("reason", {"motivo": [f"Indicare il motivo (al massimo {MAX_REASON} caratteri)."]})
    _hold(rt, actor, case_id, False, text)


def _hold(rt: Runtime, actor: Actor, case_id: str, held: bool, reason: str) -> None:
    now = rt.now()
    with rt.uow() as uow:
        case = uow.retention.case_for_update(case_id)
        if case is None:
            raise NotFound(f"no case {case_id}")
        if case["anonymised_at"] is not None:
            raise CaseAnonymised(f"case {case_id} was anonymised")
        if held:
            uow.retention.set_hold(case_id, True, reason, actor.username, now)
        else:
            uow.retention.set_hold(case_id, False, None, None, None)
        uow.audit.record(now, actor.username, "case.legal_hold_set" if held else "case.legal_hold_cleared", case_id,
                         data={"motivo": reason})
        uow.commit()


def holds(rt: Runtime, actor: Actor) -> list[dict[str, Any]]:
    """Cases under legal hold."""
    authorization.require_admin(actor)
    with rt.uow(write=False) as uow:
        return uow.retention.holds()

