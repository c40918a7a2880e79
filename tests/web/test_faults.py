"""Bad input answers 400 with an Italian page, and a dropped database connection is not a 500."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from gol_workflow.persistence.database import normalise_url
from gol_workflow.services.workflow import inbox as inbox_service
from tests.conftest import PG_URL

from .conftest import ready, start_case

BIG = "9" * 31
HUGE = "9" * 5000


def test_huge_integers_in_query_strings_are_not_server_errors(web_runtime, browser) -> None:
    admin = browser("admin")
    for url in (f"/admin/istanze?processo=caso_web&versione={BIG}", f"/admin/istanze?processo=caso_web&versione={HUGE}",
                f"/attivita?pagina={BIG}", f"/admin/istanze?per={HUGE}"):
        response = admin.get(url)
        assert response.status_code in (200, 400), url
    assert browser("cpi.nord").get(f"/attivita?pagina={HUGE}").status_code == 200


def test_a_value_too_large_for_the_database_is_a_400_page(web_runtime, browser, monkeypatch) -> None:
    def overflow(*_args, **_kwargs):
        raise OverflowError("Python int too large to convert to SQLite INTEGER")

    monkeypatch.setattr(inbox_service, "inbox", overflow)
    response = browser("cpi.nord").get("/attivita")
    assert response.status_code == 400
    assert "intervallo consentito" in response.get_data(as_text=True)


def test_a_5000_digit_number_in_edited_data_is_refused(web_runtime, browser) -> None:
    case_id = start_case(web_runtime, "nord")
    admin = browser("admin")
    admin.post(f"/admin/istanze/{case_id}/sospendi", {"motivo": "verifica"})
    admin.get(f"/admin/istanze/{case_id}/dati")
    response = admin.post(f"/admin/istanze/{case_id}/dati", {"dati": '{"x": %s}' % HUGE, "motivo": "prova"})
    assert response.status_code == 400 and "non è JSON valido" in response.get_data(as_text=True)


def test_next_with_a_line_break_is_not_followed(web_runtime, browser) -> None:
    anonymous = browser(None)
    response = anonymous.get("/accesso?next=/attivita%0d%0aSet-Cookie:%20x=1")
    assert response.status_code == 200 and "Set-Cookie" not in response.get_data(as_text=True)
    person = browser("cpi.nord")
    response = person.get("/accesso?next=/attivita%0aX")
    assert response.status_code == 302 and response.headers["Location"] == "/attivita"
    case_id = start_case(web_runtime, "nord")
    task_id = ready(web_runtime, case_id)[0]["id"]
    person.get("/attivita")
    response = person.post(f"/attivita/{task_id}/prendi", {"next": "/casi\r\nX-Forged: 1"})
    assert response.status_code == 302 and response.headers["Location"] == "/attivita"
    assert "X-Forged" not in response.headers


def test_a_database_failure_is_503_with_retry_after(web_runtime, browser, monkeypatch) -> None:
    person = browser("cpi.nord")

    def unreachable(*_args, **_kwargs):
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))

    monkeypatch.setattr(inbox_service, "inbox", unreachable)
    response = person.get("/attivita")
    assert response.status_code == 503 and response.headers["Retry-After"].isdigit()
    assert "Riprovare tra qualche secondo" in response.get_data(as_text=True)


@pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL: SQLite has no server connections to cut")
def test_cut_connections_are_replaced_before_the_next_request(web_runtime, browser) -> None:
    person = browser("cpi.nord")
    assert person.get("/attivita").status_code == 200
    for _ in range(2):
        killer = create_engine(normalise_url(PG_URL))
        with killer.connect() as conn:
            cut = conn.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                    "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar()
        killer.dispose()
        assert cut >= 1
        response = person.get("/attivita")
        assert response.status_code == 200, response.get_data(as_text=True)


def test_a_page_that_lost_its_connection_is_run_once_more(web_runtime, browser, monkeypatch) -> None:
    person = browser("cpi.nord")
    real, calls = inbox_service.inbox, []

    def dropped_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("SELECT 1", {}, Exception("terminating connection"), connection_invalidated=True)
        return real(*args, **kwargs)

    monkeypatch.setattr(inbox_service, "inbox", dropped_once)
    assert person.get("/attivita").status_code == 200 and len(calls) == 2
