"""With JavaScript the inbox filters refresh only the results (htmx) and keep the address in sync."""

from __future__ import annotations

import pytest

from tests.web.conftest import start_case

pytestmark = pytest.mark.browser


def test_filtering_updates_the_results_in_place(web_runtime, page) -> None:
    start_case(web_runtime, "nord", "Laura", "Bianchi")
    start_case(web_runtime, "nord", "Gino", "Rossi", "RSSGNI70A01G713")
    person = page()
    person.login("cpi.nord")
    person.page.evaluate("window.sameDocument = true")
    person.page.get_by_label("Beneficiario (nome o codice fiscale)").fill("rossi")
    person.page.get_by_role("button", name="Filtra").click()
    person.page.wait_for_url("**cerca=rossi**")
    results = person.page.locator("#risultati")
    results.get_by_role("link", name="Gino Rossi").wait_for()
    assert results.get_by_role("link", name="Laura Bianchi").count() == 0
    assert person.page.evaluate("window.sameDocument === true")  # no full page load
    assert person.axe() == [] and person.csp_violations == []
