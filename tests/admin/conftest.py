"""Admin console fixtures: a small process with a user task, a script that can fail and a 12-month timer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher

from gol_workflow.domain.model import Actor
from gol_workflow.forms.codice_fiscale import check_character
from gol_workflow.services.administration import deployment
from gol_workflow.services.access import users
from gol_workflow.services.workflow import instances as instance_service
from gol_workflow.services.workflow import tasks as task_service
from gol_workflow.services.workflow.runtime import Runtime
from gol_workflow.web import create_app
from tests.conftest import ADMIN
from tests.web.conftest import Browser

ADMIN_DATA = Path(__file__).resolve().parent / "data"
PROCESS = "pratica_admin"
MAIN_FILE = "pratica_admin.bpmn"
OPERATOR = Actor("cpi.nord", "cpi", frozenset({"pistoiese"}))


def original_xml() -> str:
    """The first version of the test process."""
    return (ADMIN_DATA / "processes" / MAIN_FILE).read_text(encoding="utf-8")


def forms() -> dict[str, bytes]:
    """Every form of the test process."""
    return {p.name: p.read_bytes() for p in sorted((ADMIN_DATA / "forms").glob("*.schema.json"))}


def deploy_xml(rt: Runtime, xml: str) -> int:
    """Deploy a version of the test process from its XML; returns the new version's id."""
    declaration = ADMIN_DATA / "processes" / f"{PROCESS}.case.toml"
    lane_file = ADMIN_DATA / "processes" / "lanes.toml"
    sources = deployment.Sources({MAIN_FILE: xml.encode("utf-8")}, forms(),
                                 cases={declaration.name: declaration.read_bytes()}, lanes=lane_file.read_bytes())
    deployment.deploy(rt, sources, ADMIN)
    with rt.uow(write=False) as uow:
        version_id = uow.versions.latest_id(PROCESS)
    assert version_id is not None
    return int(version_id)


def cf(first15: str) -> str:
    """A valid codice fiscale from its first 15 characters."""
    return first15 + check_character(first15)


def start(rt: Runtime, zone: str = "pistoiese", nome: str = "Laura", cognome: str = "Bianchi",
          first15: str = "BNCLRA85M41G713") -> str:
    """Start a test instance; it waits at "Raccolta dati"."""
    data = {"beneficiario": {"codice_fiscale": cf(first15), "nome": nome, "cognome": cognome}, "zona": zone}
    return instance_service.start_instance(rt, PROCESS, data, ADMIN).instance_id


def open_task(rt: Runtime, instance_id: str, element: str | None = None) -> dict[str, Any]:
    """The one open task of an instance (optionally of one element)."""
    with rt.uow(write=False) as uow:
        rows = [dict(r) for r in uow.inbox.for_instance(instance_id)]
    rows = [r for r in rows if element is None or r["element_id"] == element]
    assert len(rows) == 1, rows
    return rows[0]


def complete(rt: Runtime, instance_id: str, element: str, data: dict[str, Any]) -> None:
    """Complete the open task of an element as the administrator."""
    task_service.complete_task(rt, open_task(rt, instance_id, element)["id"], data, ADMIN)


def header(rt: Runtime, instance_id: str) -> dict[str, Any]:
    """An instance row without its state."""
    with rt.uow(write=False) as uow:
        row = uow.instances.header(instance_id)
    assert row is not None
    return dict(row)


@pytest.fixture
def admin_rt(runtime: Runtime) -> Runtime:
    """The runtime with version 1 of the test process deployed."""
    deploy_xml(runtime, original_xml())
    return runtime


@pytest.fixture
def waiting(admin_rt: Runtime) -> Callable[..., str]:
    """Start an instance and take it past "Raccolta dati" to its 12-month timer."""

    def make(**kwargs: Any) -> str:
        instance_id = start(admin_rt, **kwargs)
        complete(admin_rt, instance_id, "raccolta", {"divisore": 4})
        return instance_id

    return make


# -- the web console -------------------------------------------------------------------------

PASSWORD = "password-di-prova-admin"
# username -> (role, zones, services)
PEOPLE: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "admin": ("admin", (), ()),
    "analista": ("analyst", (), ()),
    "cpi.nord": ("cpi", ("pistoiese",), ()),
    "sds.nord": ("sds", ("pistoiese",), ()),
    "spec.nord": ("specialist", ("pistoiese",), ("salute_mentale",)),
    "ats.nord": ("ats", ("pistoiese",), ()),
}


@pytest.fixture
def admin_app(admin_rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The web app on the admin runtime, with one account per role; batches run when the test says so."""
    monkeypatch.setattr(users, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))  # fast tests
    for username, (role, zones, services) in PEOPLE.items():
        users.add_user(admin_rt, username, role, ADMIN, zones, services, PASSWORD, username.title())
    return create_app(admin_rt, {"TESTING": True, "GOL_BATCH_THREAD": False})


@pytest.fixture
def login(admin_app: Any) -> Callable[[str], Any]:
    """A logged-in browser (the web tests' Browser: it keeps the CSRF token) for a username."""
    def make(username: str) -> Any:
        person = Browser(admin_app.test_client())
        response = person.post("/accesso", {"username": username, "password": PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)
        person.get(response.headers["Location"])  # like a browser: follow the redirect (new session, new token)
        return person

    return make
