"""Bearer tokens: issued once, stored only as a hash, refused when missing, malformed, unknown or revoked."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select

from gol_workflow.cli import main
from gol_workflow.domain.errors import Forbidden
from gol_workflow.persistence.tables import api_tokens
from gol_workflow.services.access import tokens, users
from gol_workflow.web import create_app
from tests.conftest import ADMIN
from tests.web.conftest import actor_of

from .conftest import Caller, assert_problem


def test_a_token_acts_as_its_account(api) -> None:
    response = api("cpi.nord").get("/api/v1/tasks")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers  # the API never opens a session


def test_no_token_is_401_with_a_bearer_challenge(api) -> None:
    response = api(None).get("/api/v1/tasks")
    assert_problem(response, 401, "unauthenticated")
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="gol-workflow"'


@pytest.mark.parametrize("header", [
    "Bearer gol_" + "x" * 43,  # well formed, unknown
    "Bearer not-a-token",
    "Basic Y3BpOnBhc3N3b3Jk",
    "Bearer ",
    "gol_" + "x" * 43,
])
def test_bad_tokens_are_401(app, header) -> None:
    response = app.test_client().get("/api/v1/tasks", headers={"Authorization": header})
    assert_problem(response, 401, "unauthenticated")
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="gol-workflow"')


def test_unknown_urls_also_need_a_token(api) -> None:
    assert_problem(api(None).get("/api/v1/nothing-here"), 401)
    assert_problem(api("cpi.nord").get("/api/v1/nothing-here"), 404)


def test_a_token_in_the_query_string_or_a_web_session_is_not_accepted(api, app) -> None:
    token = api("admin").token
    assert_problem(app.test_client().get(f"/api/v1/tasks?access_token={token}"), 401)
    browser = app.test_client()
    login_page = browser.get("/accesso").get_data(as_text=True)
    csrf = login_page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    assert browser.post("/accesso", data={"username": "admin", "password": "password-di-prova",
                                           "csrf_token": csrf}).status_code == 302
    assert_problem(browser.get("/api/v1/tasks"), 401)  # the session cookie means nothing to the API


def test_revoked_token_is_refused_at_once(api, api_runtime) -> None:
    caller = api("cpi.nord")
    assert caller.get("/api/v1/tasks").status_code == 200
    assert tokens.revoke_tokens(api_runtime, "cpi.nord", ADMIN) == 1
    response = caller.get("/api/v1/tasks")
    assert_problem(response, 401)
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_revoking_one_token_keeps_the_others(api_runtime, app) -> None:
    first = tokens.issue_token(api_runtime, "sds.nord", ADMIN, "integrazione")
    second = tokens.issue_token(api_runtime, "sds.nord", ADMIN)
    tokens.revoke_tokens(api_runtime, "sds.nord", ADMIN, first.id)
    assert_problem(Caller(app.test_client(), first.secret).get("/api/v1/tasks"), 401)
    assert Caller(app.test_client(), second.secret).get("/api/v1/tasks").status_code == 200
    listed = {t.id: t for t in tokens.list_tokens(api_runtime, "sds.nord", ADMIN)}
    assert listed[first.id].revoked_at is not None and listed[first.id].label == "integrazione"
    assert listed[second.id].revoked_at is None


def test_a_disabled_account_loses_its_tokens(api, api_runtime) -> None:
    caller = api("ats.nord")
    assert caller.get("/api/v1/tasks").status_code == 200
    users.set_active(api_runtime, "ats.nord", False, ADMIN)
    assert_problem(caller.get("/api/v1/tasks"), 401)


def test_only_a_hash_is_stored_and_use_is_noted(api, api_runtime, clock) -> None:
    caller = api("cpi.nord")
    caller.get("/api/v1/tasks")
    with api_runtime.uow(write=False) as uow:
        rows = uow.conn.execute(select(api_tokens)).mappings().all()
    stored = {r["token_hash"] for r in rows}
    assert caller.token not in stored
    assert hashlib.sha256(caller.token.encode()).hexdigest() in stored
    used = [r["last_used_at"] for r in rows if r["last_used_at"] is not None]
    assert used == [clock.now()]
    clock.advance(timedelta(minutes=10))
    caller.get("/api/v1/tasks")
    assert [t.last_used_at for t in tokens.list_tokens(api_runtime, "cpi.nord", ADMIN)] == [clock.now()]


def test_only_administrators_issue_tokens(api_runtime) -> None:
    with pytest.raises(Forbidden):
        tokens.issue_token(api_runtime, "cpi.nord", actor_of("cpi.nord"))


def test_cli_prints_a_token_once_lists_and_revokes(api_runtime, monkeypatch, capsys, app) -> None:
    monkeypatch.setattr("gol_workflow.cli.tokens.runtime", lambda: api_runtime)
    assert main(["users", "token", "cpi.sud", "--label", "gestionale CPI"]) == 0
    secret = capsys.readouterr().out.strip().splitlines()[-1]
    assert secret.startswith("gol_")
    assert Caller(app.test_client(), secret).get("/api/v1/tasks").status_code == 200
    assert main(["users", "tokens", "cpi.sud"]) == 0
    listing = capsys.readouterr().out
    assert "gestionale CPI" in listing and secret not in listing
    token_id = listing.splitlines()[1].split()[0]
    assert main(["users", "revoke-token", "cpi.sud", "--id", token_id]) == 0
    assert "revoked 1 token" in capsys.readouterr().out
    assert_problem(Caller(app.test_client(), secret).get("/api/v1/tasks"), 401)
    assert main(["users", "token", "nessuno"]) == 1
    assert "does not exist" in capsys.readouterr().err


def test_openapi_document_is_public(app) -> None:
    response = app.test_client().get("/api/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.")
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": "A token from `gol-workflow users token USERNAME`."}


def test_the_readable_document_page_is_served_without_inline_scripts(app) -> None:
    client = app.test_client()
    page = client.get("/api/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "frame-ancestors 'none'" in csp
    html = page.get_data(as_text=True)
    assert "<script>" not in html and 'data-url="/api/openapi.json"' in html
    assert client.get("/api/docs/start.js").mimetype == "text/javascript"
    with client.get("/api/docs/assets/swagger-ui-bundle.js") as bundle:
        assert bundle.status_code == 200 and len(bundle.data) > 100_000
    assert_problem(client.get("/api/docs/assets/package.json"), 404)


def test_the_document_page_says_what_is_missing_without_front_end_packages(api_runtime, tmp_path) -> None:
    client = create_app(api_runtime, {"TESTING": True, "NODE_MODULES": tmp_path}).test_client()
    assert "npm install" in assert_problem(client.get("/api/docs"), 404)["detail"]
