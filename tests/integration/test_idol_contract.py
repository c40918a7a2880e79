"""The IDOL contract (README.md, «IDOL»): every equipe decision recorded once, refusals shown, failures retried."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from gol_workflow.clock import ManualClock
from gol_workflow.config import Settings
from gol_workflow.services.workflow import instances as instance_service
from gol_workflow.services.integrations.idol import (
    OwnAgendaConnector,
    connector_of,
    install_connector,
)
from gol_workflow.services.integrations.idol_http import HttpIdolConnector
from gol_workflow.services.administration import incident_desk
from gol_workflow.web import create_app
from tests.conftest import ADMIN
from tests.integration.idol_server import FakeIdol
from tests.integration.percorso4_support import (  # noqa: F401 - fixtures
    ANNA,
    LUCIA,
    MARCO,
    PASSWORD,
    Percorso4,
    build,
    p4,
    profilo,
    scheda,
    smtp,
)
from tests.integration.scheduling_support import SmtpServer
from tests.web.conftest import Browser


@pytest.fixture
def idol() -> Iterator[FakeIdol]:
    """An IDOL endpoint on loopback (plain HTTP is accepted there)."""
    server = FakeIdol(tls=False)
    server.start()
    yield server
    server.stop()


def use(p4: Percorso4, idol: FakeIdol, seconds: float = 5.0) -> None:
    install_connector(p4.rt, HttpIdolConnector(idol.url, "segreto", timeout=httpx.Timeout(seconds)))


def profiled(p4: Percorso4, person: dict) -> str:
    case = p4.open_case("pistoiese", person)
    p4.complete("profilazione", case, profilo(), "cpi.pistoia")
    return case


def case_page(p4: Percorso4, case_id: str) -> str:
    """The case file as the CPI operator sees it."""
    person = Browser(create_app(p4.rt, {"TESTING": True}).test_client())
    assert person.post("/accesso", {"username": "cpi.pistoia", "password": PASSWORD}).status_code == 302
    return person.text(f"/casi/{case_id}")


def test_every_equipe_decision_is_recorded_in_idol_once_with_its_scheda(p4: Percorso4, idol: FakeIdol) -> None:
    use(p4, idol)
    lucia, marco, anna = profiled(p4, LUCIA), profiled(p4, MARCO), profiled(p4, ANNA)
    p4.hold_meeting("pistoiese-20260113", {lucia: scheda(presente=True, decisione="rinvio"),
                                           marco: scheda(presente=True, decisione="non_attivabile"),
                                           anna: scheda(presente=True)}, by="sds.pistoia")
    p4.hold_meeting("pistoiese-20260120", {lucia: scheda(presente=True)}, by="sds.pistoia")

    recorded = [(d["case_id"], d["decisione"]) for d in idol.documents()]
    assert sorted(recorded) == sorted([(lucia, "rinvio"), (marco, "non_attivabile"), (anna, "presa_in_carico"),
                                       (lucia, "presa_in_carico")])
    for document in idol.documents():
        assert document["tipo"] == "scheda_esito" and document["zona"] == "pistoiese"
        assert base64.b64decode(document["contenuto_base64"]).startswith(b"%PDF")
        assert document["data_equipe"].startswith(("2026-01-13T09:30", "2026-01-20T09:30"))
    keys = [r.headers["idempotency-key"] for r in idol.received]
    assert len(keys) == len(set(keys)) == 4  # one request per decision: nothing sent twice
    for case, decisions in ((lucia, 2), (marco, 1), (anna, 1)):
        assert len(p4.attachments(case, "scheda_esito")) == decisions  # each decision's scheda is on the case file too
        assert len(p4.audit("idol.document_uploaded", case)) == decisions
    assert p4.header(marco)["status"] == "completed"
    assert p4.ready(anna) == ["prenota_primo_appuntamento"] and p4.ready(lucia) == ["prenota_primo_appuntamento"]


def test_a_lost_answer_is_retried_with_the_same_key_and_idol_records_the_decision_once(
    p4: Percorso4, idol: FakeIdol
) -> None:
    use(p4, idol, seconds=0.5)
    case = profiled(p4, MARCO)
    idol.hold = 2.0  # IDOL records the scheda but its answer comes after the service stopped waiting
    p4.hold_meeting("pistoiese-20260113", {case: scheda(presente=True, decisione="non_attivabile")}, by="sds.pistoia")
    row = p4.header(case)
    assert row["status"] == "error" and "IDOL did not answer in time" in row["error"]["message"]
    assert row["next_due_at"] == p4.now() + timedelta(minutes=1)
    assert "IDOL non ha confermato la ricezione di la scheda di esito (decisione: percorso non attivabile)" in \
        case_page(p4, case).replace("&#39;", "'")

    idol.script = [503]  # the first automatic retry meets a 5xx
    p4.advance(timedelta(minutes=1, seconds=1))
    assert (p4.header(case)["status"], p4.header(case)["retry_count"]) == ("error", 1)
    p4.advance(timedelta(minutes=5, seconds=1))  # the second retry is answered
    assert p4.header(case)["status"] == "completed"

    assert len(idol.received) == 3 and len({r.headers["idempotency-key"] for r in idol.received}) == 1
    assert [d["decisione"] for d in idol.documents()] == ["non_attivabile"]  # recorded once
    assert len(p4.attachments(case, "scheda_esito")) == 1
    assert [e["action"] for e in p4.audit("idol.failed", case)] == ["idol.failed"] * 2
    assert "avviso-idol" not in case_page(p4, case)


def test_a_refusal_is_shown_on_the_case_file_in_italian_and_retried_by_an_administrator_without_duplicates(
    p4: Percorso4, idol: FakeIdol
) -> None:
    use(p4, idol)
    case = profiled(p4, LUCIA)
    idol.status, idol.detail = 422, "codice fiscale non presente nella scheda anagrafica IDOL"
    p4.hold_meeting("pistoiese-20260113", {case: scheda(presente=True, decisione="rinvio")}, by="sds.pistoia")
    row = p4.header(case)
    assert row["status"] == "error" and row["error"]["element_id"] == "carica_scheda_idol"
    assert p4.data(case)["scheda_esito"]["decisione"] == "rinvio"  # the decision is kept, not lost
    page = case_page(p4, case).replace("&#39;", "'").replace("&#34;", '"')
    assert "IDOL ha rifiutato la scheda di esito (decisione: rinvio a una prossima riunione)." in page
    assert "«codice fiscale non presente nella scheda anagrafica IDOL»" in page
    assert "ripetere il passo dalla pagina Incidenti" in page
    (event,) = p4.audit("idol.refused", case)
    assert event["data"]["stato_http"] == 422
    (incident,) = [i for i in incident_desk.list_incidents(p4.rt, ADMIN).items if i.instance_id == case]
    assert incident.element_id == "carica_scheda_idol" and incident.kind == "service"  # by the refusal's type
    assert incident.detail["retryable"] and "retry" in incident.actions  # the administrator's incident, with its retry

    p4.advance(timedelta(hours=1))  # the automatic retries meet the same refusal
    assert (p4.header(case)["status"], p4.header(case)["retry_count"]) == ("error", 3)
    idol.status = 200  # someone fixed the person's record in IDOL
    instance_service.retry(p4.rt, case, ADMIN)
    p4.rt.workflows.clear()
    assert p4.header(case)["status"] != "error"
    resolved = incident_desk.get_incident(p4.rt, ADMIN, incident.id)
    assert (resolved.status, resolved.resolution, resolved.attempts) == ("resolved", "retried", 4)
    assert [d["decisione"] for d in idol.documents()] == ["rinvio"]
    assert {r.headers["idempotency-key"] for r in idol.received} == {p4.attachments(case, "scheda_esito")[0]["id"]}
    assert [m["id"] for m in p4.meetings_of(case)][-1] == "pistoiese-20260120"  # the postponement goes on


def test_without_gol_idol_url_the_built_in_agenda_records_every_decision_on_the_case_file(
    settings: Settings, clock: ManualClock, smtp: SmtpServer
) -> None:
    assert settings.idol_url is None
    service = build(settings, clock, smtp)
    try:
        assert isinstance(connector_of(service.rt), OwnAgendaConnector)
        case = profiled(service, MARCO)
        service.hold_meeting("pistoiese-20260113", {case: scheda(presente=True, decisione="non_attivabile")},
                             by="sds.pistoia")
        (attachment,) = service.attachments(case, "scheda_esito")
        (event,) = service.audit("idol.document_uploaded", case)
        assert event["data"]["connettore"] == "agenda interna" and event["data"]["decisione"] == "non_attivabile"
        assert event["data"]["documento"] == attachment["id"]
        assert service.header(case)["status"] == "completed"
    finally:
        service.rt.db.dispose()


def test_the_timeout_comes_from_gol_idol_timeout() -> None:
    from gol_workflow.config import ConfigurationError, load_settings

    env = {"GOL_DATABASE_URL": "sqlite:///x.db", "GOL_SECRET_KEY": "k" * 32, "GOL_IDOL_URL": "http://127.0.0.1:9/idol", "GOL_IDOL_TIMEOUT": "2.5"}
    assert load_settings(env).idol_timeout == 2.5
    with pytest.raises(ConfigurationError, match="GOL_IDOL_TIMEOUT"):
        load_settings({**env, "GOL_IDOL_TIMEOUT": "subito"})
