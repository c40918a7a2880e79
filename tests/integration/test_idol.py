"""IDOL through its connector: the built-in agenda, a real HTTPS endpoint, and a step that survives IDOL being down."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from gol_workflow.clock import ManualClock
from gol_workflow.config import ConfigurationError, Settings
from gol_workflow.persistence.tables import bookings
from gol_workflow.services.workflow import instances as instance_service
from gol_workflow.services.integrations.idol import (
    OwnAgendaConnector,
    connector_of,
    install_connector,
)
from gol_workflow.services.integrations.idol_http import HttpIdolConnector, check_url
from tests.conftest import ADMIN
from tests.integration.idol_server import FakeIdol
from tests.integration.percorso4_support import (  # noqa: F401 - fixtures
    LUCIA,
    Percorso4,
    build,
    p4,
    profilo,
    scheda,
    smtp,
)
from tests.integration.scheduling_support import SmtpServer


@pytest.fixture
def idol() -> Iterator[FakeIdol]:
    """An HTTPS IDOL endpoint on loopback with its own test CA."""
    server = FakeIdol(tls=True)
    server.start()
    yield server
    server.stop()


def to_the_equipe_outcome(p4: Percorso4) -> str:
    """A Pistoia case profiled and waiting for the 13 January equipe, which is about to write its scheda."""
    case = p4.open_case("pistoiese", LUCIA)
    p4.complete("profilazione", case, profilo(), "cpi.pistoia")
    return case


def use(p4: Percorso4, idol: FakeIdol, token: str = "segreto-idol") -> None:
    install_connector(p4.rt, HttpIdolConnector(idol.url, token, verify=idol.client_context()))


def booking_rows(p4: Percorso4) -> list[dict]:
    with p4.rt.uow(write=False) as uow:
        return [dict(r) for r in uow.conn.execute(select(bookings)).mappings()]


def test_the_built_in_connector_is_the_service_agenda_and_case_file(p4: Percorso4) -> None:
    assert isinstance(connector_of(p4.rt), OwnAgendaConnector)
    case = to_the_equipe_outcome(p4)
    p4.hold_meeting("pistoiese-20260113", {case: scheda(presente=True)}, by="sds.pistoia")
    slot = p4.book_first_appointment(case, "cm.rossi", "cpi.pistoia")
    (booking,) = booking_rows(p4)
    assert (booking["case_id"], booking["case_manager"], booking["zone"]) == (case, "cm.rossi", "pistoiese")
    assert booking["slot_at"].isoformat() == "2026-01-14T08:00:00+00:00" and slot == "2026-01-14T09:00:00+01:00"
    data = p4.data(case)
    assert data["prenotazione_idol"] == {"appuntamento_id": booking["id"], "data_primo_appuntamento": slot,
                                         "case_manager": "cm.rossi"}
    (event,) = p4.audit("idol.appointment_booked", case)
    assert event["data"]["connettore"] == "agenda interna"


def test_an_https_idol_endpoint_receives_the_scheda_and_the_appointment(p4: Percorso4, idol: FakeIdol) -> None:
    use(p4, idol)
    case = to_the_equipe_outcome(p4)
    p4.hold_meeting("pistoiese-20260113", {case: scheda(presente=True)}, by="sds.pistoia")
    slot = p4.book_first_appointment(case, "cm.rossi", "cpi.pistoia")

    assert idol.paths() == ["/idol/v1/documenti", "/idol/v1/appuntamenti"]
    document, appointment = idol.received
    (attachment,) = p4.attachments(case, "scheda_esito")
    assert document.headers["authorization"] == "Bearer segreto-idol"
    assert document.headers["idempotency-key"] == attachment["id"]
    assert document.body["tipo"] == "scheda_esito" and document.body["case_id"] == case
    content = base64.b64decode(document.body["contenuto_base64"])
    assert content.startswith(b"%PDF") and hashlib.sha256(content).hexdigest() == attachment["sha256"]
    assert appointment.body["inizio"] == slot and appointment.body["case_manager"] == "cm.rossi"
    assert appointment.body["beneficiario"]["codice_fiscale"] == LUCIA["codice_fiscale"]
    (booking,) = booking_rows(p4)
    assert appointment.headers["idempotency-key"] == booking["id"]

    data = p4.data(case)
    assert data["caricamento_scheda_idol"] == {"documento_id": "IDOL-DOC-1"}
    assert data["prenotazione_idol"]["appuntamento_id"] == "IDOL-APP-1"
    assert p4.ready(case) == ["primo_colloquio"]


def test_with_idol_down_the_step_waits_in_error_and_is_retried_with_back_off_until_idol_is_back(
    p4: Percorso4, idol: FakeIdol
) -> None:
    use(p4, idol)
    case = to_the_equipe_outcome(p4)
    idol.stop()
    p4.hold_meeting("pistoiese-20260113", {case: scheda(presente=True)}, by="sds.pistoia")
    failed_at = p4.now()

    row = p4.header(case)
    assert row["status"] == "error" and row["error"]["element_id"] == "carica_scheda_idol"
    assert "IDOL cannot be reached" in row["error"]["message"] and row["error"]["retryable"] is True
    assert row["next_due_at"] == failed_at + timedelta(minutes=1)
    assert p4.attachments(case, "scheda_esito") == []  # the step's writes were undone with it
    assert p4.data(case)["scheda_esito"]["decisione"] == "presa_in_carico"  # the scheda itself is kept

    p4.advance(timedelta(minutes=1, seconds=1))  # first automatic retry: IDOL is still down
    row = p4.header(case)
    assert (row["status"], row["retry_count"]) == ("error", 1)
    assert timedelta(minutes=4) < row["next_due_at"] - p4.now() <= timedelta(minutes=5)  # back-off: 1, 5, 30 min
    idol.start()
    p4.advance(timedelta(minutes=5, seconds=1))  # second retry: IDOL is back
    row = p4.header(case)
    assert row["status"] == "running" and row["error"] is None and row["retry_count"] == 0
    assert p4.ready(case) == ["prenota_primo_appuntamento"]
    assert [e["action"] for e in p4.audit("instance.auto_retried", case)] == ["instance.auto_retried"] * 2
    assert idol.paths() == ["/idol/v1/documenti"]
    assert len(p4.attachments(case, "scheda_esito")) == 1


def test_after_the_automatic_retries_an_administrator_retries_the_step(p4: Percorso4, idol: FakeIdol) -> None:
    use(p4, idol)
    case = to_the_equipe_outcome(p4)
    p4.hold_meeting("pistoiese-20260113", {case: scheda(presente=True)}, by="sds.pistoia")
    idol.status = 503
    p4.complete("prenota_primo_appuntamento", case, {"slot_appuntamento": "2026-01-14T09:00:00+01:00",
                                                     "case_manager": "cm.rossi"}, "cpi.pistoia")
    row = p4.header(case)
    assert row["error"]["element_id"] == "prenota_idol" and "IDOL answered 503" in row["error"]["message"]
    assert booking_rows(p4) == []  # the local booking went with the failed step

    p4.advance(timedelta(hours=1))  # 1 + 5 + 30 minutes: three automatic retries, all failing
    row = p4.header(case)
    assert (row["status"], row["retry_count"], row["next_due_at"]) == ("error", 3, None)
    p4.advance(timedelta(hours=3))
    assert p4.header(case)["retry_count"] == 3  # no more automatic retries: an administrator must look

    idol.status = 200
    instance_service.retry(p4.rt, case, ADMIN)
    p4.rt.workflows.clear()
    assert p4.header(case)["status"] == "running" and p4.ready(case) == ["primo_colloquio"]
    (booking,) = booking_rows(p4)
    assert p4.data(case)["data_primo_appuntamento"] == "2026-01-14T09:00:00+01:00"
    attempts = [r for r in idol.received if r.path.endswith("/appuntamenti")]
    assert len(attempts) == 5  # the step, three automatic retries, the administrator's retry
    assert {r.headers["idempotency-key"] for r in attempts} == {booking["id"]}  # one key: IDOL can tell repeats


def test_idol_refusing_the_appointment_is_a_clear_error_on_the_step(p4: Percorso4, idol: FakeIdol) -> None:
    use(p4, idol)
    case = to_the_equipe_outcome(p4)
    p4.hold_meeting("pistoiese-20260113", {case: scheda(presente=True)}, by="sds.pistoia")
    idol.status = 409
    p4.book_first_appointment(case, "cm.rossi", "cpi.pistoia")
    row = p4.header(case)
    assert row["status"] == "error" and row["error"]["element_id"] == "prenota_idol"
    assert "IDOL refused the request (/appuntamenti, 409): slot non disponibile" in row["error"]["message"]


def test_the_idol_endpoint_comes_from_the_configuration(
    settings: Settings, clock: ManualClock, smtp: SmtpServer
) -> None:
    idol = FakeIdol(tls=False)
    idol.start()
    try:
        service = build(settings.with_overrides(idol_url=idol.url, idol_token="t0k3n"), clock, smtp)
        connector = connector_of(service.rt)
        assert isinstance(connector, HttpIdolConnector) and connector.base_url == idol.url
        case = to_the_equipe_outcome(service)
        service.hold_meeting("pistoiese-20260113", {case: scheda(presente=True)}, by="sds.pistoia")
        assert idol.received[0].headers["authorization"] == "Bearer t0k3n"
        service.rt.db.dispose()
    finally:
        idol.stop()


def test_plain_http_is_refused_except_on_loopback() -> None:
    assert check_url("https://idol.regione.toscana.example/api/") == "https://idol.regione.toscana.example/api"
    assert check_url("http://127.0.0.1:8080/idol") == "http://127.0.0.1:8080/idol"
    with pytest.raises(ConfigurationError, match="https"):
        check_url("http://idol.regione.toscana.example/api")
    with pytest.raises(ConfigurationError):
        check_url("ftp://idol.example")


def test_a_slot_that_passed_while_idol_was_down_is_refused_with_the_reason(p4: Percorso4, idol: FakeIdol) -> None:
    use(p4, idol)
    case = to_the_equipe_outcome(p4)
    p4.hold_meeting("pistoiese-20260113", {case: scheda(presente=True)}, by="sds.pistoia")
    idol.status = 503
    p4.complete("prenota_primo_appuntamento", case, {"slot_appuntamento": "2026-01-14T09:00:00+01:00",
                                                     "case_manager": "cm.rossi"}, "cpi.pistoia")
    p4.advance(timedelta(days=1))
    idol.status = 200
    instance_service.retry(p4.rt, case, ADMIN)
    row = p4.header(case)
    assert row["status"] == "error"
    assert "the slot 14/01/2026 09:00 has already passed" in row["error"]["message"]
