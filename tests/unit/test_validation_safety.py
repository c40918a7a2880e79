"""Hostile or broken files become problems with a clear message: never a traceback, never a fetch."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

from gol_workflow.engine import validation
from gol_workflow.engine.documents import Document
from gol_workflow.engine.parsing import parse_xml
from gol_workflow.engine.semantics import load_semantics
from gol_workflow.engine.validation import validate_sources
from gol_workflow.forms.form_files import check_form_file
from tests.unit.test_validation_rules import INVALID, line_of

XML = INVALID / "xml"


def only_problem(path: Path) -> str:
    report = validate_sources({path.name: path.read_bytes()})
    assert len(report.problems) == 1, report.problems
    return str(report.problems[0])


def test_external_entity_is_refused_and_never_read() -> None:
    shown = only_problem(XML / "external_entity.bpmn")
    assert shown == (
        "external_entity.bpmn:3: -: entity declarations (<!ENTITY>) are not allowed: entities are never expanded or fetched"
    )
    hostname = Path("/etc/hostname").read_text(encoding="utf-8").strip() if Path("/etc/hostname").exists() else ""
    assert not hostname or hostname not in shown


def test_entity_expansion_bomb_is_refused_at_once() -> None:
    shown = only_problem(XML / "billion_laughs.bpmn")
    assert shown.startswith("billion_laughs.bpmn:3: -: entity declarations (<!ENTITY>) are not allowed")


def test_a_dtd_is_refused_without_contacting_its_address() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    content = (XML / "external_dtd.bpmn").read_bytes().replace(b"127.0.0.1:9", f"127.0.0.1:{port}".encode())
    contacted = threading.Event()

    def accept() -> None:
        try:
            listener.accept()
            contacted.set()
        except OSError:
            pass

    watcher = threading.Thread(target=accept)
    watcher.start()
    try:
        report = validate_sources({"external_dtd.bpmn": content})
    finally:
        watcher.join()
        listener.close()
    assert [str(p) for p in report.problems] == [
        "external_dtd.bpmn:2: -: DOCTYPE declarations (DTDs) are not allowed: nothing is loaded from a DTD"
    ]
    assert not contacted.is_set()


def test_the_xml_parser_itself_never_expands_entities() -> None:
    content = b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "boom">]><a>&x;</a>'
    with pytest.raises(ValueError, match="DOCTYPE"):
        parse_xml(content)


def test_malformed_xml_names_the_line_of_the_fault() -> None:
    shown = only_problem(XML / "malformed.bpmn")
    line = line_of(XML / "malformed.bpmn", "</bpmn:process>")
    assert shown.startswith(f"malformed.bpmn:{line}: -: malformed XML: Opening and ending tag mismatch")


def test_files_not_in_utf_8_are_refused_with_the_line() -> None:
    assert only_problem(XML / "latin1.bpmn") == "latin1.bpmn:3: -: the file is not UTF-8 encoded: save it as UTF-8"


def test_xml_that_is_not_a_model_is_refused() -> None:
    shown = only_problem(XML / "not_bpmn.bpmn")
    assert shown == (
        "not_bpmn.bpmn:2: altro: not a BPMN 2.0 or DMN model: the root element is <processo>, "
        "expected bpmn:definitions or dmn:definitions"
    )


@pytest.mark.parametrize("content", [b"", b"\x00\x01\x02", b"\xff\xfe<\x00a\x00>\x00", b"<a>" * 5000, "è".encode("utf-16")])
def test_arbitrary_bytes_become_problems(content: bytes) -> None:
    report = validate_sources({"rotto.bpmn": content})
    assert report.problems and all(p.file == "rotto.bpmn" and p.message for p in report.problems)


@pytest.mark.parametrize(
    ("name", "needle", "element", "message"),
    [
        ("crash_rule_without_id.dmn", "<rule>", "regola_senza_id_tabella", "(KeyError: 'id')"),
        ("crash_extra_cell.dmn", 'id="cp_in_piu"', "cp_in_piu", "(IndexError: list index out of range)"),
    ],
)
def test_library_crashes_become_problems_on_the_element(name: str, needle: str, element: str, message: str) -> None:
    path = INVALID / name
    report = validate_sources({name: path.read_bytes()})
    assert [(p.line, p.element) for p in report.problems] == [(line_of(path, needle), element)]
    assert report.problems[0].message == f"unsupported or malformed construct {message}"


def test_a_library_crash_outside_our_prechecks_is_caught_too() -> None:
    # Two decisions in one DMN file crash SpiffWorkflow with AttributeError; validation warns first,
    # and the loader alone still turns the crash into a problem.
    text = (INVALID / "linked" / "fascia.dmn").read_text(encoding="utf-8")
    second = text.split("<decision ", 1)[1].split("</decision>", 1)[0]
    second = second.replace("fascia_collegata", "altra_fascia").replace("fc_", "af_")
    doubled = text.replace("</definitions>", f"<decision {second}</decision>\n</definitions>")
    doc = Document.of("doppia.dmn", parse_xml(doubled.encode()))
    semantics = load_semantics([doc])
    assert len(semantics.problems) == 1
    assert semantics.problems[0].message.startswith("unsupported or malformed construct (AttributeError:")
    report = validate_sources({"doppia.dmn": doubled.encode()})
    assert [p.element for p in report.problems] == ["altra_fascia"]
    assert "only one decision per DMN file can run" in report.problems[0].message


def test_unsupported_constructs_are_named() -> None:
    content = (INVALID / "linked" / "chiamato.bpmn").read_text(encoding="utf-8").replace(
        '<bpmn:scriptTask id="c_calcola" name="Calcola">', '<bpmn:complexGateway id="c_calcola" name="Calcola">'
    ).replace("</bpmn:scriptTask>", "</bpmn:complexGateway>").replace("<bpmn:script>fatto = True</bpmn:script>", "")
    report = validate_sources({"complesso.bpmn": content.encode()})
    assert [p.element for p in report.problems] == ["c_calcola"]
    assert report.problems[0].line == 6


@pytest.mark.parametrize(
    ("name", "line", "element", "message"),
    [
        ("json_rotto.schema.json", 4, None, "not valid JSON: Expecting property name enclosed in double quotes (column 31)"),
        ("schema_errato.schema.json", 7, "properties.eta.type", "invalid JSON Schema 2020-12: 'intero' is not valid"),
        ("bozza_07.schema.json", 2, "$schema", "forms are JSON Schema 2020-12"),
        ("non_oggetto.schema.json", 3, None, 'a form must be {"type": "object", "properties": {...}}'),
        ("chiave_doppia.schema.json", 5, "nota", 'key "nota" appears twice in the same object'),
    ],
)
def test_form_files_are_checked_with_their_json_line(name: str, line: int, element: str | None, message: str) -> None:
    content = (INVALID / "forms" / name).read_bytes()
    schema, problems = check_form_file(name, content)
    assert schema is None
    assert [(p.line, p.element) for p in problems] == [(line, element)]
    assert problems[0].message.startswith(message)


def test_a_valid_form_passes() -> None:
    schema, problems = check_form_file("valido.schema.json", (INVALID / "forms" / "valido.schema.json").read_bytes())
    assert problems == [] and schema is not None and schema["type"] == "object"


def test_a_failing_check_is_reported_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(doc: Document) -> list:
        raise KeyError("boom")

    monkeypatch.setattr(validation, "timer_problems", broken)
    path = INVALID / "linked" / "chiamato.bpmn"
    report = validate_sources({path.name: path.read_bytes()})
    assert [str(p) for p in report.problems] == ["chiamato.bpmn:2: -: could not be checked (timers: KeyError: 'boom')"]
