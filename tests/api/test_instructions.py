"""Task instructions: one rendering, the same text on the web page and in the API."""

from __future__ import annotations

import re
from html import unescape

from gol_workflow.services.workflow.task_view import render_instructions
from tests.web.conftest import PASSWORD, Browser, ready, start_case

NAME = "D'Angelo"


def test_instructions_are_rendered_once_as_plain_text() -> None:
    template = "Verificare la situazione di {{ beneficiario.cognome }} {{ nota }}."
    data = {"beneficiario": {"cognome": NAME}, "nota": "<b>urgente</b> & riservato"}
    assert render_instructions(template, data) == "Verificare la situazione di D'Angelo <b>urgente</b> & riservato."
    assert render_instructions("{{ rotto", data) == "{{ rotto"  # a broken template does not hide the task


def test_the_web_page_and_the_api_show_the_same_instructions(app, api, api_runtime) -> None:
    case_id = start_case(api_runtime, "nord", "Maria", NAME)
    task_id = ready(api_runtime, case_id)[0]["id"]
    expected = f"Verificare la situazione di Maria {NAME}."
    assert api("cpi.nord").get(f"/api/v1/tasks/{task_id}").get_json()["instructions"] == expected
    person = Browser(app.test_client())
    assert person.post("/accesso", {"username": "cpi.nord", "password": PASSWORD}).status_code == 302
    page = person.text(f"/attivita/{task_id}")
    shown = re.search(r'<p class="mb-0 istruzioni">(.*?)</p>', page, re.S).group(1)
    assert unescape(shown) == expected  # escaped once for HTML, not twice
