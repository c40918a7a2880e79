"""BPMN scripts and expressions run sandboxed: harmful code fails clearly, ordinary code works."""

from __future__ import annotations

import time

import pytest

from gol_workflow.engine.sandbox import SandboxEnvironment, ScriptSyntaxError, ScriptTimeout
from gol_workflow.engine.scripting import make_helpers


@pytest.fixture
def sandbox() -> SandboxEnvironment:
    return SandboxEnvironment(make_helpers("Europe/Rome"), time_limit=0.5)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("import os", "__import__"),
        ("open('/etc/hostname').read()", "open"),
        ("__import__('subprocess')", "__import__"),
        ("().__class__.__base__.__subclasses__()", "__class__"),
        ("x = getattr((), '__class__')", "getattr"),
        ("globals()['__builtins__']", "globals"),
        ("eval('1+1')", "Eval calls are not allowed"),
        ("exec('x = 1')", "Exec calls are not allowed"),
        ("import subprocess; subprocess.run(['ls'])", "__import__"),
        ("x = type(1).__mro__", "__mro__"),
    ],
)
def test_harmful_scripts_fail_with_a_clear_error(sandbox: SandboxEnvironment, code: str, expected: str) -> None:
    data: dict = {}
    with pytest.raises((ScriptSyntaxError, NameError, ImportError)) as exc:
        sandbox.execute(code, data)
    assert expected in str(exc.value)
    assert data == {}


def test_harmful_expressions_fail_too(sandbox: SandboxEnvironment) -> None:
    with pytest.raises(ScriptSyntaxError, match="__class__"):
        sandbox.evaluate("().__class__.__base__", {})
    with pytest.raises(NameError, match="open"):
        sandbox.evaluate("open('/etc/hostname')", {})


def test_unbounded_loops_are_stopped(sandbox: SandboxEnvironment) -> None:
    started = time.monotonic()
    with pytest.raises(ScriptTimeout, match="time limit"):
        sandbox.execute("n = 0\nwhile True:\n    n += 1", {})
    assert time.monotonic() - started < 3
    with pytest.raises(ScriptTimeout):
        sandbox.evaluate("sum(1 for _ in range(10**12))", {})


def test_ordinary_scripts_still_work(sandbox: SandboxEnvironment) -> None:
    data = {"importi": [10.5, 20, 30], "persona": {"nome": "Mario"}, "giorni": 3}
    sandbox.execute(
        "\n".join(
            [
                "totale = sum(importi)",
                "media = round(totale / len(importi), 2)",
                "riepilogo = {'nome': persona['nome'], 'voci': [i * 2 for i in importi if i > 15]}",
                "riepilogo['conteggio'] = len(riepilogo['voci'])",
                "scadenza = (datetime(2026, 1, 30) + timedelta(days=giorni)).date().isoformat()",
                "fine = add_months('2026-01-31T09:00:00+01:00', 1)",
                "giorni += 1",
                "etichetta = f\"{persona['nome']} ({giorni} giorni)\"",
            ]
        ),
        data,
    )
    assert data["totale"] == 60.5
    assert data["media"] == 20.17
    assert data["riepilogo"] == {"nome": "Mario", "voci": [40, 60], "conteggio": 2}
    assert data["scadenza"] == "2026-02-02"
    assert data["fine"] == "2026-02-28T09:00:00+01:00"
    assert data["giorni"] == 4
    assert data["etichetta"] == "Mario (4 giorni)"
    assert "datetime" not in data and "add_months" not in data


def test_expressions_see_data_and_helpers(sandbox: SandboxEnvironment) -> None:
    assert sandbox.evaluate("percorso == 4 and bisogni_complessi", {"percorso": 4, "bisogni_complessi": True})
    assert sandbox.evaluate("at_local_time('2026-03-30', '09:30')", {}) == "2026-03-30T09:30:00+02:00"
    assert sandbox.evaluate("add_months(at_local_time(d, '00:00'), 12)", {"d": "2026-02-10"}) == (
        "2027-02-10T00:00:00+01:00"
    )


def test_syntax_errors_report_their_line(sandbox: SandboxEnvironment) -> None:
    with pytest.raises(ScriptSyntaxError) as exc:
        sandbox.execute("a = 1\nb = (\n", {})
    assert exc.value.lineno == 2


def test_a_failing_script_changes_no_data(sandbox: SandboxEnvironment) -> None:
    data = {"a": 1}
    with pytest.raises(ZeroDivisionError):
        sandbox.execute("a = 2\nb = 1 / 0", data)
    assert data == {"a": 1}


def test_in_place_changes_do_not_leak_into_the_original_objects(sandbox: SandboxEnvironment) -> None:
    shared = {"voci": [1, 2]}
    data = {"elenco": shared}
    sandbox.execute("elenco['voci'].append(3)\nelenco['nuovo'] = True", data)
    assert data["elenco"] == {"voci": [1, 2, 3], "nuovo": True}
    assert shared == {"voci": [1, 2]}


def test_expressions_written_on_their_own_lines_evaluate(sandbox: SandboxEnvironment) -> None:
    assert sandbox.evaluate("\n      percorso == 4\n    ", {"percorso": 4}) is True
