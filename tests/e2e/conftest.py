"""Browser fixtures: the app on a real WSGI server on loopback, Debian's Chromium through Playwright, axe-core."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conftest import AXE, served
from tests.web.conftest import PASSWORD, app, runtime, web_runtime, web_settings  # noqa: F401 - fixtures

BLOCKING = ("serious", "critical")
PHONE = 320  # CSS px: WCAG 2.1 1.4.10 Reflow (a 1280 px screen at 400 % zoom)

# Everything that scrolls sideways: the page itself, or a box in it that hides part of its content
# (a table in .table-responsive, a tab strip). Form controls scroll their own text and are left out.
SIDEWAYS = """() => {
  const found = [];
  const root = document.scrollingElement;
  if (root.scrollWidth > root.clientWidth) {
    found.push(`the page: ${root.scrollWidth} px wide in a ${root.clientWidth} px window`);
  }
  for (const box of document.body.querySelectorAll('*')) {
    if (box.matches('input, select, textarea') || box.clientWidth === 0) continue;
    const overflow = getComputedStyle(box).overflowX;
    if ((overflow === 'auto' || overflow === 'scroll') && box.scrollWidth > box.clientWidth + 1) {
      const name = box.tagName.toLowerCase() + (box.id ? '#' + box.id : '') + [...box.classList].map(c => '.' + c).join('');
      found.push(`${name}: ${box.scrollWidth} px of content in ${box.clientWidth} px`);
    }
  }
  return found;
}"""


@pytest.fixture
def server(app: Any) -> Iterator[str]:  # noqa: F811
    """The app served by a threaded WSGI server on an ephemeral loopback port; yields its base URL."""
    with served(app) as url:
        yield url


class Page:
    """A Playwright page that records CSP violations and console errors, with axe and login helpers."""

    def __init__(self, page: Any, base: str) -> None:
        self.page = page
        self.base = base
        self.csp_violations: list[str] = []
        page.on("console", self._console)

    def _console(self, message: Any) -> None:
        if "Content Security Policy" in message.text:
            self.csp_violations.append(message.text)

    def goto(self, path: str) -> Any:
        return self.page.goto(self.base + path)

    def login(self, username: str, password: str = PASSWORD) -> None:
        self.goto("/accesso")
        self.page.get_by_label("Nome utente").fill(username)
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_role("button", name="Accedi").click()
        self.page.wait_for_url("**/attivita**")

    def logout(self) -> None:
        self.page.get_by_role("button", name="Esci").click()
        self.page.wait_for_url("**/accesso**")

    def sideways(self) -> list[str]:
        """What scrolls sideways on the current page (empty: it reflows to the window's width)."""
        return self.page.evaluate(SIDEWAYS)

    def axe(self) -> list[str]:
        """Serious and critical axe-core violations of the current page (WCAG 2.1 A and AA rules)."""
        result = self.page.evaluate(
            "async () => await axe.run(document, {runOnly: {type: 'tag', values: "
            "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})")
        return [
            f"{v['id']} ({v['impact']}): {v['help']} at {[(n['target'], n.get('failureSummary', '')[:160]) for n in v['nodes']][:3]}"
            for v in result["violations"] if v["impact"] in BLOCKING
        ]


@pytest.fixture
def page(chromium: Any, server: str) -> Iterator[Callable[..., Page]]:
    """Fresh browser contexts (each a separate person, `width` CSS px wide) with axe-core loaded before every page."""
    contexts = []

    def make(javascript: bool = True, width: int | None = None) -> Page:
        viewport = {"width": width, "height": 720} if width else None
        context = chromium.new_context(locale="it-IT", timezone_id="Europe/Rome", java_script_enabled=javascript,
                                       **({"viewport": viewport} if viewport else {}))
        context.add_init_script(path=str(AXE))  # injected by the browser itself: the page's CSP still applies
        context.set_default_timeout(15_000)
        contexts.append(context)
        return Page(context.new_page(), server)

    yield make
    for context in contexts:
        context.close()
