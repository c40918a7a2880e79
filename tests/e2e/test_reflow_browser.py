"""Every operator page at 320 CSS px (WCAG 2.1 1.4.10 Reflow): nothing scrolls sideways, axe finds nothing,
the inbox's last tab and its claim buttons are on screen, and the work can be done there."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from gol_workflow.services.workflow import tasks as task_service
from tests.e2e.conftest import PHONE
from tests.e2e.test_pages_browser import _equipe_case
from tests.web.conftest import actor_of, ready, start_case

pytestmark = pytest.mark.browser


def _check(person: Any, label: str, found: dict[str, list[str]]) -> None:
    """Record what scrolls sideways and what axe reports on the current page."""
    problems = person.sideways() + person.axe()
    if problems:
        found[label] = problems


def _on_screen(locator: Any) -> bool:
    """True when the element lies wholly inside the window's width."""
    box = locator.bounding_box()
    width = locator.page.viewport_size["width"]
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width


def _before(locator: Any) -> str:
    """The text a stacked cell shows before its value (its column's name)."""
    return locator.evaluate("e => getComputedStyle(e, '::before').content")


@pytest.fixture
def cases(web_runtime: Any, clock: Any) -> dict[str, str]:
    """A case past the equipe with an attachment, an overdue task, and a fresh task assigned to someone else."""
    rt = web_runtime
    found = {"equipe": _equipe_case(rt), "late": start_case(rt, "nord", "Gino", "Rossi", "RSSGNI70A01G713")}
    clock.advance(timedelta(days=5))  # the profiling of Gino Rossi (due in 3 days) is now overdue
    found["taken"] = start_case(rt, "nord", "Ada", "Conti", "CNTDAA75A41G713")
    task_service.claim(rt, ready(rt, found["taken"])[0]["id"], actor_of("cpi.nord.bis"))
    return found


def test_every_operator_page_reflows_at_320_px_and_lists_stay_tables_on_a_wide_screen(web_runtime, cases, page) -> None:
    found: dict[str, list[str]] = {}
    person = page(width=PHONE)
    person.goto("/accesso")
    _check(person, "accesso", found)
    person.page.get_by_label("Nome utente").fill("cpi.nord")
    person.page.get_by_label("Password").fill("sbagliata-1234")
    with person.page.expect_navigation():
        person.page.get_by_role("button", name="Accedi").click()
    _check(person, "accesso con errore", found)
    person.login("cpi.nord")
    _check(person, "attività", found)

    # The inbox: every queue tab is on screen, the overdue one too, and so is the claim button of each row.
    tabs = person.page.get_by_role("navigation", name="Code di lavoro").get_by_role("link")
    assert tabs.count() == 4 and all(_on_screen(tabs.nth(i)) for i in range(4))
    person.page.get_by_role("link", name="Scadute").click()
    person.page.wait_for_url("**coda=scadute**")
    _check(person, "attività scadute", found)
    late = person.page.locator("#tabella-attivita tbody tr", has_text="Gino Rossi")
    assert late.count() == 1
    due = late.get_by_role("cell").filter(has_text="Scaduta il")
    assert _before(due) == '"Scadenza"'  # a stacked cell names its column
    assert person.page.get_by_role("columnheader", name="Scadenza").count() == 1  # and the header row is still read
    claim = late.get_by_role("button", name="Assegna a me")
    assert _on_screen(claim)
    with person.page.expect_navigation():
        claim.click()
    release = late.get_by_role("button", name="Rilascia")
    release.wait_for()
    assert "coda=scadute" in person.page.url and _on_screen(release)
    for queue, label in [("mie", "assegnate a me"), ("libere", "non assegnate")]:
        person.goto(f"/attivita?coda={queue}")
        _check(person, f"attività {label}", found)
    person.goto("/attivita")
    assert person.page.locator("tr", has_text="Ada Conti").get_by_text("Cpi Nord Bis").is_visible()

    # A task page and its form, with its errors, then completed at this width.
    task_id = ready(web_runtime, cases["late"])[0]["id"]
    person.goto(f"/attivita/{task_id}")
    _check(person, "attività: modulo", found)
    with person.page.expect_navigation():
        person.page.get_by_role("button", name="Completa l'attività").click()
    _check(person, "attività: modulo con errori", found)
    person.page.get_by_label("Data del colloquio").fill("2026-01-12")
    person.page.get_by_label("Case manager ATS").select_option("ats.nord")
    person.page.get_by_role("group", name="Bisogni particolari").locator("label", has_text="No").click()
    person.page.get_by_role("button", name="Completa l'attività").click()
    person.page.wait_for_url("**/attivita/fatta/**")
    _check(person, "attività completata", found)

    case_id = cases["equipe"]
    for path, label in [("/casi", "casi"), ("/casi?miei=1", "i miei casi"),
                        ("/casi?stato=aperto&scadute=1&ordina=nome&verso=asc", "casi filtrati"),
                        (f"/casi/{case_id}", "fascicolo"), (f"/casi/{case_id}/scheda-esito", "scheda di esito"),
                        ("/casi/nuovo", "nuovo caso"), ("/casi/nuovo/caso_web", "nuovo caso: modulo"),
                        ("/agenda", "agenda equipe"), ("/preferenze", "preferenze")]:
        person.goto(path)
        _check(person, label, found)
        if path == "/casi":
            assert all(_on_screen(tab) for tab in person.page.get_by_role("navigation", name="Quali casi")
                       .get_by_role("link").all())
            row = person.page.locator("#tabella-casi tbody tr", has_text="Laura Bianchi")
            assert _on_screen(row.get_by_role("link", name="Laura Bianchi"))
    assert not person.csp_violations

    admin = page(width=PHONE)
    admin.login("admin")
    for path, label in [("/admin/istanze", "istanze"), (f"/admin/istanze/{case_id}", "istanza"),
                        ("/admin/errori", "errori"), ("/admin/operazioni", "operazioni massive"),
                        ("/admin/processi", "processi"), ("/admin/processi/caso_web", "processo"),
                        ("/admin/scheduler", "scheduler")]:
        admin.goto(path)
        _check(admin, f"amministrazione: {label}", found)
    assert not found, "\n".join(f"{k}: {v}" for k, vs in found.items() for v in vs)

    # The layout is CSS only, and on a wide screen the lists stay tables.
    phone = page(javascript=False, width=PHONE)
    phone.login("cpi.nord")
    for path in ("/attivita?coda=scadute", "/casi", f"/casi/{cases['equipe']}"):
        phone.goto(path)
        assert phone.sideways() == [], path  # the layout is CSS only
    desk = page(width=1280)
    desk.login("cpi.nord")
    for path, table, header in [("/attivita", "#tabella-attivita", "Scadenza"),
                                ("/casi", "#tabella-casi", "Fine percorso")]:
        desk.goto(path)
        assert desk.page.locator(f"{table} thead").get_by_role("columnheader", name=header).is_visible()
        assert _before(desk.page.locator(f"{table} tbody td").first) in ("none", "normal")
        assert desk.sideways() == []
