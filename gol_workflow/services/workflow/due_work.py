"""Everything that falls due with time, run once: meeting cut-offs and instance timers oldest first, then notices and e-mail."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from ...domain.model import SYSTEM, Actor
from ..meetings import equipe
from ..mail import notifications, outbox
from . import timers
from .runtime import Runtime
from .step_runner import StepRunner, step_runner

log = logging.getLogger(__name__)


@dataclass
class DueReport:
    """What a pass over the due work did."""

    timers_fired: int = 0
    meetings_convened: list[str] = field(default_factory=list)
    meetings_cancelled: list[str] = field(default_factory=list)
    meetings_failed: list[str] = field(default_factory=list)
    meetings_planned: int = 0
    mail: outbox.DispatchReport = field(default_factory=outbox.DispatchReport)
    notices: notifications.NoticeReport = field(default_factory=notifications.NoticeReport)
    mail_error: str | None = None  # the outbox pass failed: timers and cut-offs were not held up by it

    @property
    def anything(self) -> bool:
        """True when the pass changed something."""
        return bool(self.timers_fired or self.meetings_convened or self.meetings_cancelled
                    or self.meetings_failed or self.mail.sent or self.mail.failed)

    def add(self, other: DueReport) -> None:
        """Accumulate another pass into this one."""
        self.timers_fired += other.timers_fired
        self.meetings_convened += other.meetings_convened
        self.meetings_cancelled += other.meetings_cancelled
        self.meetings_failed += other.meetings_failed
        self.meetings_planned += other.meetings_planned
        self.mail.sent += other.mail.sent
        self.mail.retrying += other.mail.retrying
        self.mail.failed += other.mail.failed
        self.mail.expired += other.mail.expired
        self.notices.digests += other.notices.digests
        self.notices.immediate += other.notices.immediate
        self.mail_error = other.mail_error or self.mail_error


@dataclass(frozen=True)
class Heads:
    """The earliest due moment of each kind of work."""

    timer: datetime | None
    meeting: datetime | None
    mail: datetime | None
    digest: datetime | None = None

    @property
    def process_work(self) -> datetime | None:
        """The earliest timer, meeting cut-off or digest (the moments a simulated clock stops at)."""
        return min((d for d in (self.timer, self.meeting, self.digest) if d is not None), default=None)

    @property
    def earliest(self) -> datetime | None:
        """The earliest due moment of any kind."""
        return min((d for d in (self.timer, self.meeting, self.mail, self.digest) if d is not None), default=None)


def heads(rt: Runtime, now: datetime | None = None) -> Heads:
    """Read the earliest moments due work can be taken, from the indexed columns (leased work from its lease end)."""
    moment = now or rt.now()
    with rt.uow(write=False) as uow:
        return Heads(uow.instances.earliest_due(moment), uow.meetings.earliest_due(moment), uow.outbox.earliest_due(),
                     notifications.digest_due(rt, uow))


def run_due_work(
    rt: Runtime,
    now: datetime | None = None,
    actor: Actor = SYSTEM,
    plan: bool = True,
    mail: bool = True,
    before_commit: timers.BeforeCommit | None = None,
) -> DueReport:
    """Plan meetings, then convene cut-offs and fire timers in due order, then send due e-mail.

    With `now` every step runs at that instant (the simulated clock's stops); without it each batch reads
    the clock afresh, so a long catch-up stamps every firing with its real moment. Each step runs in its
    own transaction, bounded by `scheduler_step_timeout`; a failing or late one holds up nothing else.
    The e-mail pass cannot stop the rest: its failure is logged and reported in `mail_error`.
    """
    report = DueReport()
    if plan:
        report.meetings_planned = equipe.plan_meetings(rt, now)
    runner = step_runner(rt)
    try:
        _run_process_work(rt, now, actor, before_commit, runner, report)
    finally:
        runner.close()
    if mail:
        report.mail_error = send_mail(rt, now, report.mail, report.notices)
    return report


def _run_process_work(rt: Runtime, now: datetime | None, actor: Actor, before_commit: timers.BeforeCommit | None,
                      runner: StepRunner, report: DueReport) -> None:
    while True:
        moment = now or rt.now()
        head = heads(rt, moment)
        meeting_due = head.meeting is not None and head.meeting <= moment
        timer_due = head.timer is not None and head.timer < moment
        if meeting_due and (not timer_due or head.meeting <= head.timer):  # type: ignore[operator]
            convened = equipe.convene_due(rt, now, until=head.timer, runner=runner)
            report.meetings_convened += convened.convened
            report.meetings_cancelled += convened.cancelled
            report.meetings_failed += convened.failed
            progressed = convened.total > 0
        elif timer_due:
            fired = timers.run_due_timers(rt, now, actor=actor, before=head.meeting, before_commit=before_commit,
                                          runner=runner)
            report.timers_fired += fired
            # Failed, late or set-aside timers are leased or postponed: the heads have moved past them.
            progressed = fired > 0 or _moved(rt, moment, head)
        else:
            break
        if not progressed:  # another scheduler holds what is due: it will finish it
            break


def _moved(rt: Runtime, moment: datetime, before: Heads) -> bool:
    after = heads(rt, moment)
    return (after.timer, after.meeting) != (before.timer, before.meeting)


def send_mail(rt: Runtime, now: datetime | None = None, report: outbox.DispatchReport | None = None,
              notices: notifications.NoticeReport | None = None) -> str | None:
    """Queue the task notices due, then run one outbox pass; failures are logged and returned as text, never raised.

    Timers and cut-offs must never depend on mail, and the outbox must not depend on the notices.
    """
    errors: list[str] = []
    try:
        queued = notifications.send_due_notices(rt, now)
    except Exception as exc:  # noqa: BLE001 - a notice pass that fails must not hold up the outbox
        log.exception("queuing task notices failed")
        errors.append(f"{exc.__class__.__name__}: {exc}")
    else:
        if notices is not None:
            notices.digests += queued.digests
            notices.immediate += queued.immediate
    try:
        found = outbox.dispatch_due(rt, now)
    except Exception as exc:  # noqa: BLE001 - the outbox must never stop timers and cut-offs
        log.exception("the e-mail outbox pass failed")
        errors.append(f"{exc.__class__.__name__}: {exc}")
    else:
        if report is not None:
            report.sent += found.sent
            report.retrying += found.retrying
            report.failed += found.failed
            report.expired += found.expired
    return "; ".join(errors) or None
