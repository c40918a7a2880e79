"""Admin console fixtures: a small process with a user task, a script that can fail and a 12-month timer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gol_workflow.domain.model import Actor
from gol_workflow.forms.codice_fiscale import check_character
from gol_workflow.services import deployment
from gol_workflow.services import instances as instance_service
from gol_workflow.services import tasks as task_service
from gol_workflow.services.runtime import Runtime
from tests.conftest import ADMIN

ADMIN_DATA = Path(__file__).resolve().parent / "data"
PROCESS = "pratica_admin"
MAIN_FILE = "pratica_admin.bpmn"
OPERATOR = Actor("cpi.nord", "cpi", frozenset({"nord"}))


def original_xml() -> str:
    """The first version of the test process."""
    return (ADMIN_DATA / "processes" / MAIN_FILE).read_text(encoding="utf-8")


def forms() -> dict[str, bytes]:
    """Every form of the test process."""
    return {p.name: p.read_bytes() for p in sorted((ADMIN_DATA / "forms").glob("*.schema.json"))}


def deploy_xml(rt: Runtime, xml: str) -> int:
    """Deploy a version of the test process from its XML; returns the new version's id."""
    sources = deployment.Sources({MAIN_FILE: xml.encode("utf-8")}, forms())
    deployment.deploy(rt, sources, ADMIN)
    with rt.uow(write=False) as uow:
        version_id = uow.versions.latest_id(PROCESS)
    assert version_id is not None
    return int(version_id)


def cf(first15: str) -> str:
    """A valid codice fiscale from its first 15 characters."""
    return first15 + check_character(first15)


def start(rt: Runtime, zone: str = "nord", nome: str = "Laura", cognome: str = "Bianchi",
          first15: str = "BNCLRA85M41G713") -> str:
    """Start a test instance; it waits at "Raccolta dati"."""
    data = {"beneficiario": {"codice_fiscale": cf(first15), "nome": nome, "cognome": cognome}, "zona": zone}
    return instance_service.start_instance(rt, PROCESS, data, ADMIN)


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
