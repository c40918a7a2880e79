"""The readable API page in a real Chromium: Swagger UI draws every operation, and the CSP blocks nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import served

pytestmark = pytest.mark.browser


@pytest.fixture
def base_url(app) -> Iterator[str]:
    """The app on a threaded WSGI server on an ephemeral loopback port."""
    with served(app) as url:
        yield url


def test_swagger_ui_lists_the_operations_under_a_strict_csp(chromium, base_url) -> None:  # noqa: F811
    page = chromium.new_page()
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.goto(f"{base_url}/api/docs")
    page.wait_for_selector('[data-path="/api/v1/tasks/{task_id}/complete"]', timeout=30_000)
    assert page.locator(".opblock").count() >= 20
    assert page.get_by_role("button", name="Authorize").is_visible()
    assert not [p for p in problems if "Content Security Policy" in p], problems
    page.close()
