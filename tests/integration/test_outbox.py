"""The ordine del giorno by e-mail through a real SMTP server on loopback; the outbox loses nothing, sends once."""

from __future__ import annotations

import ssl
from datetime import datetime, timedelta
from email.message import EmailMessage
from itertools import pairwise

import pytest
import trustme
from aiosmtpd.smtp import AuthResult
from icalendar import Calendar

from gol_workflow.config import SmtpSettings
from gol_workflow.domain.errors import InvalidState
from gol_workflow.services.mail import outbox
from gol_workflow.services.administration import scheduler_overview, scheduling
from gol_workflow.services.workflow.due_work import run_due_work
from gol_workflow.services.workflow.runtime import Runtime
from tests.conftest import ADMIN, ROME
from tests.integration.scheduling_support import (  # noqa: F401 - fixtures
    SENDER,
    SmtpServer,
    audit_actions,
    meeting_rt,
    smtp_server,
    start_case,
)


def convene_first_meeting(rt: Runtime, clock) -> None:
    start_case(rt, "nord", "rossi", bisogni_particolari=True, servizi_specialistici=["salute_mentale"],
               conosciuto_servizio_sociale=False)
    start_case(rt, "nord", "bianchi", bisogni_particolari=True, servizi_specialistici=["dipendenze", "salute_mentale"])
    start_case(rt, "nord", "verdi")
    clock.set(datetime(2026, 1, 8, 9, 30, tzinfo=ROME))


def convene_plain_meeting(rt: Runtime, clock) -> None:
    """A meeting without particular needs: one message, to the SdS referents only."""
    start_case(rt, "nord", "rossi", conosciuto_servizio_sociale=False)
    start_case(rt, "nord", "verdi")
    clock.set(datetime(2026, 1, 8, 9, 30, tzinfo=ROME))


def only_message(server: SmtpServer) -> tuple[str, list[str], EmailMessage]:
    assert len(server.mailbox.messages) == 1, [m[2]["Subject"] for m in server.mailbox.messages]
    return server.mailbox.messages[0]


def test_the_agenda_arrives_with_names_services_and_a_calendar_invitation(meeting_rt: Runtime, clock,
                                                                          smtp_server: SmtpServer) -> None:
    rt = meeting_rt
    convene_first_meeting(rt, clock)
    report = run_due_work(rt)
    assert report.meetings_convened == ["nord-20260113"] and report.mail.sent == 3
    messages = {tuple(rcpts): message for _, rcpts, message in smtp_server.mailbox.messages}
    assert set(messages) == {("equipe@sds-nord.example.it", "coordinamento@sds-nord.example.it"),
                             ("ufsma@asl-nord.example.it",), ("serd@asl-nord.example.it",)}
    # Each specialist service reads only the people it follows (health data: GDPR art. 9).
    serd = messages[("serd@asl-nord.example.it",)].get_body(("plain",)).get_content()
    assert "Bianchi Laura (BNCLRA85M41G713K)" in serd and "Rossi" not in serd and "Verdi" not in serd
    ufsma = messages[("ufsma@asl-nord.example.it",)].get_body(("plain",)).get_content()
    assert "Bianchi Laura" in ufsma and "Rossi Mario" in ufsma and "Verdi" not in ufsma
    assert "il servizio Salute mentale adulti è invitato" in ufsma
    recipients = ["equipe@sds-nord.example.it", "coordinamento@sds-nord.example.it"]
    sender, message = SENDER, messages[tuple(recipients)]
    assert sender == SENDER
    body = message.get_body(("plain",)).get_content()
    assert "martedì 13 gennaio 2026, ore 09:30" in body and "presso SdS Nord, sala riunioni, Pistoia" in body
    assert "1. Bianchi Laura (BNCLRA85M41G713K) – prima valutazione" in body
    assert "2. Rossi Mario (RSSMRA80A01G713N) – prima valutazione, partecipa la persona" in body
    assert "3. Verdi Giuseppe (VRDGPP70C10E715S) – prima valutazione" in body
    assert "Salute mentale adulti, per: Bianchi Laura (BNCLRA85M41G713K); Rossi Mario (RSSMRA80A01G713N)" in body
    assert "Dipendenze (SerD), per: Bianchi Laura (BNCLRA85M41G713K)" in body
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "text/calendar" and attachment.get_param("method") == "REQUEST"
    assert attachment.get_filename() == "equipe-nord-20260113.ics"
    event = Calendar.from_ical(attachment.get_content()).walk("VEVENT")[0]
    assert event["dtstart"].params["TZID"] == "Europe/Rome"
    assert event.decoded("dtstart") == datetime(2026, 1, 13, 9, 30, tzinfo=ROME)
    assert event.decoded("dtstart").utcoffset() == timedelta(hours=1)
    assert str(event["summary"]) == "Equipe GOL Percorso 4 – Zona Nord"
    assert str(event["location"]) == "SdS Nord, sala riunioni, Pistoia"
    assert sorted(str(a) for a in event["attendee"]) == sorted(f"mailto:{r}" for r in recipients)
    assert str(event["uid"]) == "nord-20260113@gol-workflow"
    rows = {tuple(r["recipients"]): r for r in outbox.list_messages(rt)}
    row = rows[tuple(recipients)]
    assert row["status"] == "sent" and row["message_id"] == message["Message-ID"] and row["attempts"] == 1


def test_an_unreachable_server_keeps_the_message_and_sends_it_once_when_back(meeting_rt: Runtime, clock,
                                                                              smtp_server: SmtpServer) -> None:
    rt = meeting_rt
    smtp_server.stop()
    convene_plain_meeting(rt, clock)
    run_due_work(rt)
    seen: list[tuple[int, datetime]] = []
    for _ in range(4):
        [row] = outbox.list_messages(rt)
        assert row["status"] == "pending" and "cannot reach the mail server" in row["last_error"]
        seen.append((row["attempts"], row["next_attempt_at"]))
        clock.set(row["next_attempt_at"])
        assert run_due_work(rt).mail.retrying == 1
    [row] = outbox.list_messages(rt)
    waiting = [item for item in scheduling.due_items(rt) if item.kind == "mail"]
    assert [(item.ref, item.due_at) for item in waiting] == [(str(row["id"]), row["next_attempt_at"])]
    attempts = [a for a, _ in seen]
    gaps = [later - earlier for (_, earlier), (_, later) in pairwise(seen)]
    assert attempts == [1, 2, 3, 4]
    assert gaps == [timedelta(minutes=2), timedelta(minutes=4), timedelta(minutes=8)]  # back-off grows
    smtp_server.start()
    [row] = outbox.list_messages(rt)
    clock.set(row["next_attempt_at"])
    assert run_due_work(rt).mail.sent == 1
    clock.set(clock.now() + timedelta(days=1))
    assert run_due_work(rt).mail.sent == 0
    only_message(smtp_server)
    assert outbox.counts(rt) == {"pending": 0, "sending": 0, "sent": 1, "failed": 0, "expired": 0}
    assert len(audit_actions(rt, "mail.sent")) == 1


def test_nothing_is_sent_before_the_cutoff(meeting_rt: Runtime, clock, smtp_server: SmtpServer) -> None:
    rt = meeting_rt
    convene_first_meeting(rt, clock)
    clock.set(datetime(2026, 1, 8, 9, 29, tzinfo=ROME))
    run_due_work(rt)
    assert smtp_server.mailbox.messages == [] and outbox.list_messages(rt) == []


def test_a_message_the_server_refuses_for_good_waits_for_the_admin(meeting_rt: Runtime, clock,
                                                                    smtp_server: SmtpServer) -> None:
    rt = meeting_rt

    async def refuse(server, session, envelope, address, options):
        return "550 5.1.1 mailbox unavailable"

    smtp_server.mailbox.handle_RCPT = refuse  # type: ignore[attr-defined]
    convene_plain_meeting(rt, clock)
    assert run_due_work(rt).mail.failed == 1
    [row] = outbox.list_messages(rt, "failed")
    assert "550" in row["last_error"] and row["next_attempt_at"] is None
    clock.set(clock.now() + timedelta(hours=3))
    assert run_due_work(rt).mail.failed == 0  # not retried on its own
    del smtp_server.mailbox.handle_RCPT  # type: ignore[attr-defined]
    scheduler_overview.send_now(rt, ADMIN, row["id"])
    assert run_due_work(rt).mail.sent == 1
    only_message(smtp_server)
    with pytest.raises(InvalidState):
        scheduler_overview.send_now(rt, ADMIN, row["id"])


def test_a_send_interrupted_mid_way_is_taken_over_after_the_lease(meeting_rt: Runtime, clock,
                                                                  smtp_server: SmtpServer) -> None:
    rt = meeting_rt
    convene_plain_meeting(rt, clock)
    run_due_work(rt, mail=False)
    with rt.uow() as uow:  # a sender claims the message, then dies before settling it
        [claimed] = uow.outbox.claim_due(rt.now(), rt.now() + outbox.LEASE, 10)
        uow.commit()
    assert run_due_work(rt).mail.sent == 0  # still leased to the dead sender
    clock.set(rt.now() + outbox.LEASE)
    assert run_due_work(rt).mail.sent == 1
    _, _, message = only_message(smtp_server)
    assert message["Message-ID"] == claimed["message_id"]  # a resend carries the same Message-ID


def test_queueing_the_same_agenda_twice_keeps_one_message(meeting_rt: Runtime) -> None:
    rt = meeting_rt
    message = outbox.Outgoing("odg:prova", ["a@example.it"], "Oggetto", "Testo")
    with rt.uow() as uow:
        first = outbox.enqueue(uow, rt.now(), SENDER, message)
        second = outbox.enqueue(uow, rt.now(), SENDER, message)
        uow.commit()
    assert first == second and len(outbox.list_messages(rt)) == 1


@pytest.fixture
def tls_ca(monkeypatch: pytest.MonkeyPatch, tmp_path) -> trustme.CA:
    """A private CA the mail client trusts (as an organisation's relay certificate would be)."""
    ca = trustme.CA()
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    return ca


def server_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    return context


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_the_agenda_goes_over_tls_with_credentials_from_the_settings(meeting_rt: Runtime, clock, tls_ca,
                                                                     security: str) -> None:
    logins: list[tuple[str, str]] = []

    def authenticate(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=auth_data.password == b"segreta")

    tls = {"tls_context": server_context(tls_ca), "require_starttls": True} if security == "starttls" else \
        {"ssl_context": server_context(tls_ca), "auth_require_tls": False}  # aiosmtpd cannot tell TLS-on-connect
    server = SmtpServer(auth_required=True, authenticator=authenticate, **tls)
    server.start()
    try:
        rt = meeting_rt
        rt.settings = rt.settings.with_overrides(smtp=SmtpSettings(
            host="127.0.0.1", port=server.port, security=security, username="gol", password="segreta",
            sender=SENDER, timeout=5.0))
        convene_plain_meeting(rt, clock)
        assert run_due_work(rt).mail.sent == 1
    finally:
        server.stop()
    assert logins == [("gol", "segreta")]
    only_message(server)


def test_wrong_credentials_keep_the_message_waiting(meeting_rt: Runtime, clock, tls_ca) -> None:
    server = SmtpServer(tls_context=server_context(tls_ca), require_starttls=True, auth_required=True,
                        authenticator=lambda *args: AuthResult(success=False, handled=False))
    server.start()
    try:
        rt = meeting_rt
        rt.settings = rt.settings.with_overrides(smtp=SmtpSettings(
            host="127.0.0.1", port=server.port, security="starttls", username="gol", password="sbagliata",
            sender=SENDER, timeout=5.0))
        convene_plain_meeting(rt, clock)
        assert run_due_work(rt).mail.retrying == 1
    finally:
        server.stop()
    [row] = outbox.list_messages(rt)
    assert row["status"] == "pending" and "535" in row["last_error"]
