"""Percorso 4 on the web: the case manager finds the case in the case list and asks for a monitoring from its case file."""

from __future__ import annotations

import re

from gol_workflow.web import create_app
from tests.integration.percorso4_support import (  # noqa: F401 - fixtures
    MONITORING_PARTS,

    LUCIA,
    MARCO,
    PASSWORD,
    Percorso4,
    p4,
    smtp,
)
from tests.integration.test_percorso4_path import into_the_path
from tests.web.conftest import Browser


def logged_in(p4: Percorso4, username: str) -> Browser:
    person = Browser(create_app(p4.rt, {"TESTING": True}).test_client())
    assert person.post("/accesso", {"username": username, "password": PASSWORD}).status_code == 302
    return person


def listed(page: str) -> list[str]:
    return re.findall(r'<a href="/casi/[0-9a-f-]+" class="fw-semibold">([^<]+)</a>', page)


def test_the_case_manager_reaches_the_monitoring_request_from_the_case_list(p4: Percorso4) -> None:
    case = p4.open_case("pistoiese", LUCIA)
    into_the_path(p4, case)
    other = p4.open_case("valdinievole", MARCO)
    assert p4.ready(case) == []  # no task: the case waits in its 12-month path

    manager = logged_in(p4, "cm.rossi")
    page = manager.text("/casi?miei=1")
    assert listed(page) == ["Lucia Bianchi"] and "Anna Rossi" in page  # the case manager by name
    case_file = manager.text(f"/casi/{case}")
    assert 'href="#titolo-monitoraggio">Richiedi un monitoraggio</a>' in case_file
    response = manager.post(f"/casi/{case}/monitoraggio", {"motivo": "Verifica del tirocinio."})
    assert response.status_code == 302
    p4.rt.workflows.clear()
    assert p4.ready(case) == MONITORING_PARTS

    assert listed(logged_in(p4, "cm.verdi").text("/casi")) == []  # not their case
    assert listed(logged_in(p4, "cpi.pescia").text("/casi")) == ["Marco Rossi"]
    assert listed(logged_in(p4, "sds.pistoia").text("/casi?stato=aperto")) == ["Lucia Bianchi"]
    assert other
