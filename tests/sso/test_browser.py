"""Single sign-on in a real Chromium, through the real provider's login, consent and logout pages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import AXE
from tests.e2e.conftest import Page

from .conftest import ADMIN_PASSWORD, Service

pytestmark = pytest.mark.browser


@pytest.fixture
def person(chromium: Any, service: Service) -> Iterator[Page]:
    """One person's browser, axe-core loaded before every page, CSP violations recorded."""
    context = chromium.new_context(locale="it-IT", timezone_id="Europe/Rome")
    context.add_init_script(path=str(AXE))
    context.set_default_timeout(15_000)
    yield Page(context.new_page(), service.url)
    context.close()


def _through_provider(person: Page, service: Service, login: str) -> None:
    page = person.page
    page.get_by_role("link", name="Accedi con le credenziali regionali").click()
    page.wait_for_url(service.provider.issuer + "/**")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", "una-password")
    page.get_by_role("button", name="Sign-in").click()
    page.get_by_role("button", name="Continue").click()  # the provider asks to share the profile


def test_an_operator_signs_in_and_out_through_the_regional_provider(person: Page, service: Service) -> None:
    page = person.page
    person.goto("/attivita")
    assert page.url.startswith(service.url + "/accesso")
    assert person.axe() == []
    _through_provider(person, service, "mario")
    page.wait_for_url(service.url + "/attivita")
    assert "Benvenuto, Mario Rossi." in page.inner_text("body")
    assert "Mario Rossi · Centro per l'impiego" in page.inner_text("header")

    page.get_by_role("button", name="Esci").click()  # the form's redirect to the provider must be allowed
    page.wait_for_url(service.provider.issuer + "/session/end**")
    page.get_by_role("button", name="Yes, sign me out").click()
    page.wait_for_url(service.url + "/accesso")
    assert "Sessione chiusa correttamente." in page.inner_text("body")

    page.get_by_role("link", name="Accedi con le credenziali regionali").click()
    page.wait_for_url(service.provider.issuer + "/**")
    assert page.locator("input[name=login]").is_visible()  # the provider's session ended too
    assert person.csp_violations == []


def test_a_new_person_waits_until_an_administrator_enables_them(chromium: Any, person: Page,
                                                               service: Service) -> None:
    person.goto("/accesso")
    _through_provider(person, service, "luca")
    person.page.wait_for_url(service.url + "/accesso/regionale/ritorno**")
    assert "in attesa di abilitazione" in person.page.inner_text("main")
    assert person.axe() == []

    context = chromium.new_context(locale="it-IT", timezone_id="Europe/Rome")
    context.add_init_script(path=str(AXE))
    admin = Page(context.new_page(), service.url)
    try:
        admin.login("admin", ADMIN_PASSWORD)
        admin.goto("/admin/utenti")
        assert admin.axe() == []
        waiting = admin.page.locator("form[data-utente='luca.bianchi']")
        waiting.get_by_label("Ruolo").select_option("sds")
        waiting.locator("label", has_text="Zona Nord").click()  # bootstrap-italia draws the box on the label
        waiting.get_by_role("button", name="Abilita").click()
        assert "luca.bianchi è abilitato" in admin.page.inner_text("main")
        assert admin.page.locator("tr[data-utente='luca.bianchi']").inner_text().count("Credenziali regionali") == 1
    finally:
        context.close()

    person.goto("/accesso")
    person.page.get_by_role("link", name="Accedi con le credenziali regionali").click()
    person.page.wait_for_url(service.url + "/attivita")  # the provider still knows Luca: straight back in
    assert "Luca Bianchi · Servizi sociali" in person.page.inner_text("header")
