"""The scheduler process: fires due timers, convenes meetings at their cut-off and sends the outbox, on APScheduler."""

from __future__ import annotations

import logging
import os
import socket
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from .services.administration import archive, batch, scheduling
from .services.data_protection import retention
from .services.meetings import equipe
from .services.workflow.due_work import heads, run_due_work, send_mail
from .services.mail.outbox import DispatchReport
from .services.workflow.runtime import Runtime
from .services.workflow.timers import BeforeCommit

log = logging.getLogger(__name__)

DUE_JOB = "due-work"
MAIL_JOB = "mail"
MIN_RESCHEDULE = timedelta(milliseconds=50)  # never re-arm closer than this: the running tick must have ended
WAKE_MARGIN = timedelta(milliseconds=2)  # timers fire when due < now: wake just after the due instant


@dataclass
class SchedulerOptions:
    """How often the scheduler looks, plans and reports."""

    poll_seconds: float = 1.0
    plan_seconds: float = 300.0
    heartbeat_seconds: float = 10.0
    archive_seconds: float = 3600.0  # how often closed cases are archived (with GOL_ARCHIVE_AFTER_MONTHS)
    archive_batches: int = 20  # batches of 500 per run: a run never holds the database for long
    retention_seconds: float = 600.0  # how often the daily retention pass is looked for (it runs once a day)
    name: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    before_commit: BeforeCommit | None = None


class Scheduler:
    """Runs due work as soon as it falls due: polls the indexed heads and sleeps until the earliest one."""

    def __init__(self, rt: Runtime, options: SchedulerOptions | None = None) -> None:
        self.rt = rt
        self.options = options or SchedulerOptions()
        self.started_at = datetime.now(UTC)
        self.totals: dict[str, int] = {"ticks": 0, "timers": 0, "convened": 0, "cancelled": 0, "mail_sent": 0,
                                       "mail_expired": 0}
        self.last_error: str | None = None
        self.lock: scheduling.HeldLock | None = None
        self._stats_lock = threading.Lock()
        self._tick_lock = threading.Lock()
        self._stopping = threading.Event()
        self.aps = BackgroundScheduler(
            timezone=UTC,
            executors={"default": ThreadPoolExecutor(4)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )

    @property
    def simulated(self) -> bool:
        """True when time is the simulated clock: due moments are not wall-clock moments."""
        return self.rt.settings.clock == "simulated"

    def start(self) -> None:
        """Run at once (catching up what fell due while nothing ran), then keep running in background threads."""
        now = datetime.now(UTC)
        opts = self.options
        self.aps.add_job(self.plan, "interval", seconds=opts.plan_seconds, id="plan", next_run_time=now)
        self.aps.add_job(self.tick, "interval", seconds=opts.poll_seconds, id=DUE_JOB, next_run_time=now)
        self.aps.add_job(self.beat, "interval", seconds=opts.heartbeat_seconds, id="heartbeat", next_run_time=now)
        self.aps.add_job(self.batches, "interval", seconds=opts.poll_seconds, id="batches", next_run_time=now)
        # E-mail in a job of its own: a mail server that hangs or a broken message never holds up timers.
        self.aps.add_job(self.mail, "interval", seconds=opts.poll_seconds, id=MAIL_JOB, next_run_time=now)
        if self.rt.settings.archive_after_months is not None:
            self.aps.add_job(self.archive, "interval", seconds=opts.archive_seconds, id="archive", next_run_time=now)
        self.aps.add_job(self.retention, "interval", seconds=opts.retention_seconds, id="retention",
                         next_run_time=now)
        log.info("scheduler %s starting (poll %.1fs)", opts.name, opts.poll_seconds)
        self.aps.start()

    def stop(self) -> None:
        """Finish the work in hand, record a last heartbeat and release the embedded lock."""
        self._stopping.set()
        with self._tick_lock:  # the tick in hand ends without re-arming: shutdown below cannot deadlock with it
            pass
        if self.aps.running:
            self.aps.shutdown(wait=True)
        self.beat(stopped=True)
        if self.lock is not None:
            self.lock.release()
            self.lock = None

    def tick(self) -> None:
        """Run everything due now, then re-arm for the earliest due moment if it comes before the next poll."""
        with self._tick_lock:
            if self._stopping.is_set():
                return
            try:
                report = run_due_work(self.rt, plan=False, mail=False, before_commit=self.options.before_commit)
                with self._stats_lock:
                    self.totals["ticks"] += 1
                    self.totals["timers"] += report.timers_fired
                    self.totals["convened"] += len(report.meetings_convened)
                    self.totals["cancelled"] += len(report.meetings_cancelled)
                self._rearm()
            except Exception as exc:  # the scheduler must outlive a database hiccup
                self.last_error = f"{exc.__class__.__name__}: {exc}"
                log.exception("scheduler tick failed")

    def _rearm(self) -> None:
        if self.simulated:
            return
        earliest = heads(self.rt).process_work
        if earliest is None:
            return
        delay = earliest - self.rt.now()
        if delay >= timedelta(seconds=self.options.poll_seconds) or self._stopping.is_set():
            return
        wake = datetime.now(UTC) + max(delay + WAKE_MARGIN, MIN_RESCHEDULE)
        self.aps.modify_job(DUE_JOB, next_run_time=wake)

    def mail(self) -> None:
        """Send the e-mail that is due and give up what expired (failures are logged, never raised)."""
        if self._stopping.is_set():
            return
        report = DispatchReport()
        error = send_mail(self.rt, report=report)
        with self._stats_lock:
            self.totals["mail_sent"] += report.sent
            self.totals["mail_expired"] += report.expired
        if error is not None:
            self.last_error = error

    def plan(self) -> None:
        """Create the coming weeks' meetings of every zone."""
        try:
            equipe.plan_meetings(self.rt)
        except Exception as exc:  # planning is retried at the next run
            self.last_error = f"{exc.__class__.__name__}: {exc}"
            log.exception("planning meetings failed")

    def retention(self) -> None:
        """The day's retention pass, when no scheduler has run it yet today (by the service clock)."""
        if self._stopping.is_set():
            return
        try:
            retention.run_due(self.rt)
        except Exception as exc:  # the pass is taken up again when its lease ends
            self.last_error = f"{exc.__class__.__name__}: {exc}"
            log.exception("retention pass failed")

    def batches(self) -> None:
        """Carry on the administrators' batch operations, a few seconds per run (they survive restarts)."""
        if self._stopping.is_set():
            return
        try:
            batch.run_batches(self.rt)
        except Exception as exc:  # the batch is taken up again at the next run
            self.last_error = f"{exc.__class__.__name__}: {exc}"
            log.exception("batch operations failed")

    def archive(self) -> int:
        """Move a bounded share of the cases closed GOL_ARCHIVE_AFTER_MONTHS ago to the archive tables; how many."""
        months = self.rt.settings.archive_after_months
        if months is None or self._stopping.is_set():
            return 0
        try:
            return archive.archive_closed(self.rt, months, max_batches=self.options.archive_batches).instances
        except Exception as exc:  # the next run takes up what is left
            self.last_error = f"{exc.__class__.__name__}: {exc}"
            log.exception("archiving closed cases failed")
            return 0

    def beat(self, stopped: bool = False) -> None:
        """Record that this scheduler is alive, with its counters."""
        with self._stats_lock:
            details: dict[str, Any] = {
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "started_at": self.started_at.isoformat(),
                "clock": self.rt.settings.clock,
                "now": self.rt.now().isoformat(),
                "stopped": stopped,
                "last_error": self.last_error,
                **self.totals,
            }
        try:
            scheduling.record_heartbeat(self.rt, self.options.name, details)
        except Exception:  # a missed heartbeat is only a missed heartbeat
            log.exception("recording the heartbeat failed")


def start_embedded_scheduler(rt: Runtime, reloader: bool = False) -> Scheduler | None:
    """Start a background scheduler inside the web process, unless one already runs for this database.

    Under a reloader only the serving child starts one (not the watching parent); among several
    web workers only the one that takes the database-wide lock does. Returns None when not started.
    """
    if not rt.settings.embedded_scheduler:
        return None
    if reloader and os.environ.get("WERKZEUG_RUN_MAIN") != "true":
        return None
    lock = scheduling.claim_embedded_slot(rt)
    if lock is None:
        log.info("an embedded scheduler already runs for this database: not starting another")
        return None
    scheduler = Scheduler(rt, SchedulerOptions())
    scheduler.lock = lock
    scheduler.start()
    return scheduler
