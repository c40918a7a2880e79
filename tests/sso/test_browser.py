"""Single sign-on in a real Chromium, through the real provider's login, consent and logout pages."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Service

pytestmark = pytest.mark.browser


def test_an_operator_signs_in_and_out_through_the_regional_provider(chromium: Any, service: Service) -> None:
    context = chromium.new_context(locale="it-IT", timezone_id="Europe/Rome")
    page = context.new_page()
    try:
        page.goto(service.url + "/attivita")
        assert page.url.startswith(service.url + "/accesso")
        page.get_by_role("link", name="Accedi con le credenziali regionali").click()
        page.wait_for_url(service.provider.issuer + "/**")
        page.fill("input[name=login]", "mario")
        page.fill("input[name=password]", "una-password")
        page.get_by_role("button", name="Sign-in").click()
        page.get_by_role("button", name="Continue").click()  # the provider asks to share the profile
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
    finally:
        context.close()
