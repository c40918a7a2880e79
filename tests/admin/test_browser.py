"""The admin console in a real Chromium: the diagram with its markers, htmx reveals and progress, axe on every page."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server

from gol_workflow.services.administration import batch, deployment
from gol_workflow.services.workflow import instances as instance_service
from tests.conftest import ADMIN, ROOT
from tests.e2e.conftest import Page

from .conftest import PASSWORD, complete, deploy_xml, original_xml, start
from .test_migration import with_added_task

pytestmark = pytest.mark.browser


@pytest.fixture
def console(admin_app: Any, chromium: Any) -> Iterator[Callable[[], Page]]:  # noqa: F811
    """The console on a threaded WSGI server on loopback, and fresh browser pages with axe-core loaded."""
    from tests.conftest import AXE

    httpd = make_server("127.0.0.1", 0, admin_app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    contexts = []

    def make() -> Page:
        context = chromium.new_context(locale="it-IT", timezone_id="Europe/Rome")
        context.add_init_script(path=str(AXE))
        context.set_default_timeout(15_000)
        contexts.append(context)
        return Page(context.new_page(), f"http://127.0.0.1:{httpd.server_port}")

    yield make
    for context in contexts:
        context.close()
    httpd.shutdown()
    thread.join(timeout=10)


def check(person: Page, label: str, found: dict[str, list[str]]) -> None:
    violations = person.axe()
    if violations:
        found[label] = violations


def test_every_console_page_in_the_browser(admin_rt, console) -> None:
    rt = admin_rt
    waiting = start(rt)
    complete(rt, waiting, "raccolta", {"divisore": 4, "note_raccolta": "vive da sola"})
    failed = start(rt, nome="Gino", cognome="Rossi", first15="RSSGNI70A01G713")
    complete(rt, failed, "raccolta", {"divisore": 0})
    start(rt, nome="Ada", cognome="Conti", first15="CNTDAA75A41G713")
    deploy_xml(rt, with_added_task(original_xml()))
    deployment.deploy(rt, deployment.read_sources(ROOT / "processes", ROOT / "forms"), ADMIN)
    case = instance_service.start_instance(rt, "percorso4", {"zona": "pistoiese", "beneficiario": {
        "codice_fiscale": "BNCLRA85M41G713K", "nome": "Laura", "cognome": "Bianchi", "data_nascita": "1985-08-01"}}, ADMIN).instance_id
    found: dict[str, list[str]] = {}
    person = console()
    person.login("admin", PASSWORD)
    page = person.page

    person.goto("/admin/istanze")
    check(person, "istanze", found)
    page.get_by_label("Beneficiario (nome o codice fiscale)").fill("rossi")
    page.get_by_role("button", name="Filtra").click()
    assert page.locator("[data-istanza]").count() == 1

    person.goto(f"/admin/istanze/{waiting}")
    page.wait_for_selector("[data-caricato='1']")
    assert page.locator(".djs-element.gol-completato[data-element-id='raccolta']").count() == 1
    assert page.locator(".djs-element.gol-attesa[data-element-id='attesa_un_anno']").count() == 1
    badge = page.locator(".gol-scadenza").first
    assert badge.inner_text() == "05/01/2027 08:00" and "scade il 05/01/2027" in badge.get_attribute("title")
    assert page.locator(".bjs-powered-by").is_visible()  # the bpmn.io watermark stays
    check(person, "istanza in attesa", found)
    row = page.locator("#campo-note_raccolta")
    row.get_by_role("button", name="Mostra").click()
    page.wait_for_selector("#campo-note_raccolta [data-rivelato]")
    assert "vive da sola" in row.inner_text()
    check(person, "istanza: dato mostrato", found)

    person.goto(f"/admin/istanze/{failed}")
    page.wait_for_selector("[data-caricato='1']")
    assert page.locator(".djs-element.gol-errore[data-element-id='calcolo']").count() == 1
    check(person, "istanza in errore", found)

    person.goto(f"/admin/istanze/{case}")
    page.wait_for_selector("[data-caricato='1']")
    assert page.locator(".djs-element.gol-pronto[data-element-id='profilazione']").count() == 1
    check(person, "caso Percorso 4", found)

    page.get_by_label("Motivo").first.fill("verifica dei dati")
    page.get_by_role("button", name="Sospendi").click()
    page.wait_for_selector("text=Istanza sospesa.")
    page.get_by_role("link", name="Modifica i dati").click()
    check(person, "modifica dei dati", found)
    page.get_by_label("Motivo della modifica").fill("nessuna")
    page.get_by_role("button", name="Salva i dati").click()  # nothing changed: refused with a message
    page.wait_for_selector("#riepilogo-errori")
    check(person, "modifica dei dati con errore", found)

    person.goto(f"/admin/istanze/{waiting}")
    page.get_by_role("button", name="Verifica la migrazione").click()
    page.wait_for_selector("text=La migrazione è possibile")
    check(person, "migrazione", found)

    person.goto("/admin/istanze?processo=pratica_admin")
    page.get_by_label("Operazione", exact=True).select_option("suspend")
    page.get_by_label("Motivo (resta nel registro di ogni istanza)").fill("manutenzione")
    page.locator("label[for=m-conferma]").click()
    page.get_by_role("button", name="Avvia l'operazione").click()
    page.wait_for_selector("#avanzamento[hx-trigger]")
    check(person, "operazione massiva in corso", found)
    batch.run_batches(rt, budget=30)
    page.wait_for_selector("#esiti-istanze [data-esito='ok']")  # htmx polled, then reloaded once finished
    assert "Completata" in page.locator("#avanzamento").inner_text()
    assert page.locator("#esiti-istanze [data-esito='ok']").count() == 3
    check(person, "operazione massiva conclusa", found)

    for path, label in [("/admin/operazioni", "operazioni"), ("/admin/errori", "errori"),
                        ("/admin/processi", "processi"), ("/admin/processi/pratica_admin", "processo"),
                        ("/admin/processi/pratica_admin/confronto?da=1&a=2", "confronto"),
                        ("/admin/processi/pubblica", "pubblica"), ("/admin/scheduler", "scheduler")]:
        person.goto(path)
        check(person, label, found)
    person.goto("/admin/processi/pratica_admin/confronto?da=1&a=2")
    page.wait_for_selector(".djs-element.gol-aggiunto[data-element-id='controllo']")  # the new version's diagram
    assert page.locator("[data-caricato='1']").count() == 2
    assert not found, "\n".join(f"{k}: {v}" for k, vs in found.items() for v in vs)
    assert not person.csp_violations, "\n".join(v[:300] for v in person.csp_violations)
