"""Bad input is a 400 problem, and a dropped database connection a 503 problem with Retry-After, never a 500."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from gol_workflow.persistence.database import normalise_url
from gol_workflow.services.workflow import inbox as inbox_service
from tests.conftest import PG_URL
from tests.web.conftest import ready, start_case

from .conftest import assert_problem

HUGE = "9" * 5000


def test_a_5000_digit_json_number_is_a_400_problem(api, api_runtime) -> None:
    task_id = ready(api_runtime, start_case(api_runtime, "nord"))[0]["id"]
    response = api("cpi.nord").post(f"/api/v1/tasks/{task_id}/complete", data='{"data": {"ore_settimanali": %s}}' % HUGE,
                                    headers={"Content-Type": "application/json"})
    assert_problem(response, 400, "invalid-request")


def test_huge_integers_in_the_query_string_are_400_problems(api) -> None:
    for url in (f"/api/v1/tasks?page={'9' * 31}", f"/api/v1/tasks?page={HUGE}", f"/api/v1/instances?version={HUGE}&process=x"):
        assert_problem(api("admin").get(url), 400, "invalid-request")


def test_a_database_failure_is_a_503_problem_with_retry_after(api, monkeypatch) -> None:
    def unreachable(*_args, **_kwargs):
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))

    monkeypatch.setattr(inbox_service, "inbox", unreachable)
    response = api("cpi.nord").get("/api/v1/tasks")
    assert_problem(response, 503, "unavailable")
    assert response.headers["Retry-After"].isdigit()


@pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL: SQLite has no server connections to cut")
def test_cut_connections_are_replaced_before_the_next_call(api) -> None:
    caller = api("cpi.nord")
    assert caller.get("/api/v1/tasks").status_code == 200
    killer = create_engine(normalise_url(PG_URL))
    with killer.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
    killer.dispose()
    response = caller.get("/api/v1/tasks")
    assert response.status_code == 200, response.get_data(as_text=True)


def test_a_body_over_the_cap_is_a_413_problem(api, api_runtime) -> None:
    task_id = ready(api_runtime, start_case(api_runtime, "nord"))[0]["id"]
    response = api("cpi.nord").post(f"/api/v1/tasks/{task_id}/complete", json={"data": {"note": "x" * (2 * 1024 * 1024)}})
    body = assert_problem(response, 413, "request-too-large")
    assert str(1024 * 1024) in body["detail"]


def test_repeating_groups_take_at_most_50_rows_and_names_one_line(api, api_runtime) -> None:
    task_id = ready(api_runtime, start_case(api_runtime, "nord"))[0]["id"]
    data = {"bisogni_particolari": False, "case_manager": "ats.nord", "data_colloquio": "2026-01-07",
            "familiari": [{"nome": f"Persona {i}"} for i in range(51)]}
    body = assert_problem(api("cpi.nord").post(f"/api/v1/tasks/{task_id}/complete", json={"data": data}),
                          400, "validation-failed")
    assert body["errors"] == {"familiari": ["Inserire al massimo 50 righe."]}
    data["familiari"] = [{"nome": "Rita\nUgo"}]
    body = assert_problem(api("cpi.nord").post(f"/api/v1/tasks/{task_id}/complete", json={"data": data}),
                          400, "validation-failed")
    assert list(body["errors"]) == ["familiari.0.nome"]
