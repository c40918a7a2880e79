"""Operators hear of new and overdue tasks in their queues by e-mail (real SMTP on loopback) and see a badge;
suspended and failed cases are shown as such, and a completion they refuse keeps what was typed."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage

import pytest
from sqlalchemy import update

from gol_workflow.config import SmtpSettings
from gol_workflow.persistence.tables import instances
from gol_workflow.services.mail import notifications
from gol_workflow.services.workflow import instances as instance_service
from gol_workflow.services.workflow import tasks as task_service
from gol_workflow.services.workflow.clock import step_to
from gol_workflow.services.workflow.due_work import run_due_work
from tests.conftest import ADMIN, DATA, ROME
from tests.integration.scheduling_support import SENDER, SmtpServer, smtp_server  # noqa: F401 - fixture

from .conftest import actor_of, ready, start_case

BASE = "https://gol.example.it"


@pytest.fixture
def web_settings(settings, smtp_server: SmtpServer):  # noqa: F811
    """The web test zones, SMTP on a loopback port, links to the service's public address."""
    return settings.with_overrides(
        zones_dir=DATA / "web" / "zones", base_url=BASE,
        smtp=SmtpSettings(host="127.0.0.1", port=smtp_server.port, sender=SENDER, timeout=5.0),
    )


def wants(rt, username: str, mode: str = "digest") -> None:
    notifications.set_preferences(rt, username, mode, ADMIN, f"{username}@example.it")


def mail_to(server: SmtpServer, username: str) -> list[EmailMessage]:
    return [m for _, rcpts, m in server.mailbox.messages if rcpts == [f"{username}@example.it"]]


def body(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()


def test_the_daily_digest_lists_each_persons_queue_by_case_once(web_runtime, clock, smtp_server) -> None:  # noqa: F811
    rt = web_runtime
    for username in ("cpi.nord", "cpi.nord.bis", "cpi.sud", "sds.nord", "ats.nord", "admin"):
        wants(rt, username)
    laura = start_case(rt, "nord")
    gino = start_case(rt, "nord", "Gino", "Rossi", "RSSGNI80A01G713")
    marco = start_case(rt, "sud", "Marco", "Neri", "NREMRC75B02G713")
    gino_task = ready(rt, gino)[0]["id"]
    task_service.claim(rt, gino_task, actor_of("cpi.nord.bis"))  # assigned to a colleague: not cpi.nord's queue
    assert run_due_work(rt).notices.digests == 0 and smtp_server.mailbox.messages == []  # not 07:00 yet

    clock.set(datetime(2026, 1, 6, 7, 0, 1, tzinfo=ROME))
    report = run_due_work(rt)
    assert report.notices.digests == 3 and report.mail.sent == 3
    [mine] = mail_to(smtp_server, "cpi.nord")
    text = body(mine)
    assert mine["Subject"] == "GOL Percorso 4: 1 nuova attività"
    assert "Laura Bianchi" in text and "Profilazione, da completare entro il 08/01/2026" in text
    assert f"{BASE}/attivita/{ready(rt, laura)[0]['id']}" in text and f"{BASE}/preferenze" in text
    assert "Gino Rossi" not in text and "Marco Neri" not in text
    assert "BNCLRA85M41G713" not in text  # name, task and due date only: no codice fiscale
    colleague = body(mail_to(smtp_server, "cpi.nord.bis")[0])
    assert "Laura Bianchi" in colleague and "Gino Rossi" in colleague and f"{BASE}/attivita/{gino_task}" in colleague
    assert "Marco Neri" in body(mail_to(smtp_server, "cpi.sud")[0])
    assert not mail_to(smtp_server, "sds.nord") and not mail_to(smtp_server, "ats.nord")  # not their lane
    assert not mail_to(smtp_server, "admin")
    assert ready(rt, marco)

    # A second pass, and the next day's digest hour, send nothing again.
    assert run_due_work(rt).notices.digests == 0
    clock.set(datetime(2026, 1, 7, 7, 0, 1, tzinfo=ROME))
    assert run_due_work(rt).notices.digests == 0
    assert len(smtp_server.mailbox.messages) == 3


def test_the_simulated_clock_stops_at_the_digest_hour_new_then_overdue(web_runtime, clock, smtp_server) -> None:  # noqa: F811
    rt = web_runtime
    wants(rt, "cpi.nord")
    start_case(rt, "nord")
    step_to(rt, datetime(2026, 3, 1, 12, 0, tzinfo=ROME), ADMIN)
    mails = mail_to(smtp_server, "cpi.nord")
    assert [m["Subject"] for m in mails] == ["GOL Percorso 4: 1 nuova attività", "GOL Percorso 4: 1 attività scaduta"]
    assert "riepilogo del 06/01/2026" in body(mails[0])
    assert "riepilogo del 09/01/2026" in body(mails[1])  # due 08/01 08:00: the first digest after it
    assert "Profilazione, scaduta il 08/01/2026" in body(mails[1])


def test_a_task_overdue_for_a_year_is_told_at_the_first_digest(web_runtime, clock, smtp_server) -> None:  # noqa: F811
    rt = web_runtime
    start_case(rt, "nord")
    clock.set(datetime(2027, 1, 20, 15, 0, tzinfo=ROME))
    run_due_work(rt)  # nobody has an address yet: nothing to send
    assert smtp_server.mailbox.messages == []
    wants(rt, "cpi.nord")
    assert run_due_work(rt).notices.digests == 1
    [mail] = mail_to(smtp_server, "cpi.nord")
    assert mail["Subject"] == "GOL Percorso 4: 1 attività scaduta"
    assert "Attività scadute" in body(mail) and "scaduta il 08/01/2026" in body(mail)


def test_preference_none_sends_nothing(web_runtime, clock, smtp_server) -> None:  # noqa: F811
    rt = web_runtime
    wants(rt, "cpi.nord", "none")
    start_case(rt, "nord")
    step_to(rt, datetime(2026, 2, 1, 12, 0, tzinfo=ROME), ADMIN)
    assert smtp_server.mailbox.messages == []


def test_immediate_sends_one_message_per_new_task_then_per_overdue_task(web_runtime, clock, smtp_server) -> None:  # noqa: F811
    rt = web_runtime
    wants(rt, "cpi.nord", "immediate")
    start_case(rt, "nord")
    start_case(rt, "nord", "Gino", "Rossi", "RSSGNI80A01G713")
    report = run_due_work(rt)
    assert report.notices.immediate == 2 and report.notices.digests == 0
    mails = mail_to(smtp_server, "cpi.nord")
    assert [m["Subject"] for m in mails] == ["GOL Percorso 4: nuova attività – Profilazione"] * 2
    assert {"Laura Bianchi" in body(m) for m in mails} == {True, False}
    assert run_due_work(rt).notices.immediate == 0
    clock.set(datetime(2026, 1, 8, 9, 0, tzinfo=ROME))
    assert run_due_work(rt).notices.immediate == 2
    assert [m["Subject"] for m in mail_to(smtp_server, "cpi.nord")][2:] == ["GOL Percorso 4: attività scaduta – Profilazione"] * 2
    assert run_due_work(rt).notices.immediate == 0 and len(smtp_server.mailbox.messages) == 4


def test_the_header_badge_counts_my_queues_and_overdue_tasks(web_runtime, clock, browser) -> None:
    rt = web_runtime
    start_case(rt, "nord")
    taken = ready(rt, start_case(rt, "nord", "Gino", "Rossi", "RSSGNI80A01G713"))[0]["id"]
    task_service.claim(rt, taken, actor_of("cpi.nord.bis"))
    clock.set(datetime(2026, 1, 9, 9, 0, tzinfo=ROME))
    page = browser("cpi.nord").text("/preferenze")
    assert 'data-testid="badge-attivita">1<' in page and 'data-testid="badge-scadute">1<' in page
    assert 'data-testid="badge-attivita">2<' in browser("cpi.nord.bis").text("/attivita")
    assert "badge-attivita" not in browser("sds.nord").text("/attivita")


def test_preferences_page_changes_how_i_am_told(web_runtime, browser) -> None:
    person = browser("cpi.nord")
    page = person.text("/preferenze")
    assert 'value="digest" checked' in page and "Un riepilogo al giorno" in page
    assert person.client.post("/preferenze", data={"notifiche": "immediate"}).status_code == 400  # no CSRF token
    response = person.post("/preferenze", {"notifiche": "immediate", "email": "mario@example.it"})
    assert response.status_code == 302
    assert notifications.preferences(web_runtime, actor_of("cpi.nord")) == notifications.Preferences(
        "immediate", "mario@example.it")
    refused = person.post("/preferenze", {"notifiche": "immediate", "email": "non un indirizzo"})
    assert refused.status_code == 400 and "Indirizzo e-mail non valido." in refused.get_data(as_text=True)


def test_suspended_and_failed_cases_are_shown_in_the_inbox_and_on_the_task_page(web_runtime, browser) -> None:
    rt = web_runtime
    suspended = start_case(rt, "nord")
    failed = start_case(rt, "nord", "Gino", "Rossi", "RSSGNI80A01G713")
    instance_service.suspend(rt, suspended, ADMIN, "verifica dei dati")
    with rt.uow() as uow:
        uow.conn.execute(update(instances).where(instances.c.id == failed).values(
            status="error", error={"element_id": "invio", "element_name": "Invio a IDOL", "message": "timeout"}))
        uow.commit()
    person = browser("cpi.nord")
    inbox = person.text("/attivita")
    assert "Caso sospeso" in inbox and "Caso in errore" in inbox
    page = person.text(f"/attivita/{ready(rt, suspended)[0]['id']}")
    assert "Caso sospeso dall&#39;amministratore" in page
    page = person.text(f"/attivita/{ready(rt, failed)[0]['id']}")
    assert "Caso in errore: il passo «Invio a IDOL» non è riuscito" in page and "timeout" not in page


def test_a_completion_refused_by_a_suspended_case_keeps_the_input(web_runtime, browser) -> None:
    rt = web_runtime
    case_id = start_case(rt, "nord")
    task_id = ready(rt, case_id)[0]["id"]
    person = browser("cpi.nord")
    person.text(f"/attivita/{task_id}")
    instance_service.suspend(rt, case_id, ADMIN, "verifica")
    response = person.post(f"/attivita/{task_id}", {
        "azione": "completa", "bisogni_particolari": "false", "case_manager": "ats.nord",
        "data_colloquio": "07/01/2026", "note": "Disponibile dal lunedì al venerdì.",
    })
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Disponibile dal lunedì al venerdì." in page and ("07/01/2026" in page or "2026-01-07" in page)
    assert "Caso sospeso dall&#39;amministratore" in page and "non sono andati persi" in page
    assert ready(rt, case_id)[0]["id"] == task_id
