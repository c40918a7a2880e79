"""The «Indicatori» page in a real Chromium: charts drawn from their tables, no CSP breach, no serious axe violation."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_the_indicators_page_draws_its_charts_and_is_accessible(web_runtime, page) -> None:
    person = page()
    person.login("admin")
    person.goto("/indicatori?zona=nord&dal=2026-01-01&al=2026-03-31&p_zona=nord&p_inizio=2026-01-05"
                "&p_settimane=8&p_persone=40&p_cadenza=2")
    person.page.wait_for_function("() => window.Chart && document.querySelectorAll('canvas').length === 3 && "
                                  "[...document.querySelectorAll('canvas')].every(c => window.Chart.getChart(c))")
    drawn = person.page.evaluate("() => [...document.querySelectorAll('canvas')].map("
                                 "c => window.Chart.getChart(c).data.datasets.length)")
    assert drawn == [1, 4, 4]  # indicators; four waits; agenda and wait, with and without the change
    assert person.axe() == []
    assert person.csp_violations == []
    person.page.get_by_text("Tabella settimanale").click()  # the weekly table the forecast chart is drawn from
    assert person.page.get_by_role("table", name="Previsione settimana per settimana").count() == 1
