"""Files saved by Camunda Modeler (Camunda 7) run unchanged; what cannot map is refused with its Python equivalent."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from gol_workflow.cli import main
from gol_workflow.engine.camunda import form_from_key, juel_to_python, normalise
from gol_workflow.engine.parsing import compile_from_sources, parse_xml
from gol_workflow.services.administration import deployment
from gol_workflow.services.workflow.runtime import Runtime
from tests.conftest import ADMIN, CORPORA, ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "camunda"
PROCESSES = FIXTURES / "processes"
SHAPE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): (?P<element>\S+): (?P<message>\S.*)$")


def _line(path: Path, needle: str) -> int:
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in text:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


@pytest.mark.parametrize(("key", "form"), [
    ("valutazione", "valutazione.schema.json"),
    ("valutazione.schema.json", "valutazione.schema.json"),
    ("embedded:app:forms/valutazione.schema.json", "valutazione.schema.json"),
    ("embedded:app:forms/valutazione.html", None),
    ("camunda-forms:deployment:valutazione.form", None),
])
def test_a_form_key_names_a_json_schema_form_by_its_name(key: str, form: str | None) -> None:
    assert form_from_key(key) == form


def test_plain_iso_timers_read_as_quoted_and_a_date_without_offset_in_the_service_time_zone() -> None:
    xml = ('<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">'
           "<bpmn:timeDuration>P5D</bpmn:timeDuration><bpmn:timeCycle> R3/PT1H </bpmn:timeCycle>"
           '<bpmn:timeDate>2026-01-01T10:00:00</bpmn:timeDate><bpmn:timeDate>"P1D"</bpmn:timeDate>'
           "<bpmn:timeDate>2026-01-01T10:00:00+01:00</bpmn:timeDate></bpmn:definitions>")
    root = normalise(parse_xml(xml.encode()))
    assert [node.text for node in root] == [
        '"P5D"', '"R3/PT1H"', 'add_days("2026-01-01T10:00:00", 0)', '"P1D"', '"2026-01-01T10:00:00+01:00"']


def test_juel_is_rendered_in_python_for_the_hint() -> None:
    assert juel_to_python("${importo > 1000 && !respinta}") == "importo > 1000 and not respinta"
    assert juel_to_python("#{esito eq 'ok' || empty nota}") == "esito == 'ok' or not nota"
    assert juel_to_python('importo > 1000') is None


def test_a_camunda_modeler_file_maps_form_keys_properties_and_the_decision() -> None:
    files = {p.name: p.read_bytes() for p in PROCESSES.iterdir() if p.suffix in (".bpmn", ".dmn")}
    compiled = compile_from_sources(files, "richiesta_camunda")
    tasks = {meta.element_id: meta for meta in compiled.tasks.values()}
    assert compiled.start_form == "richiesta_avvio.schema.json"
    assert (tasks["valuta"].form, tasks["valuta"].due_in) == ("valutazione.schema.json", "P3D")
    assert tasks["approva"].form == tasks["sollecito"].form == "approvazione.schema.json"
    start = compiled.spec.task_specs["avvio"]
    assert start.extensions["properties"]["categoria"] == "contributi"  # camunda:properties are readable
    _, validation = deployment.validate_path(PROCESSES, FIXTURES / "forms")
    assert validation.ok, validation.problems


def test_the_stored_version_is_the_file_as_saved(runtime: Runtime) -> None:
    deployment.deploy(runtime, deployment.read_sources(PROCESSES, FIXTURES / "forms"), ADMIN)
    with runtime.uow(write=False) as uow:
        files = uow.versions.latest("richiesta_camunda")["files"]
    assert files["richiesta_camunda.bpmn"] == (PROCESSES / "richiesta_camunda.bpmn").read_text(encoding="utf-8")


def test_scenarios_run_the_camunda_file_unchanged(
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["test", str(PROCESSES), "--zones", str(ROOT / "zones"), "--min-nodes", "100",
                   "--min-flows", "100"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert out.count("✓ ") == 3 and "3 passed, 0 failed" in out
    assert "coverage richiesta_camunda: flow nodes 100.0% (13/13), sequence flows 100.0% (10/10)" in out


def test_what_cannot_map_is_refused_on_its_line_with_the_python_equivalent() -> None:
    path = FIXTURES / "refused" / "delegati_java.bpmn"
    sources, validation = deployment.validate_path(path, None)
    lines = [str(p) for p in validation.shown(sources)]
    assert all(SHAPE.match(line) for line in lines), lines
    found = {(int(m["line"]), m["element"]): m["message"] for m in map(SHAPE.match, lines) if m}
    expected = {
        (_line(path, 'id="compila"'), "compila"): "names a Camunda form that does not run here: forms are JSON "
        'Schema files in forms/: write forms/pratica.schema.json and set camunda:formKey="pratica"',
        (_line(path, "camunda:taskListener"), "compila"): "write it in Python as the element's "
        "spiffworkflow:preScript",
        (_line(path, 'id="calcola"'), "calcola"): 'camunda:class="it.esempio.CalcolaImporto" is a Java delegate, '
        "which does not run here: write the work as a Python connector and name it with "
        "spiffworkflow:serviceTaskOperator",
        (_line(path, 'id="verifica"'), "verifica"): 'camunda:delegateExpression="${verificaIsee}" is a Java delegate',
        (_line(path, "camunda:executionListener"), "verifica"): "spiffworkflow:postScript",
        (_line(path, 'id="esterno"'), "esterno"): 'external task (camunda:type="external", topic contabilita) '
        "does not run here",
        (_line(path, "${importo"), "Flow_alto"): "condition ${importo > 1000 && !respinta} is a JUEL expression "
        "(Camunda), which does not run here: write it in Python, e.g. importo > 1000 and not respinta",
        (_line(path, 'id="notifica"'), "notifica"): 'camunda:expression="${mailer.send(pratica)}" is a Java delegate',
    }
    assert set(found) == set(expected)
    for key, text in expected.items():
        assert text in found[key], (key, found[key])


def _camunda_examples() -> list[Path]:
    with (CORPORA / "MANIFEST.tsv").open(encoding="utf-8") as manifest:
        rows = list(csv.DictReader(manifest, delimiter="\t"))
    return [CORPORA / row["path"] for row in rows
            if row["path"].startswith("camunda/camunda-bpm-examples/") and row["path"].endswith(".bpmn")
            and row["exporter"].lower().startswith("camunda modeler")]


@pytest.mark.skipif(not (CORPORA / "MANIFEST.tsv").is_file(), reason="corpora not found beside the repository")
def test_the_camunda_examples_are_refused_only_for_what_has_no_counterpart_each_with_its_python_equivalent() -> None:
    examples = _camunda_examples()
    assert len(examples) >= 20
    seen: set[str] = set()
    for path in examples:
        text = path.read_text(encoding="utf-8")
        sources, validation = deployment.validate_path(path, None)
        lines = [str(p) for p in validation.shown(sources)]
        assert all(SHAPE.match(line) for line in lines), lines
        messages = "\n".join(lines)
        for marker, needle in (
            (re.compile(r'camunda:(class|delegateExpression)="'), "is a Java delegate, which does not run here: write"),
            (re.compile(r'camunda:type="external"'), "external task (camunda:type=\"external\""),
            (re.compile(r"conditionExpression[^>]*>(<!\[CDATA\[)?[$#]\{"), "is a JUEL expression (Camunda), which "
             "does not run here: write it in Python, e.g."),
            (re.compile(r'camunda:formKey="[^"]*\.(html|form)"'), "names a Camunda form that does not run here"),
        ):
            if marker.search(text):
                seen.add(needle)
                assert needle in messages, (path.name, lines)
    assert len(seen) == 4  # every kind of refusal occurs among the examples


def test_result_variables_and_other_condition_languages_are_refused_generated_forms_are_a_warning() -> None:
    xml = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="d" targetNamespace="http://bpmn.io/schema/bpmn" exporter="Camunda Modeler" exporterVersion="5.23.0">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="avvio">
      <bpmn:extensionElements><camunda:formData><camunda:formField id="importo" type="long" /></camunda:formData></bpmn:extensionElements>
      <bpmn:outgoing>f1</bpmn:outgoing>
    </bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="avvio" targetRef="decidi" />
    <bpmn:businessRuleTask id="decidi" camunda:decisionRef="priorita" camunda:resultVariable="esito">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:businessRuleTask>
    <bpmn:sequenceFlow id="f2" sourceRef="decidi" targetRef="scelta" />
    <bpmn:exclusiveGateway id="scelta" default="f4"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing><bpmn:outgoing>f4</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="f3" sourceRef="scelta" targetRef="fine">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression" language="javascript">esito == "alta"</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f4" sourceRef="scelta" targetRef="fine" />
    <bpmn:endEvent id="fine"><bpmn:incoming>f3</bpmn:incoming><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""
    dmn = (PROCESSES / "priorita.dmn").read_bytes()
    validation = deployment.validate(deployment.Sources({"p.bpmn": xml.encode(), "priorita.dmn": dmn}, {}))
    found = {(p.line, p.element): p.message for p in validation.problems}
    assert (4, "avvio") not in found  # a generated form deploys: the task takes any JSON object
    warned = {(p.line, p.element): p.message for p in validation.warnings}
    assert warned[(4, "avvio")].startswith("camunda:formData (a generated task form) is not shown here: the task is "
                                           'completed with a "Completa" button, or any JSON object through the API')
    assert found[(9, "decidi")].startswith('camunda:resultVariable="esito" is not read here')
    assert found[(15, "f3")].startswith("condition in javascript does not run here")
