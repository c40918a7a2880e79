"""The analysts' modeler in a real Chromium: draw a task, lint, save a draft, diff, scenarios, deploy; an operator works it."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from gol_workflow.services.workflow.runtime import Runtime
from tests.conftest import ROOT
from tests.e2e.conftest import Page

from .conftest import ADMIN_DATA, PASSWORD, start

pytestmark = [pytest.mark.browser, pytest.mark.skipif(
    not (ROOT / "web" / "static" / "vendor" / "modeler" / "modeler.js").is_file(),
    reason="the modeler bundle is built by `make frontend` (scripts/build-modeler)")]

# What the analyst draws: a user task between the start and "Raccolta dati", in the CPI lane.
ADD_TASK = """() => {
  const m = window.golModeler;
  const registry = m.get('elementRegistry'), modeling = m.get('modeling');
  const factory = m.get('elementFactory'), bpmn = m.get('bpmnFactory');
  modeling.removeConnection(registry.get('pa_f0'));
  const bo = bpmn.create('bpmn:UserTask', {id: 'controllo_documenti'});
  const task = modeling.createShape(factory.createShape({type: 'bpmn:UserTask', businessObject: bo}),
                                    {x: 940, y: 160}, registry.get('pratica_admin') || m.get('canvas').getRootElement());
  window.golNuovo = task;
}"""
CONNECT = """() => {
  const m = window.golModeler;
  const registry = m.get('elementRegistry'), modeling = m.get('modeling');
  modeling.connect(registry.get('pa_avvio'), window.golNuovo);
  modeling.connect(window.golNuovo, registry.get('raccolta'));
  modeling.updateLabel(window.golNuovo, 'Controllo documenti');
  m.get('selection').select(window.golNuovo);
}"""


@pytest.fixture
def analysts_runtime(admin_rt: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Runtime:
    """The admin runtime whose process folder holds the modeler's scenario files, with the test forms."""
    processes = tmp_path / "processes"
    processes.mkdir()
    (processes / "scenarios").mkdir()
    for item in (ADMIN_DATA / "scenarios").iterdir():
        (processes / "scenarios" / item.name).write_bytes(item.read_bytes())
    admin_rt.settings = dataclasses.replace(admin_rt.settings, processes_dir=processes, forms_dir=ADMIN_DATA / "forms")
    return admin_rt


@pytest.fixture
def site(analysts_runtime: Runtime, admin_app: Any, chromium: Any) -> Iterator[Any]:
    httpd = make_server("127.0.0.1", 0, admin_app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    contexts = []

    def make() -> Page:
        context = chromium.new_context(locale="it-IT", timezone_id="Europe/Rome")
        context.set_default_timeout(30_000)
        contexts.append(context)
        return Page(context.new_page(), f"http://127.0.0.1:{httpd.server_port}")

    yield make
    for context in contexts:
        context.close()
    httpd.shutdown()
    thread.join(timeout=10)


def test_an_analyst_adds_a_task_and_deploys_it_and_an_operator_works_it(analysts_runtime: Runtime, site: Any) -> None:
    rt = analysts_runtime
    running = start(rt)  # a case on version 1, waiting at "Raccolta dati"
    analyst = site()
    errors: list[str] = []
    analyst.page.on("pageerror", lambda exc: errors.append(str(exc)))
    where: list[str] = []
    analyst.page.on("console", lambda m: where.append(str(m.location)) if "Content Security" in m.text else None)
    analyst.login("analista", PASSWORD)
    page = analyst.page
    analyst.goto("/admin/processi/pratica_admin/modeler")
    page.wait_for_selector("#modeler[data-pronto='1']")
    assert page.locator("#modeler-verifica-conta").inner_text() == "0"

    page.evaluate(ADD_TASK)
    # The unnamed, unconnected task: bpmnlint and the service's own checks say so, on the element too.
    page.wait_for_selector("#modeler-lint li[data-elemento='controllo_documenti']")
    page.wait_for_selector("#modeler-verifica li[data-elemento='controllo_documenti']")
    assert "names no form" in page.locator("#modeler-verifica").inner_text()
    assert page.locator(".djs-overlay .gol-verifica-segno").count() >= 1

    page.evaluate(CONNECT)
    panel = page.locator("#modeler-proprieta")
    panel.get_by_text("User assignment").click()
    panel.get_by_label("Candidate groups").fill("cpi")
    page.evaluate("""() => window.golModeler.get('modeling').updateProperties(window.golNuovo,
                      {'camunda:formKey': 'controllo'})""")
    page.wait_for_selector("#modeler-verifica-conta:text-is('0')")
    page.wait_for_selector("#modeler-lint li[data-elemento='controllo_documenti']", state="detached")
    xml = page.evaluate("async () => (await window.golModeler.saveXML()).xml")
    assert 'camunda:candidateGroups="cpi"' in xml and 'camunda:formKey="controllo"' in xml

    page.get_by_role("button", name="Mostra il modulo del compito selezionato").click()
    page.wait_for_selector("#modeler-modulo fieldset[disabled]")
    assert "Controllo aggiuntivo" in page.locator("#modeler-modulo").inner_text()
    assert page.locator("#modeler-modulo").get_by_label("Esito").count() == 1

    page.get_by_label("Nota di versione").fill("Controllo dei documenti prima della raccolta")
    page.get_by_role("button", name="Salva bozza").click()
    page.wait_for_selector("#modeler-stato:has-text('salvata (non pubblicata)')")
    with rt.uow(write=False) as uow:
        assert uow.versions.latest("pratica_admin")["version"] == 1  # a draft deploys nothing

    page.get_by_role("button", name="Confronta con la versione pubblicata").click()
    page.wait_for_selector("#modeler-differenze li:has-text('aggiunto: Controllo documenti')")
    assert page.locator(".djs-element.gol-aggiunto[data-element-id='controllo_documenti']").count() == 1

    page.get_by_role("button", name="Esegui gli scenari").click()
    page.wait_for_selector("#modeler-stato:has-text('Scenari')", timeout=120_000)
    page.wait_for_selector("#modeler-stato:not(:has-text('in esecuzione'))", timeout=120_000)
    assert page.locator("#modeler-stato").inner_text() == "Scenari: 1 superati, 0 falliti.", (
        page.locator("#modeler-stato").inner_text(), page.locator("#modeler-esiti").inner_text())
    assert "✓ Il controllo dei documenti viene prima della raccolta dati" in page.locator("#modeler-esiti").inner_text()

    page.get_by_role("button", name="Pubblica…").click()
    page.wait_for_selector("#modeler-casi li:has-text('v1: 1 casi in corso')")
    page.get_by_role("button", name="Conferma la pubblicazione").click()
    page.wait_for_selector("#modeler-stato:has-text('Pubblicata la versione 2')")
    assert errors == [] and analyst.csp_violations == [], where

    analyst.goto("/admin/processi/pratica_admin/versioni")
    row = page.locator("#storia-versioni tr[data-versione='2']")
    assert "Controllo dei documenti prima della raccolta" in row.inner_text()
    assert "aggiunto: Controllo documenti" in row.inner_text() and "1 superati su 1" in row.inner_text()
    assert running

    new_case = start(rt, nome="Marco", cognome="Rossi", first15="RSSMRC75C12E715")
    with rt.uow(write=False) as uow:
        assert [t["element_id"] for t in uow.inbox.for_instance(new_case)] == ["controllo_documenti"]
    operator = site()
    operator.login("cpi.nord", PASSWORD)
    operator.goto("/attivita")
    row = operator.page.locator("tr", has_text="Controllo documenti").filter(has_text="Marco Rossi")
    row.get_by_role("link", name="Marco Rossi").click()
    operator.page.wait_for_url("**/attivita/*")
    assert operator.page.get_by_role("heading", level=1).inner_text() == "Controllo documenti"
    operator.page.get_by_label("Esito").fill("completi")
    operator.page.get_by_role("button", name="Completa l'attività").click()
    operator.page.wait_for_load_state()
    with rt.uow(write=False) as uow:
        assert [t["element_id"] for t in uow.inbox.for_instance(new_case)] == ["raccolta"]
