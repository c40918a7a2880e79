"""Analysts' scenario files: shipped ones pass with full coverage, a wrong edit fails clearly, bad files are named."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gol_workflow.bootstrap import bootstrap
from gol_workflow.cli import main
from gol_workflow.services.scenarios.coverage import coverage, write_html
from gol_workflow.services.scenarios.files import ScenarioFileError, parse_scenario, scenario_files
from gol_workflow.services.scenarios.runner import run_scenario, workspace
from tests.conftest import ROOT

SCENARIOS = ROOT / "processes" / "scenarios"


def _copy(tmp_path: Path) -> Path:
    """processes/, forms/ and zones/ copied to a temporary folder; returns the processes copy."""
    for name in ("processes", "forms", "zones"):
        shutil.copytree(ROOT / name, tmp_path / name)
    return tmp_path / "processes"


def test_the_shipped_scenarios_pass_and_cover_both_processes(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                                             ) -> None:
    status = main(["test", str(ROOT / "processes"), "--min-nodes", "95", "--min-flows", "90",
                   "--forms", str(ROOT / "forms"), "--zones", str(ROOT / "zones"),
                   "--coverage-html", str(tmp_path / "report")])
    out = capsys.readouterr().out
    assert status == 0, out
    assert out.count("✓ ") == len(scenario_files(ROOT / "processes")) >= 9
    assert "✗" not in out and "0 failed" in out
    assert "coverage percorso4: flow nodes 100.0% (63/63), sequence flows 100.0% (64/64)" in out
    assert "coverage riunione_equipe: flow nodes 100.0%" in out
    # The services' parts of a monitoring, a process only ever called from percorso4, are covered by its runs.
    assert "coverage monitoraggio_congiunto: flow nodes 100.0% (9/9), sequence flows 100.0% (10/10)" in out
    page = (tmp_path / "report" / "index.html").read_text(encoding="utf-8")
    assert "bpmn-js/dist/bpmn-viewer.production.min.js" in page and "addMarker" in page
    assert (tmp_path / "report" / "bpmn-js" / "dist" / "bpmn-viewer.production.min.js").is_file()


def test_an_inverted_gateway_condition_fails_the_scenario_naming_the_step_and_both_paths(tmp_path: Path) -> None:
    processes = _copy(tmp_path)
    bpmn = processes / "percorso4.bpmn"
    text = bpmn.read_text(encoding="utf-8")
    right = 'scheda_esito["beneficiario_presente"]</bpmn:conditionExpression>'
    assert right in text
    bpmn.write_text(text.replace(right, 'not scheda_esito["beneficiario_presente"]</bpmn:conditionExpression>'),
                    encoding="utf-8")
    scenario = parse_scenario(processes / "scenarios" / "01_percorso_completo_12_mesi.yaml")
    with workspace(bootstrap, processes) as space:
        result = run_scenario(space, scenario)
    assert not result.passed and result.failure is not None
    message = result.failure.text()
    assert "01_percorso_completo_12_mesi.yaml:46: step 'expect not_reached, open_tasks, outbox'" in message
    assert "'informa_beneficiario' was reached" in message
    assert "expected: not reached: informa_beneficiario" in message
    assert ("actual path: Presa in carico al CPI -> Profilazione e assessment" in message
            and "Beneficiario presente all'equipe? -> [Informare il beneficiario dell'esito]" in message)


def test_the_cli_exits_1_on_a_failing_scenario_and_2_on_a_malformed_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    processes = _copy(tmp_path)
    bpmn = processes / "percorso4.bpmn"
    bpmn.write_text(bpmn.read_text(encoding="utf-8").replace(">percorso == 4<", ">percorso != 4<"), encoding="utf-8")
    assert main(["test", str(processes), "-k", "02_"]) == 1
    out = capsys.readouterr().out
    assert "✗ Senza bisogni complessi viene assegnato un percorso diverso" in out
    assert "1 failed" in out and "02_percorso_diverso.yaml:17: step 'expect data" in out
    assert "the case did not go through 'Percorso diverso assegnato'" in out
    assert ("expected: path Presa in carico al CPI -> profilazione -> assegna_percorso -> Percorso 4? -> "
            "Percorso diverso assegnato") in out
    assert "actual path: Presa in carico al CPI -> Profilazione e assessment -> Assegnare il percorso GOL -> " \
           "Percorso 4? -> gw_iscrizione -> Iscrivere il caso all'equipe -> [Esito dell'equipe ricevuto]" in out

    (processes / "scenarios" / "99_rotto.yaml").write_text(
        "name: rotto\nprocess: percorso4\nstart: {as: cpi, data: {zona: pistoiese}}\nsteps:\n"
        "  - complete: profilazione\n    as: cpi\n  - advance: tre mesi\n", encoding="utf-8")
    assert main(["test", str(processes)]) == 2
    err = capsys.readouterr().err
    assert "99_rotto.yaml:7: step 2: 'advance' takes an ISO 8601 duration such as P3M" in err

    assert main(["test", str(SCENARIOS / "04_equipe_non_attivabile.yaml")]) == 0
    assert "1 passed, 0 failed" in capsys.readouterr().out

    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["test", str(empty)]) == 2

    (processes / "scenarios" / "99_rotto.yaml").unlink()
    (processes / "scenarios" / "accounts.yaml").unlink()  # the operators scenarios act as are declared, not built in
    capsys.readouterr()
    assert main(["test", str(processes)]) == 2
    assert "accounts.yaml: missing: declare there the operators scenarios act as" in capsys.readouterr().err


@pytest.mark.parametrize(("text", "expected"), [
    ("name: x\nprocess: percorso4\n", ":1: missing 'start'"),
    ("name: x\nprocess: p\nstart: {as: cpi}\nsteps:\n  - complete: profilazione\n",
     ":5: step 1: 'complete' needs 'as'"),
    ("name: x\nprocess: p\nstart: {as: cpi}\nsteps:\n  - fly: away\n", ":5: step 1 must have exactly one of"),
    ("name: x\nprocess: p\nstart: {as: cpi}\nsteps:\n  - expect:\n      reachd: [a]\n",
     ":6: unknown expectation 'reachd'"),
    ("name: x\nprocess: p\nstart: {as: cpi}\nsteps:\n  - complete: a\n    as: cpi\n    answer: {}\n",
     ":5: step 1 (complete): unknown key 'answer'"),
    ("name: x\nprocess: p\nstart: {as: cpi\n", ":4: not valid YAML"),
    ("name: x\nprocess: p\nstart: {as: cpi}\nexpect:\n  state: finito\n", ":5: 'state' takes one of running,"),
    ("name: x\nprocess: p\nstart: {as: cpi}\nexpect:\n  outbox: [{subject: x}]\n",
     "an outbox expectation takes subject_contains"),
])
def test_a_malformed_scenario_file_is_refused_with_file_and_line(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioFileError) as refused:
        parse_scenario(path)
    assert str(refused.value).startswith(str(path)) and expected in str(refused.value)


def test_coverage_lists_what_no_scenario_took(tmp_path: Path) -> None:
    with workspace(bootstrap, ROOT / "processes") as space:
        result = run_scenario(space, parse_scenario(SCENARIOS / "02_percorso_diverso.yaml"))
    assert result.passed, result.failure
    (discussion, parts, p4, equipe) = coverage(ROOT / "processes", [result])
    assert parts.process_id == "monitoraggio_congiunto" and parts.node_percent == 0.0  # no monitoring on this path
    assert p4.process_id == "percorso4" and p4.taken_nodes == {
        "avvio_presa_in_carico", "profilazione", "assegna_percorso", "gw_percorso_4", "fine_altro_percorso"}
    assert "f_percorso4_no: gw_percorso_4 -> fine_altro_percorso" not in p4.missed_flows()
    assert "f_percorso4_si: gw_percorso_4 -> gw_iscrizione" in p4.missed_flows()
    assert equipe.node_percent == 0.0 and discussion.process_id == "discussione_caso"
    page = write_html([p4], tmp_path / "out", ROOT / "node_modules").read_text(encoding="utf-8")
    assert "Flow nodes: 7.9% (5/63)" in page


@pytest.mark.browser
def test_the_html_report_draws_each_diagram_with_covered_and_missed_elements(chromium: object, tmp_path: Path) -> None:
    with workspace(bootstrap, ROOT / "processes") as space:
        result = run_scenario(space, parse_scenario(SCENARIOS / "02_percorso_diverso.yaml"))
    page_file = write_html(coverage(ROOT / "processes", [result]), tmp_path / "out", ROOT / "node_modules")
    page = chromium.new_page()  # type: ignore[attr-defined]
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(page_file.as_uri())
    page.wait_for_function("document.querySelectorAll('.djs-container').length === 4")
    page.wait_for_function("document.querySelectorAll('.covered').length >= 9")
    covered = page.eval_on_selector_all(".covered", "els => els.map(e => e.getAttribute('data-element-id'))")
    assert {"profilazione", "fine_altro_percorso", "f_percorso4_no"} <= set(covered)
    assert "f_percorso4_si" not in covered
    assert page.locator(".missed[data-element-id='iscrivi_equipe']").count() == 1
    assert errors == []
    page.close()
