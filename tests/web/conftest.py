"""Web fixtures: the app on the test runtime, users of every role, and a client that logs in with CSRF."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from gol_workflow.domain.model import Actor
from gol_workflow.forms.codice_fiscale import check_character
from gol_workflow.services.access import authorization, users
from gol_workflow.services.workflow import instances as instance_service
from gol_workflow.services.workflow.runtime import Runtime
from gol_workflow.web import create_app
from tests.conftest import ADMIN, DATA, deploy_dir

PASSWORD = "password-di-prova"
ZONES = ("nord", "sud")

# username -> (role, zones, services)
PEOPLE: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "cpi.nord": ("cpi", ("nord",), ()),
    "cpi.sud": ("cpi", ("sud",), ()),
    "cpi.nord.bis": ("cpi", ("nord",), ()),
    "sds.nord": ("sds", ("nord",), ()),
    "sds.sud": ("sds", ("sud",), ()),
    "spec.nord": ("specialist", ("nord",), ("salute_mentale",)),
    "spec.sud": ("specialist", ("sud",), ("salute_mentale",)),
    "ats.nord": ("ats", ("nord",), ()),
    "ats.altro": ("ats", ("nord",), ()),
    "admin": ("admin", (), ()),
    "analista": ("analyst", (), ()),
}

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def web_settings(settings: Any) -> Any:
    """Settings with the small test zones (nord, sud)."""
    return settings.with_overrides(zones_dir=DATA / "web" / "zones")


@pytest.fixture
def runtime(web_settings: Any, clock: Any) -> Any:
    """The test runtime on the small test zones."""
    from gol_workflow.bootstrap import bootstrap

    rt = bootstrap(web_settings, clock=clock)
    yield rt
    rt.db.dispose()


@pytest.fixture
def web_runtime(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Runtime:
    """Runtime with the web test processes deployed and one account per role."""
    deploy_dir(runtime, DATA / "web" / "processes", DATA / "web" / "forms")
    for username, (role, zones, services) in PEOPLE.items():
        users.add_user(runtime, username, role, ADMIN, zones, services, PASSWORD, username.replace(".", " ").title())
    return runtime


@pytest.fixture
def app(web_runtime: Runtime) -> Flask:
    """The web app on the test runtime."""
    return create_app(web_runtime, {"TESTING": True})


def csrf_of(html: str) -> str:
    """The CSRF token of a page."""
    match = _CSRF.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1)


class Browser:
    """A test client that remembers the CSRF token, like a person's browser."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.token = ""

    def get(self, url: str, **kwargs: Any) -> Any:
        response = self.client.get(url, **kwargs)
        text = response.get_data(as_text=True) if response.mimetype == "text/html" else ""
        if 'name="csrf_token"' in text:
            self.token = csrf_of(text)
        return response

    def post(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        if not self.token:
            self.get("/accesso")
        payload = {"csrf_token": self.token, **(data or {})}
        return self.client.post(url, data=payload, **kwargs)

    def text(self, url: str) -> str:
        return self.get(url).get_data(as_text=True)


@pytest.fixture
def browser(app: Flask) -> Callable[[str | None], Browser]:
    """A logged-in browser for a username (None: anonymous)."""

    def make(username: str | None) -> Browser:
        person = Browser(app.test_client())
        if username is not None:
            response = person.post("/accesso", {"username": username, "password": PASSWORD})
            assert response.status_code == 302, response.get_data(as_text=True)
        return person

    return make


def actor_of(username: str) -> Actor:
    """The actor for a test account."""
    role, zones, services = PEOPLE[username]
    return Actor(username, role, frozenset(zones), frozenset(services))


def valid_cf(prefix: str) -> str:
    """A codice fiscale with the right check character for 15 given characters."""
    return prefix + check_character(prefix)


def start_case(rt: Runtime, zone: str = "nord", nome: str = "Laura", cognome: str = "Bianchi",
               prefix: str = "BNCLRA85M41G713") -> str:
    """Open a test case as the zone's CPI operator; returns its id."""
    data = {"beneficiario": {"codice_fiscale": valid_cf(prefix), "nome": nome, "cognome": cognome}, "zona": zone}
    return instance_service.start_instance(rt, "caso_web", data, actor_of(f"cpi.{zone}"), options={"zona": [zone]}).instance_id


def ready(rt: Runtime, case_id: str) -> list[dict[str, Any]]:
    """Ready tasks of a case."""
    with rt.uow(write=False) as uow:
        return [dict(r) for r in uow.inbox_search.for_case(case_id)]
