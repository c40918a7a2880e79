"""Each validation rule on a small fixture: the exact element id and file line it reports."""

from __future__ import annotations

from pathlib import Path

import pytest

from gol_workflow.domain.model import Problem
from gol_workflow.services.administration import deployment

INVALID = Path(__file__).resolve().parent.parent / "data" / "invalid"
FORMS = Path(__file__).resolve().parent.parent / "data" / "forms"
LANES = frozenset({"CPI", "ATS"})


def line_of(path: Path, needle: str, occurrence: int = 1) -> int:
    """The 1-based line of the n-th line containing `needle`."""
    hits = [n for n, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in text]
    assert len(hits) >= occurrence, f"{needle!r} not in {path.name}"
    return hits[occurrence - 1]


def problems_of(name: str, operators: frozenset[str] | None = None) -> list[Problem]:
    _, result = deployment.validate_path(INVALID / name, FORMS, operators, LANES)
    return result.problems


def by_element(problems: list[Problem]) -> dict[str, Problem]:
    found = {p.element: p for p in problems}
    assert len(found) == len(problems), f"one problem per element expected: {problems}"
    return found


def warnings_of(name: str) -> list[Problem]:
    _, result = deployment.validate_path(INVALID / name, FORMS, None, LANES)
    return result.warnings


def test_user_tasks_need_an_existing_form_and_a_lane_or_candidates_is_a_warning() -> None:
    path = INVALID / "user_tasks.bpmn"
    found = by_element(problems_of("user_tasks.bpmn"))
    assert set(found) == {"modulo_inesistente", "camunda_inesistente", "scadenza_errata"}
    assert found["modulo_inesistente"].line == line_of(path, "inesistente.schema.json")
    assert found["modulo_inesistente"].message == "form inesistente.schema.json does not exist in the forms folder"
    assert found["camunda_inesistente"].line == line_of(path, 'id="camunda_inesistente"')
    assert "manca.schema.json does not exist" in found["camunda_inesistente"].message
    assert found["scadenza_errata"].line == line_of(path, 'name="dueIn"')
    assert "dueIn" in found["scadenza_errata"].message
    # Deployed anyway: a task without a form gets a "Completa" button, one nobody is named for
    # is worked by administrators.
    warned = by_element(warnings_of("user_tasks.bpmn"))
    assert set(warned) == {"senza_modulo", "senza_corsia", "corsia_ignota", "corsia_senza_nome"}
    assert all(w.warning for w in warned.values())
    assert warned["senza_modulo"].line == line_of(path, 'id="senza_modulo"')
    assert "names no form" in warned["senza_modulo"].message
    assert warned["senza_corsia"].line == line_of(path, 'id="senza_corsia"')
    assert "not in a lane" in warned["senza_corsia"].message
    assert warned["corsia_ignota"].line == line_of(path, 'id="corsia_ignota"')
    assert "'Ufficio ignoto' is not in lanes.toml (ATS, CPI)" in warned["corsia_ignota"].message
    assert "which has no name" in warned["corsia_senza_nome"].message
    assert str(warned["senza_modulo"]).startswith(f"user_tasks.bpmn:{warned['senza_modulo'].line}: senza_modulo: warning: ")


def test_lanes_and_form_existence_are_not_checked_when_unknown() -> None:
    _, result = deployment.validate_path(INVALID / "user_tasks.bpmn", None)
    assert {p.element for p in result.problems} == {"scadenza_errata"}


def test_every_unconditioned_flow_out_of_a_deciding_gateway_is_reported() -> None:
    path = INVALID / "gateways.bpmn"
    found = by_element(problems_of("gateways.bpmn"))
    assert set(found) == {"gf_no", "gf_sanitario", "gf_a"}
    assert found["gf_no"].line == line_of(path, 'id="gf_no"')
    assert found["gf_no"].message == (
        "flow out of exclusive gateway scelta has no condition and is not the gateway's default flow"
    )
    assert found["gf_sanitario"].line == line_of(path, 'id="gf_sanitario"')
    assert "inclusive gateway servizi" in found["gf_sanitario"].message
    assert found["gf_a"].line == line_of(path, 'id="gf_a"')
    assert "parallel gateway divisione is ignored" in found["gf_a"].message


@pytest.mark.parametrize(
    ("element", "needle", "expected"),
    [
        ("durata_errata", '"P5X"', "timer value 'P5X' is not an ISO 8601 duration"),
        ("data_senza_fuso", '"2026-03-02T09:00:00"', "has no UTC offset"),
        ("ciclo_senza_r", '"P1W"', "is not an ISO 8601 cycle"),
        ("non_compila", "add_days(data_colloquio,<", "timer timeDate does not compile: SyntaxError: '(' was never closed"),
        ("vuoto", "<bpmn:timeDuration></bpmn:timeDuration>", "timer timeDuration is empty"),
        ("numero", ">5<", "timer value 5 must be a string"),
    ],
)
def test_timer_expressions_must_give_iso_8601(element: str, needle: str, expected: str) -> None:
    found = by_element(problems_of("timers.bpmn"))
    assert found[element].line == line_of(INVALID / "timers.bpmn", needle)
    assert expected in found[element].message


def test_valid_timers_pass_including_expressions_on_case_data() -> None:
    found = by_element(problems_of("timers.bpmn"))
    assert {"valido", "da_dati", "ciclo_valido"}.isdisjoint(found)
    assert "senza_virgolette" not in found  # plain P5D, as Camunda Modeler writes it, reads like "P5D"
    assert len(found) == 6


def test_code_that_does_not_compile_is_reported_on_its_own_line() -> None:
    path = INVALID / "code.bpmn"
    found = {(p.element, p.message.split(":")[0]): p for p in problems_of("code.bpmn", frozenset({"idol_registra"}))}
    expected = {
        ("calcola", "script does not compile"): line_of(path, "quota = (totale /"),
        ("compila", "instructions are not a valid template"): line_of(path, "{{ beneficiario.nome }"),
        ("compila", "pre-script does not compile"): line_of(path, "classe = visto.__class__"),
        ("compila", "post-script does not compile"): line_of(path, 'esito = "ok"'),
        ("cf_si", "condition ${esito == 'ok'} is a JUEL expression (Camunda), which does not run here"):
            line_of(path, "${esito == 'ok'}"),
        ("notifica", "message payload does not compile"): line_of(path, "<spiffworkflow:messagePayload>"),
        ("registra", "parameter 'importo' does not compile"): line_of(path, 'value="importo *"'),
        ("groovy", "script format 'groovy' is not supported"): line_of(path, 'scriptFormat="groovy"'),
        ("caso", "correlation expression does not compile"): line_of(path, "<bpmn:formalExpression>caso["),
    }
    assert {key: p.line for key, p in found.items()} == expected
    juel = found[("cf_si", "condition ${esito == 'ok'} is a JUEL expression (Camunda), which does not run here")]
    assert juel.message.endswith("write it in Python, e.g. esito == 'ok'")
    assert "remove the indentation" in found[("compila", "post-script does not compile")].message
    assert "__class__" in found[("compila", "pre-script does not compile")].message


def test_service_operators_must_be_registered_when_the_list_is_known() -> None:
    path = INVALID / "services.bpmn"
    problems = problems_of("services.bpmn", frozenset({"equipe_iscrivi"}))
    unknown = [p for p in problems if p.element == "ignoto"]
    found = {p.element: p for p in problems}
    assert [p.line for p in unknown] == [line_of(path, 'id="invia_fax"'), line_of(path, 'id="numero"')]
    assert unknown[0].message == "unknown service operator 'invia_fax' (known: equipe_iscrivi)"
    assert "parameter 'numero' has no value" in unknown[1].message
    assert found["camunda"].line == line_of(path, 'id="camunda"')
    assert found["camunda"].message == (
        'camunda:class="it.esempio.Delegate" is a Java delegate, which does not run here: '
        "write the work as a Python connector and name it with spiffworkflow:serviceTaskOperator"
    )
    assert "noto" not in found


def test_operators_are_not_checked_without_a_list() -> None:
    problems = problems_of("services.bpmn", None)
    assert not any("unknown service operator" in p.message for p in problems)


def test_dmn_cells_and_input_expressions_compile_as_spiffworkflow_runs_them() -> None:
    path = INVALID / "decisions.dmn"
    found = by_element(problems_of("decisions.dmn"))
    assert set(found) == {"input_eta", "regola_giovani_eta", "regola_adulti_fascia"}
    assert found["input_eta"].line == line_of(path, "<text>eta anni</text>")
    assert found["input_eta"].message.startswith("DMN input expression does not compile")
    assert found["regola_giovani_eta"].line == line_of(path, "[18..29]")
    assert found["regola_giovani_eta"].message.startswith("DMN rule 1, input cell does not compile")
    assert "FEEL" in found["regola_giovani_eta"].message
    assert found["regola_adulti_fascia"].line == line_of(path, "<text>true</text>")
    assert found["regola_adulti_fascia"].message == "DMN rule 2, output cell: 'true' is not Python: write True"


def test_a_folder_is_validated_together_and_a_file_alone() -> None:
    _, together = deployment.validate_path(INVALID / "linked", FORMS, frozenset(), LANES)
    assert together.problems == []
    assert sorted(together.process_ids) == ["chiamante", "chiamato"]
    path = INVALID / "linked" / "chiamante.bpmn"
    _, alone = deployment.validate_path(path, FORMS, frozenset(), LANES)
    assert [(p.element, p.line) for p in alone.problems] == [
        ("decidi_fascia", line_of(path, "<spiffworkflow:calledDecisionId>")),
        ("chiama", line_of(path, 'id="chiama"')),
    ]
    assert "decision 'fascia_collegata' is not defined" in alone.problems[0].message
    assert "called process 'chiamato' is not defined" in alone.problems[1].message


def test_duplicate_process_ids_are_reported_with_both_files() -> None:
    _, result = deployment.validate_path(INVALID / "duplicates", None)
    assert [str(p) for p in result.problems] == [
        "copia_a.bpmn:3: chiamato: process id 'chiamato' is also defined in copia_b.bpmn:3",
        "copia_b.bpmn:3: chiamato: process id 'chiamato' is also defined in copia_a.bpmn:3",
    ]


def test_an_endless_cycle_on_a_start_event_is_refused() -> None:
    path = INVALID / "cycle_start.bpmn"
    problems = problems_of("cycle_start.bpmn")
    assert [(p.element, p.line) for p in problems] == [("ogni_settimana", line_of(path, "<bpmn:timeCycle>"))]
    assert "endless cycle timer on the process's start event" in problems[0].message
    bounded = path.read_bytes().replace(b'"R/2026', b'"R4/2026')
    assert deployment.validate(deployment.Sources({path.name: bounded}, {}), check_forms=False).problems == []


def test_code_that_could_never_run_is_refused_on_its_line() -> None:
    path = INVALID / "never_runs.bpmn"
    found = by_element(problems_of("never_runs.bpmn"))
    expected = {
        "importa": ("import os", "script: import is not available in scripts: no module can be loaded"),
        "da_modulo": ("from subprocess import run", "script: from ... import is not available in scripts"),
        "apri": ("open(percorso)", "script: open() is not available in scripts (scripts cannot read or write files)"),
        "valuta": ("eval('1 + 1')", "script does not compile: Eval calls are not allowed"),
        "attributo": ("getattr(richiesta", "script: getattr() is not available in scripts (use obj.name"),
        "classe": ("class Scheda:", "script: class statements are not available in scripts ('Scheda'): use a dict"),
        "formato": ("'{} ore'.format", "script: .format() is not available in scripts (use an f-string"),
        "dunder": ("().__class__", "script does not compile: \"__class__\" is an invalid attribute name"),
        "nf9": ("type(esito) == str", "condition: type() is not available in scripts (use isinstance(value, str))"),
    }
    assert {element: (p.line, p.message[: len(expected[element][1])]) for element, p in found.items()} == {
        element: (line_of(path, needle), message) for element, (needle, message) in expected.items()
    }
    assert "proprio" not in found  # a function of the script's own may be called format
