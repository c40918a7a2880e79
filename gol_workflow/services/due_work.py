"""Everything that falls due with time, run once: meeting cut-offs and instance timers oldest first, then notices and e-mail."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ..domain.model import SYSTEM, Actor
from . import meetings, notifications, outbox, timers
from .runtime import Runtime


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
        self.notices.digests += other.notices.digests
        self.notices.immediate += other.notices.immediate


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


def heads(rt: Runtime) -> Heads:
    """Read the earliest due moments from the indexed columns."""
    with rt.uow(write=False) as uow:
        return Heads(uow.instances.earliest_due(), uow.meetings.earliest_due(), uow.outbox.earliest_due(),
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
    the clock afresh, so a long catch-up stamps every firing with its real moment.
    """
    report = DueReport()
    if plan:
        report.meetings_planned = meetings.plan_meetings(rt, now)
    while True:
        moment = now or rt.now()
        head = heads(rt)
        meeting_due = head.meeting is not None and head.meeting <= moment
        timer_due = head.timer is not None and head.timer < moment
        if meeting_due and (not timer_due or head.meeting <= head.timer):  # type: ignore[operator]
            convened = meetings.convene_due(rt, now, until=head.timer)
            report.meetings_convened += convened.convened
            report.meetings_cancelled += convened.cancelled
            report.meetings_failed += convened.failed
            progressed = convened.total > 0
        elif timer_due:
            fired = timers.run_due_timers(rt, now, actor=actor, before=head.meeting, before_commit=before_commit)
            report.timers_fired += fired
            progressed = fired > 0
        else:
            break
        if not progressed:  # another scheduler holds what is due: it will finish it
            break
    if mail:
        report.notices = notifications.send_due_notices(rt, now)
        report.mail = outbox.dispatch_due(rt, now)
    return report
