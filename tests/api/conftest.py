"""API fixtures: the whole web app (the API is served from it), accounts of every role with tokens."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient

from gol_workflow.services.access import authorization, tokens, users
from gol_workflow.services.workflow.runtime import Runtime
from gol_workflow.web import create_app
from tests.conftest import ADMIN, DATA, deploy_dir
from tests.web.conftest import PASSWORD, PEOPLE, runtime, web_settings  # noqa: F401  (fixtures reused)

PROBLEM = "application/problem+json"


@pytest.fixture
def api_runtime(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Runtime:
    """The web test processes deployed and one account per role (cheap password hashes: logins are not tested here)."""
    monkeypatch.setattr(users, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    deploy_dir(runtime, DATA / "web" / "processes", DATA / "web" / "forms")
    for username, (role, zones, services) in PEOPLE.items():
        users.add_user(runtime, username, role, ADMIN, zones, services, PASSWORD, username.replace(".", " ").title())
    return runtime


@pytest.fixture
def app(api_runtime: Runtime) -> Flask:
    """The web app, which serves the API under /api."""
    return create_app(api_runtime, {"TESTING": True})


class Caller:
    """A test client that sends one account's bearer token with every request."""

    def __init__(self, client: FlaskClient, token: str | None) -> None:
        self.client = client
        self.token = token

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return {**headers, **(extra or {})}

    def get(self, url: str, headers: dict[str, str] | None = None, **kwargs: Any) -> Any:
        return self.client.get(url, headers=self._headers(headers), **kwargs)

    def post(self, url: str, json: Any = None, headers: dict[str, str] | None = None, **kwargs: Any) -> Any:
        return self.client.post(url, json=json, headers=self._headers(headers), **kwargs)


@pytest.fixture
def api(app: Flask, api_runtime: Runtime) -> Callable[[str | None], Caller]:
    """A caller for a username (None: no token at all); tokens are issued on first use."""
    issued: dict[str, str] = {}

    def make(username: str | None) -> Caller:
        if username is not None and username not in issued:
            issued[username] = tokens.issue_token(api_runtime, username, ADMIN).secret
        return Caller(app.test_client(), issued.get(username) if username else None)

    return make


def assert_problem(response: Any, status: int, kind: str | None = None) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status (and problem type); returns its body."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json(force=True)
    assert body["status"] == status and body["title"] and body["detail"] and body["instance"]
    if kind is not None:
        assert body["type"] == f"urn:gol-workflow:problem:{kind}", body
    return body
