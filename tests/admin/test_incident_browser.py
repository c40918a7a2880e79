"""In a real Chromium: a repair from the incident page in two steps, the map of where cases are (heat on the
diagram, its table, the cases at a clicked step), and a diagram one can zoom, fit and move; axe on each page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from .conftest import PASSWORD, complete, header, start
from .test_browser import check, console  # noqa: F401 - the console fixture

pytestmark = pytest.mark.browser


def scale(page) -> float:
    """The diagram's zoom, read from its viewport's transform."""
    transform = page.locator(".diagramma-tela svg .viewport").first.get_attribute("transform") or "matrix(1 0 0 1 0 0)"
    return float(re.findall(r"[-\d.e]+", transform)[0])


def test_a_repair_from_the_incident_page(admin_rt, console) -> None:  # noqa: F811
    failed = start(admin_rt, nome="Gino", cognome="Rossi", first15="RSSGNI70A01G713")
    complete(admin_rt, failed, "raccolta", {"divisore": 0})
    found: dict[str, list[str]] = {}
    person = console()
    person.login("admin", PASSWORD)
    page = person.page

    person.goto(f"/admin/istanze/{failed}")
    assert "Fermo per un errore su Calcolo della quota" in page.locator("#attesa-in-parole").inner_text()
    person.goto("/admin/errori")
    check(person, "errori", found)
    assert "divisione per zero" in page.locator("#tabella-errori").inner_text()
    page.get_by_role("link", name=re.compile("Rossi")).click()  # step 1: the incident
    page.wait_for_selector("#spiegazione")
    check(person, "errore", found)
    assert not page.locator("#dettaglio-tecnico code").first.is_visible()  # the technical detail is one click away
    page.locator("#dettaglio-tecnico summary").click()
    assert "division by zero" in page.locator("#dettaglio-tecnico").inner_text()
    page.get_by_role("button", name="Me ne occupo io").click()
    assert page.locator("#incaricato").inner_text() == "Admin"
    page.get_by_label("Campi da impostare").fill('{"divisore": 4}')
    page.get_by_label("Motivo").first.fill("divisore corretto con il CPI")
    page.get_by_role("button", name="Correggi e riprova").click()  # step 2: repaired
    page.wait_for_selector("[data-stato='resolved']")
    assert "dati corretti e passo ripetuto" in page.locator("#risoluzione").inner_text()
    check(person, "errore risolto", found)
    assert header(admin_rt, failed)["status"] == "waiting"
    assert not found, "\n".join(f"{k}: {v}" for k, vs in found.items() for v in vs)
    assert not person.csp_violations, "\n".join(v[:300] for v in person.csp_violations)


def test_the_map_of_where_cases_are_and_a_readable_diagram(admin_rt, console, clock) -> None:  # noqa: F811
    ids = [start(admin_rt, nome=f"Caso{n}", first15=f"RRRRRR80A{n + 1:02d}G713") for n in range(4)]
    clock.advance(timedelta(hours=5))
    complete(admin_rt, ids[0], "raccolta", {"divisore": 4})
    found: dict[str, list[str]] = {}
    person = console()
    person.login("admin", PASSWORD)
    page = person.page

    person.goto("/admin/processi/pratica_admin")
    page.get_by_role("link", name=re.compile("Mappa")).click()
    page.wait_for_selector("[data-caricato='1']")
    assert page.locator(".djs-element.gol-calore-4[data-element-id='raccolta']").count() == 1
    assert "3" in [b.inner_text() for b in page.locator(".gol-calore-conteggio").all()]
    assert "5 h" in page.locator(".gol-calore-tempi").first.inner_text()
    assert page.locator("#tabella-calore caption").count() == 1
    check(person, "mappa", found)
    page.locator(".djs-element[data-element-id='raccolta']").click()  # clicking the step lists its cases
    page.wait_for_selector("#elenco-casi-passo")
    assert page.locator("#elenco-casi-passo a").count() == 3
    check(person, "mappa con i casi di un passo", found)

    before = scale(page)
    page.get_by_role("button", name="Ingrandisci il diagramma").click()
    assert scale(page) > before
    page.get_by_role("button", name="Adatta il diagramma alla finestra").click()
    assert scale(page) == pytest.approx(before, rel=0.01)
    box = page.locator(".diagramma-tela").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, -200)  # the wheel zooms, without Ctrl
    page.wait_for_timeout(200)
    assert scale(page) > before
    page.get_by_role("img", name=re.compile("Mappa dei casi")).focus()
    page.keyboard.press("0")
    assert scale(page) == pytest.approx(before, rel=0.01)
    page.keyboard.press("-")
    assert scale(page) < before

    person.goto(f"/admin/istanze/{ids[0]}")
    page.wait_for_selector("[data-caricato='1']")
    assert page.locator(".djs-connection.gol-percorso").count() >= 2  # the flows the case took
    assert "In attesa del tempo: Un anno dopo" in page.locator("#attesa-in-parole").inner_text()
    assert page.get_by_role("toolbar", name="Comandi del diagramma").is_visible()
    check(person, "istanza con il percorso", found)
    person.goto(f"/admin/istanze/{ids[1]}")
    assert "In attesa di: Raccolta dati, non ancora presa in carico" in page.locator("#attesa-in-parole").inner_text()
    assert not found, "\n".join(f"{k}: {v}" for k, vs in found.items() for v in vs)
    assert not person.csp_violations, "\n".join(v[:300] for v in person.csp_violations)
