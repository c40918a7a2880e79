"""Operations: liveness and readiness probes, Prometheus metrics, request ids and JSON log lines."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime, timedelta

import pytest

from gol_workflow.observability import logs
from gol_workflow.services.administration import scheduling
from gol_workflow.services.workflow import tasks as task_service
from gol_workflow.web import create_app

from .conftest import actor_of, ready, start_case

PROFILE = {"bisogni_particolari": True, "servizi_specialistici": ["salute_mentale"], "case_manager": "ats.nord",
           "data_colloquio": "2026-01-07"}


def _sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample of the exposition (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        metric, _, value = line.rpartition(" ")
        base, _, rest = metric.partition("{")
        found = ",".join(sorted(p for p in rest.rstrip("}").split(",") if p)) if rest else ""
        if base == name and found == wanted:
            return float(value)
    return 0.0


def test_healthz_answers_without_a_session(app) -> None:
    response = app.test_client().get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])


def test_readyz_says_which_check_failed_and_passes_once_a_scheduler_beats(app, web_runtime) -> None:
    client = app.test_client()
    response = client.get("/readyz")
    body = response.get_json()
    assert response.status_code == 503 and body["status"] == "not ready" and body["failed"] == ["scheduler"]
    assert body["checks"]["database"]["ok"] and body["checks"]["schema"]["ok"]
    assert "no scheduler has ever run" in body["checks"]["scheduler"]["detail"]
    scheduling.record_heartbeat(web_runtime, "test-scheduler", {})
    response = client.get("/readyz")
    assert response.status_code == 200 and response.get_json()["status"] == "ready"


def test_readyz_fails_on_an_outbox_backlog_over_its_threshold(web_runtime) -> None:
    from gol_workflow.services.mail import outbox

    rt = web_runtime.__class__(**{**web_runtime.__dict__,
                                  "settings": web_runtime.settings.with_overrides(ready_max_outbox=1)})
    scheduling.record_heartbeat(rt, "test-scheduler", {})
    with rt.uow() as uow:
        for n in range(2):
            outbox.enqueue(uow, rt.now(), "gol@example.it",
                           outbox.Outgoing(dedup_key=f"prova-{n}", recipients=["a@example.it"], subject="Prova",
                                           body="Prova"))
        uow.commit()
    body = create_app(rt, {"TESTING": True}).test_client().get("/readyz").get_json()
    assert body["failed"] == ["outbox"] and body["checks"]["outbox"]["value"] == 2


def test_metrics_count_completions_requests_and_backlogs(app, web_runtime, browser) -> None:
    client = app.test_client()
    before = client.get("/metrics").get_data(as_text=True)
    case_id = start_case(web_runtime, "nord")
    task_service.complete_task(web_runtime, ready(web_runtime, case_id)[0]["id"], PROFILE, actor_of("cpi.nord"),
                               options={"case_manager": ["ats.nord"], "servizi_specialistici": ["salute_mentale"]})
    browser("cpi.nord").get("/")
    response = client.get("/metrics")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    assert _sample(text, "gol_instances_started_total", process="caso_web") == \
        _sample(before, "gol_instances_started_total", process="caso_web") + 1
    completed = [line for line in text.splitlines() if line.startswith("gol_task_completions_total{")]
    assert sum(float(line.rsplit(" ", 1)[1]) for line in completed) >= 1
    assert _sample(text, "gol_http_request_duration_seconds_count", method="POST", route="/accesso", status="3xx") >= 1
    for gauge in ("gol_outbox_waiting", "gol_instances_in_error", "gol_timers_overdue", "gol_cutoffs_overdue"):
        assert re.search(rf"^{gauge} \d", text, re.M), gauge


def test_metrics_ask_for_the_token_when_one_is_set(web_runtime) -> None:
    rt = web_runtime.__class__(**{**web_runtime.__dict__,
                                  "settings": web_runtime.settings.with_overrides(metrics_token="s3greto-di-prova")})
    client = create_app(rt, {"TESTING": True}).test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer sbagliato"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer s3greto-di-prova"}).status_code == 200


def test_the_request_id_reaches_error_pages_and_api_problems(app, browser) -> None:
    page = browser("cpi.nord").get("/casi/non-esiste")
    rid = page.headers["X-Request-ID"]
    assert page.status_code == 404 and rid in page.get_data(as_text=True)
    problem = app.test_client().get("/api/v1/tasks", headers={"X-Request-ID": "ticket-4711-abcdef"})
    assert problem.status_code == 401 and problem.get_json()["request_id"] == "ticket-4711-abcdef"
    assert problem.headers["X-Request-ID"] == "ticket-4711-abcdef"
    forged = app.test_client().get("/healthz", headers={"X-Request-ID": "<script>alert(1)</script>"})
    assert re.fullmatch(r"[0-9a-f]{32}", forged.headers["X-Request-ID"])  # not echoed: a fresh id instead


def test_json_log_lines_carry_request_id_actor_route_and_no_case_data(app, web_runtime, browser, capsys) -> None:
    case_id = start_case(web_runtime, "nord", nome="Ginevra", cognome="Lucchesi")
    logs.configure("json")
    try:
        response = browser("cpi.nord").get(f"/casi/{case_id}")
    finally:
        root = logging.getLogger()
        for handler in [h for h in root.handlers if getattr(h, "_gol", False)]:
            root.removeHandler(handler)
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    mine = [line for line in lines if line.get("request_id") == response.headers["X-Request-ID"]]
    assert mine and mine[-1]["message"] == "request" and mine[-1]["actor"] == "cpi.nord"
    assert mine[-1]["route"] == "/casi/<case_id>" and mine[-1]["status"] == 200
    assert isinstance(mine[-1]["duration_ms"], float) and {"time", "level", "logger"} <= set(mine[-1])
    assert not any("Lucchesi" in json.dumps(line) or case_id in json.dumps(line) for line in lines)
