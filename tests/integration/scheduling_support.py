"""Shared fixtures and helpers for the timer, meeting, outbox and clock tests (imported by those modules)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from gol_workflow.bootstrap import bootstrap
from gol_workflow.cli import common
from gol_workflow.cli import main as cli_main
from gol_workflow.clock import ManualClock
from gol_workflow.config import Settings, SmtpSettings
from gol_workflow.persistence.sealing import opened
from gol_workflow.persistence.tables import audit_events, tasks
from gol_workflow.services.workflow import instances as instance_service
from gol_workflow.services.workflow import tasks as task_service
from gol_workflow.services.workflow.runtime import Runtime
from tests.conftest import ADMIN, DATA, ROME, deploy_dir

MEETING_PROCESSES = DATA / "processes-meetings"
MEETING_FORMS = MEETING_PROCESSES / "forms"
TEST_ZONES = DATA / "zones"
SENDER = "gol-percorso4@cpi.example.it"

PEOPLE = {
    "rossi": {"codice_fiscale": "RSSMRA80A01G713N", "nome": "Mario", "cognome": "Rossi", "data_nascita": "1980-01-01"},
    "bianchi": {"codice_fiscale": "BNCLRA85M41G713K", "nome": "Laura", "cognome": "Bianchi",
                "data_nascita": "1985-08-01"},
    "verdi": {"codice_fiscale": "VRDGPP70C10E715S", "nome": "Giuseppe", "cognome": "Verdi",
              "data_nascita": "1970-03-10"},
}


def free_port() -> int:
    """An unused TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Mailbox:
    """What a loopback SMTP server received."""

    messages: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


class SmtpServer:
    """A real SMTP server (aiosmtpd) on a loopback port that can be started and stopped.

    `options` go to aiosmtpd: e.g. `tls_context` with `require_starttls`, `ssl_context` for implicit TLS,
    `auth_required` with an `authenticator`.
    """

    def __init__(self, port: int | None = None, **options: Any) -> None:
        self.port = port or free_port()
        self.mailbox = Mailbox()
        self.options = options
        self._controller: Controller | None = None

    def start(self) -> None:
        """Accept mail on the port."""
        self._controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port, **self.options)
        self._controller.start()

    def stop(self) -> None:
        """Stop accepting mail (the port refuses connections)."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A running loopback SMTP server, stopped after the test."""
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


def scheduling_settings(settings: Settings, smtp_port: int) -> Settings:
    """Test settings with the test zones and SMTP on a loopback port."""
    return settings.with_overrides(
        zones_dir=TEST_ZONES,
        smtp=SmtpSettings(host="127.0.0.1", port=smtp_port, sender=SENDER, timeout=5.0),
    )


@pytest.fixture
def meeting_rt(settings: Settings, clock: ManualClock, smtp_server: SmtpServer) -> Iterator[Runtime]:
    """A runtime on the test zones, with the small case and meeting processes deployed and SMTP up."""
    rt = bootstrap(scheduling_settings(settings, smtp_server.port), clock=clock)
    deploy_dir(rt, MEETING_PROCESSES, MEETING_FORMS)
    yield rt
    rt.db.dispose()


def start_case(rt: Runtime, zone: str, person: str, **data: Any) -> str:
    """Open a small test case that books itself onto its zone's next equipe."""
    initial = {
        "zona": zone,
        "beneficiario": PEOPLE[person],
        "bisogni_particolari": False,
        "servizi_specialistici": [],
        "conosciuto_servizio_sociale": True,
        **data,
    }
    return instance_service.start_instance(rt, "caso_equipe", initial, ADMIN).instance_id


def header(rt: Runtime, instance_id: str) -> dict[str, Any]:
    """An instance row without its state."""
    with rt.uow(write=False) as uow:
        row = uow.instances.header(instance_id)
        assert row is not None
        return dict(row)


def meeting(rt: Runtime, meeting_id: str) -> dict[str, Any]:
    """A meeting row."""
    with rt.uow(write=False) as uow:
        row = uow.meetings.get(meeting_id)
        assert row is not None, meeting_id
        return dict(row)


def agenda(rt: Runtime, meeting_id: str) -> list[str]:
    """Case ids on a meeting's agenda."""
    with rt.uow(write=False) as uow:
        return [row["case_id"] for row in uow.meetings.agenda(meeting_id)]


def ready(rt: Runtime, instance_id: str | None = None) -> list[dict[str, Any]]:
    """Inbox rows, of one instance or all, oldest first."""
    with rt.uow(write=False) as uow:
        stmt = select(tasks).order_by(tasks.c.created_at, tasks.c.beneficiary_name)
        if instance_id is not None:
            stmt = stmt.where(tasks.c.instance_id == instance_id)
        return [dict(r) for r in uow.conn.execute(stmt).mappings()]


def complete_schede(rt: Runtime, meeting_instance: str, decision: str = "percorso di inclusione") -> int:
    """Write the scheda di esito of every case on a running meeting."""
    done = 0
    for task in ready(rt, meeting_instance):
        task_service.complete_task(rt, task["id"], {"decisione": decision}, ADMIN)
        done += 1
    return done


def audit_actions(rt: Runtime, action: str) -> list[dict[str, Any]]:
    """Audit events of one action, in the order they were written."""
    with rt.uow(write=False) as uow:
        stmt = select(audit_events).where(audit_events.c.action == action).order_by(audit_events.c.id)
        return opened(uow.conn, uow.conn.execute(stmt).mappings().all())


def fired_counts(rt: Runtime) -> dict[str, int]:
    """How many `timer.fired` events each instance has."""
    with rt.uow(write=False) as uow:
        stmt = (
            select(audit_events.c.instance_id, func.count())
            .where(audit_events.c.action == "timer.fired")
            .group_by(audit_events.c.instance_id)
        )
        return {row[0]: int(row[1]) for row in uow.conn.execute(stmt)}


def local(moment: datetime) -> str:
    """ISO text of an instant in Rome, to the minute."""
    return moment.astimezone(ROME).isoformat(timespec="minutes")


def run_cli(monkeypatch: pytest.MonkeyPatch, rt: Runtime, capsys: pytest.CaptureFixture[str], *argv: str,
            clock_mode: str = "system") -> tuple[int, str, str]:
    """Run `gol-workflow ARGV` in this process against the test database; returns status, stdout, stderr."""
    monkeypatch.setenv("GOL_DATABASE_URL", rt.settings.database_url)
    monkeypatch.setenv("GOL_SECRET_KEY", "test")
    monkeypatch.setenv("GOL_ZONES_DIR", str(rt.settings.zones_dir))
    monkeypatch.setenv("GOL_VAR_DIR", str(rt.settings.var_dir))
    monkeypatch.setenv("GOL_CLOCK", clock_mode)
    monkeypatch.setenv("GOL_SMTP_HOST", rt.settings.smtp.host)
    monkeypatch.setenv("GOL_SMTP_PORT", str(rt.settings.smtp.port))
    monkeypatch.setenv("GOL_SMTP_SENDER", rt.settings.smtp.sender)
    common.settings.cache_clear()
    common.runtime.cache_clear()
    try:
        code = cli_main(list(argv))
    finally:
        if common.runtime.cache_info().currsize:
            common.runtime().db.dispose()
        common.settings.cache_clear()
        common.runtime.cache_clear()
    out = capsys.readouterr()
    return code, out.out, out.err
