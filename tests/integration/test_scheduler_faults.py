"""One stuck or failing instance holds up no other due work; a mail server down for days crashes nothing."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import pytest
from argon2 import PasswordHasher
from gol_workflow.scheduler import Scheduler, SchedulerOptions
from gol_workflow.services.workflow import instances as instance_service
from gol_workflow.services.meetings import equipe
from gol_workflow.services.mail import outbox
from gol_workflow.services.workflow import timers
from gol_workflow.services.access import users
from gol_workflow.services.workflow.due_work import run_due_work
from gol_workflow.services.workflow.runtime import Runtime
from gol_workflow.web import create_app
from tests.conftest import ADMIN, DATA, ROME, deploy_dir, on_postgres
from tests.integration.scheduling_support import (  # noqa: F401 - fixtures
    SmtpServer,
    audit_actions,
    fired_counts,
    header,
    meeting,
    meeting_rt,
    smtp_server,
    start_case,
)
from tests.web.conftest import Browser

OTHERS = 20
MAX_ATTEMPTS = 3


def start_timer(rt: Runtime) -> str:
    return instance_service.start_instance(rt, "timer_wait", {"zona": "pistoiese"}, ADMIN).instance_id


@pytest.fixture
def faulty(test_processes: Runtime, clock, monkeypatch) -> tuple[Runtime, str, list[str]]:
    """A poisoned instance due first, then twenty healthy ones due a minute later; the clock past them all."""
    rt = test_processes
    monkeypatch.setattr(rt, "settings", rt.settings.with_overrides(scheduler_max_attempts=MAX_ATTEMPTS,
                                                                    scheduler_lease=30.0))
    poisoned = start_timer(rt)
    clock.set(clock.now() + timedelta(minutes=1))
    others = [start_timer(rt) for _ in range(OTHERS)]
    clock.set(clock.now() + timedelta(days=3))
    return rt, poisoned, others


def failing_for(instance_id: str) -> Callable[[list[str]], None]:
    """A before-commit hook that makes one instance's step fail every time."""

    def hook(claimed: list[str]) -> None:
        if instance_id in claimed:
            raise RuntimeError("the step of this instance always fails")

    return hook


def admin_browser(rt: Runtime, monkeypatch) -> Browser:
    monkeypatch.setattr(users, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    users.add_user(rt, "amministratore", "admin", ADMIN, (), (), "password-di-prova-admin", "Amministratore")
    person = Browser(create_app(rt, {"TESTING": True, "GOL_BATCH_THREAD": False}).test_client())
    response = person.post("/accesso", {"username": "amministratore", "password": "password-di-prova-admin"})
    assert response.status_code == 302
    person.get(response.headers["Location"])
    return person


def test_a_step_that_always_fails_delays_no_other_timer_and_becomes_an_incident(faulty, clock, monkeypatch) -> None:
    rt, poisoned, others = faulty
    hook = failing_for(poisoned)
    started = time.monotonic()
    assert run_due_work(rt, before_commit=hook).timers_fired == OTHERS
    assert time.monotonic() - started < 5
    assert fired_counts(rt) == {instance_id: 1 for instance_id in others}
    for attempt in range(2, MAX_ATTEMPTS + 1):  # back-off: 1 minute, then 2 ...
        assert header(rt, poisoned)["next_due_at"] == clock.now() + timers.failure_backoff(attempt - 1)
        clock.set(header(rt, poisoned)["next_due_at"] + timedelta(seconds=1))
        assert run_due_work(rt, before_commit=hook).timers_fired == 0
    assert len(audit_actions(rt, "scheduler.failed")) == MAX_ATTEMPTS
    clock.set(header(rt, poisoned)["next_due_at"] + timedelta(seconds=1))
    run_due_work(rt, before_commit=hook)
    aside = header(rt, poisoned)
    assert aside["status"] == "error" and aside["next_due_at"] is None  # set aside: no longer fired
    assert "messo da parte" in aside["error"]["message"]
    clock.set(clock.now() + timedelta(days=1))
    assert run_due_work(rt, before_commit=hook).timers_fired == 0
    assert len(audit_actions(rt, "scheduler.failed")) == MAX_ATTEMPTS

    admin = admin_browser(rt, monkeypatch)
    page = admin.text("/admin/errori")
    assert "Lo scheduler ha tentato 3 volte" in page and "tentato più volte questo passo" in page
    assert page.count("data-errore=") == 1
    # The administrator fixed the cause and retries: the timer fires, once.
    assert admin.post(f"/admin/istanze/{poisoned}/ripeti", {}).status_code in (200, 302)
    assert header(rt, poisoned)["status"] == "waiting"
    assert run_due_work(rt).timers_fired == 1
    assert fired_counts(rt)[poisoned] == 1
    assert "Nessun errore aperto" in admin.text("/admin/errori")  # the retry resolved the incident


def test_a_scheduler_abandoned_mid_step_holds_its_claim_only_until_the_lease_ends(faulty, clock) -> None:
    rt, poisoned, others = faulty
    # A scheduler claimed the poisoned instance and died (or hangs) before committing its step.
    with rt.uow() as uow:
        [row] = uow.instances.claim_due_rows(clock.now(), 1, now=clock.now())
        assert row["id"] == poisoned
        uow.instances.lease([poisoned], clock.now() + timedelta(seconds=rt.settings.scheduler_lease))
        uow.commit()
    assert run_due_work(rt).timers_fired == OTHERS  # the next scheduler passes over the leased instance
    assert poisoned not in fired_counts(rt)
    clock.set(clock.now() + timedelta(seconds=rt.settings.scheduler_lease + 1))
    assert run_due_work(rt).timers_fired == 1  # the lease ran out: taken over, fired once
    assert fired_counts(rt) == {instance_id: 1 for instance_id in [poisoned, *others]}
    assert header(rt, poisoned)["claimed_until"] is None and header(rt, poisoned)["due_attempts"] == 0


@pytest.fixture
def hang() -> Iterator[threading.Event]:
    """Released at the end of the test: every step blocked on it then finishes."""
    release = threading.Event()
    yield release
    release.set()
    time.sleep(0.5)  # let the abandoned steps end before the database is dropped


@pytest.mark.skipif(not on_postgres(), reason="a hung step holds SQLite's only write lock: PostgreSQL only")
def test_a_hanging_step_is_cut_short_and_a_running_scheduler_fires_the_others_within_seconds(
        faulty, clock, hang: threading.Event, monkeypatch) -> None:
    rt, poisoned, others = faulty
    monkeypatch.setattr(rt, "settings", rt.settings.with_overrides(scheduler_step_timeout=0.5))

    def hanging(claimed: list[str]) -> None:
        if poisoned in claimed:
            hang.wait(60)

    scheduler = Scheduler(rt, SchedulerOptions(poll_seconds=0.2, plan_seconds=3600, before_commit=hanging))
    scheduler.start()
    try:
        deadline = time.monotonic() + 3.0
        while len(fired_counts(rt)) < OTHERS and time.monotonic() < deadline:
            time.sleep(0.05)
        assert fired_counts(rt) == {instance_id: 1 for instance_id in others}
        assert header(rt, poisoned)["status"] == "waiting" and header(rt, poisoned)["due_attempts"] == 1
        deadline = time.monotonic() + 20
        while header(rt, poisoned)["status"] == "waiting" and time.monotonic() < deadline:
            attempts = header(rt, poisoned)["due_attempts"]
            clock.set(clock.now() + timedelta(seconds=rt.settings.scheduler_lease + 1))  # the lease runs out
            while header(rt, poisoned)["due_attempts"] == attempts and time.monotonic() < deadline:
                time.sleep(0.05)  # taken again: this attempt hangs too
        assert len(audit_actions(rt, "instance.error")) == 1
        aside = header(rt, poisoned)
        assert aside["status"] == "error" and aside["next_due_at"] is None
    finally:
        scheduler.stop()
    hang.set()  # the late steps now try to commit: the instance set aside is not fired behind its back
    time.sleep(0.5)
    assert poisoned not in fired_counts(rt)
    assert header(rt, poisoned)["status"] == "error"


def test_a_cutoff_that_crashes_delays_no_timer_due_after_it_and_is_retried(meeting_rt: Runtime, clock,
                                                                            monkeypatch) -> None:
    rt = meeting_rt
    deploy_dir(rt, DATA / "processes", DATA / "forms")
    start_case(rt, "nord", "rossi")  # on the agenda of 13 January: cut-off on the 8th at 09:30
    clock.set(datetime(2026, 1, 6, 10, 0, tzinfo=ROME))
    timer = start_timer(rt)  # due on the 8th at 10:00, after the cut-off

    def crash(*args, **kwargs):
        raise RuntimeError("the meeting's data cannot be built")

    monkeypatch.setattr(equipe, "meeting_data", crash)
    clock.set(datetime(2026, 1, 8, 11, 0, tzinfo=ROME))
    report = run_due_work(rt)
    assert report.meetings_failed == ["nord-20260113"] and report.timers_fired == 1
    assert fired_counts(rt) == {timer: 1}
    row = meeting(rt, "nord-20260113")
    assert row["status"] == "planned" and row["attempts"] == 1 and row["claimed_until"] is None
    assert row["due_at"] == clock.now() + equipe.RETRY_DELAYS[0] and "cannot be built" in row["last_error"]
    monkeypatch.undo()
    clock.set(row["due_at"])
    assert run_due_work(rt).meetings_convened == ["nord-20260113"]


# -- the e-mail outbox -------------------------------------------------------------------------


def test_retry_delay_stays_bounded_for_any_number_of_attempts() -> None:
    assert outbox.retry_delay(1) == timedelta(minutes=1)
    assert outbox.retry_delay(43) == outbox.LONGEST_RETRY
    assert outbox.retry_delay(10_000) == outbox.LONGEST_RETRY


def queue_message(rt: Runtime, **fields) -> int:
    with rt.uow() as uow:
        message_id = outbox.enqueue(uow, rt.now(), rt.settings.smtp.sender, outbox.Outgoing(
            dedup_key="prova", recipients=["equipe@sds-nord.example.it"], subject="Prova", body="Prova", **fields),
            expiry=rt.settings.mail_expiry)
        uow.commit()
    return message_id


def test_a_server_down_for_days_is_retried_hourly_without_errors_then_the_message_expires(
        meeting_rt: Runtime, clock, smtp_server: SmtpServer) -> None:
    rt = meeting_rt
    smtp_server.stop()
    message_id = queue_message(rt)
    expires = outbox.message(rt, message_id)["expires_at"]
    assert expires == clock.now() + timedelta(days=7)  # the default expiry
    gaps = []
    while (row := outbox.message(rt, message_id))["status"] == "pending":
        gaps.append(row["next_attempt_at"] - clock.now())
        clock.set(row["next_attempt_at"])
        report = run_due_work(rt)
        assert report.mail_error is None
    assert row["status"] == "expired" and row["attempts"] > 100  # far beyond the 42nd attempt
    assert max(gaps) == outbox.LONGEST_RETRY
    assert clock.now() <= expires + outbox.LONGEST_RETRY
    [event] = audit_actions(rt, "mail.expired")
    assert event["data"]["outbox_id"] == message_id
    smtp_server.start()
    clock.set(clock.now() + timedelta(days=1))
    assert run_due_work(rt).mail.sent == 0
    assert smtp_server.mailbox.messages == []  # never sent after its expiry
    assert outbox.counts(rt)["expired"] == 1


def test_an_agenda_whose_meeting_has_passed_is_never_sent(meeting_rt: Runtime, clock,
                                                          smtp_server: SmtpServer) -> None:
    rt = meeting_rt
    smtp_server.stop()
    start_case(rt, "nord", "rossi", conosciuto_servizio_sociale=False)
    clock.set(datetime(2026, 1, 8, 9, 30, tzinfo=ROME))  # the cut-off of the 13 January meeting
    report = run_due_work(rt)
    assert report.meetings_convened == ["nord-20260113"] and report.mail.retrying == 1
    [row] = outbox.list_messages(rt)
    assert row["expires_at"] == datetime(2026, 1, 13, 9, 30, tzinfo=ROME)  # the meeting's start
    clock.set(datetime(2026, 1, 13, 10, 0, tzinfo=ROME))
    smtp_server.start()
    assert run_due_work(rt).mail.expired == 1
    assert outbox.message(rt, row["id"])["status"] == "expired"
    clock.set(clock.now() + timedelta(hours=2))
    assert run_due_work(rt).mail.sent == 0
    assert smtp_server.mailbox.messages == []


def test_expired_mail_is_counted_on_the_admin_scheduler_page(meeting_rt: Runtime, clock, smtp_server,
                                                             monkeypatch) -> None:
    rt = meeting_rt
    smtp_server.stop()
    queue_message(rt, expires_at=clock.now() + timedelta(hours=1))
    clock.set(clock.now() + timedelta(hours=2))
    assert run_due_work(rt).mail.expired == 1
    page = admin_browser(rt, monkeypatch).text("/admin/scheduler?posta=expired")
    assert 'data-posta="expired">1<' in page and "Scaduta" in page and "Prova" in page


def test_an_outbox_that_raises_stops_no_timer(test_processes: Runtime, clock, monkeypatch) -> None:
    rt = test_processes
    first, second = start_timer(rt), start_timer(rt)

    def broken(*args, **kwargs):
        raise OverflowError("date value out of range")

    monkeypatch.setattr(outbox, "dispatch_due", broken)
    clock.set(clock.now() + timedelta(days=3))
    report = run_due_work(rt)
    assert report.timers_fired == 2 and "OverflowError" in (report.mail_error or "")
    assert fired_counts(rt) == {first: 1, second: 1}
    # A running scheduler: the mail job fails on every run, timers falling due meanwhile still fire.
    third = start_timer(rt)
    scheduler = Scheduler(rt, SchedulerOptions(poll_seconds=0.2, plan_seconds=3600))
    scheduler.start()
    try:
        clock.set(clock.now() + timedelta(days=3))
        deadline = time.monotonic() + 5
        while third not in fired_counts(rt) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        scheduler.stop()
    assert fired_counts(rt)[third] == 1
    assert "OverflowError" in (scheduler.last_error or "")

