"""Hostile code stops within seconds with a plain message, whatever its shape; ordinary code still runs."""

from __future__ import annotations

import resource
import time

import pytest

from gol_workflow.engine.limits import ScriptLimits
from gol_workflow.engine.sandbox import (
    SandboxEnvironment,
    ScriptMemoryExceeded,
    ScriptRefused,
    ScriptTimeout,
    ScriptTooLarge,
)
from gol_workflow.engine.scripting import make_helpers

LIMIT = 1.0
MEMORY_MB = 128


@pytest.fixture
def sandbox() -> SandboxEnvironment:
    return SandboxEnvironment(make_helpers("Europe/Rome"), limits=ScriptLimits(time=LIMIT, memory_mb=MEMORY_MB))


def peak_mb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


STRING_1G = "script stopped: it would build a string of 1,000,000,000 characters (limit 10,000,000)"
TIME = f"script stopped: it ran for more than {LIMIT:g} s (time limit)"

HOSTILE = [
    # one C-level call, no loop in sight
    ("x = sum(range(10**11))", ScriptTimeout, TIME),
    ("x = 'a' * 10**9", ScriptTooLarge, STRING_1G),
    ("x = 10**9 * 'a'", ScriptTooLarge, STRING_1G),
    ("x = [0] * 10**9", ScriptTooLarge, "it would build a list of 1,000,000,000 items (limit 1,000,000)"),
    ("x = (0,) * 10**9", ScriptTooLarge, "a list of 1,000,000,000 items"),
    ("x = 10**10**9", ScriptTooLarge, "it would build a number of 1,000,000,001 digits (limit 100,000)"),
    ("x = pow(7, 10**9)", ScriptTooLarge, "a number of 845,098,041 digits"),
    ("x = 1 << 10**10", ScriptTooLarge, "a number of 3,010,300,001 digits"),
    ("x = 'a'.ljust(10**9)", ScriptTooLarge, STRING_1G),
    ("x = 'a'.rjust(10**9, '-')", ScriptTooLarge, STRING_1G),
    ("x = 'a'.center(10**9)", ScriptTooLarge, STRING_1G),
    ("x = '7'.zfill(10**9)", ScriptTooLarge, STRING_1G),
    ("x = f'{0:>1000000000}'", ScriptTooLarge, STRING_1G),
    ("w = 10**9\nx = f'{0:>{w}}'", ScriptTooLarge, STRING_1G),
    ("x = f'{1.5:.1000000000f}'", ScriptTooLarge, STRING_1G),
    ("x = '%1000000000d' % 1", ScriptTooLarge, STRING_1G),
    ("x = bytes(10**9)", ScriptTooLarge, STRING_1G),
    ("x = (1).to_bytes(10**9, 'big')", ScriptTooLarge, STRING_1G),
    ("x = ('x' * 1000).replace('x', 'y' * 10**6)", ScriptTooLarge, STRING_1G),
    ("x = 'a\\tb'.expandtabs(10**9)", ScriptTooLarge, "a string of 1,000,000,003 characters"),
    ("x = '-'.join(['ab' * 10**6] * 10)", ScriptTooLarge, "a string of 20,000,000 characters"),
    ("x = sorted(range(10**9))", ScriptTooLarge, "a list of 1,000,000,000 items"),
    ("x = list(range(10**9))", ScriptTooLarge, "a list of 1,000,000,000 items"),
    ("x = set(range(10**9))", ScriptTooLarge, "a list of 1,000,000,000 items"),
    ("x = [*range(10**9)]", ScriptTooLarge, "a list of 1,000,000,000 items"),
    ("x = 1.5 in range(10**12)", ScriptTooLarge, "it would search a range of 1,000,000,000,000 items"),
    ("x = max(map(sum, [range(10**6)] * 10**6))", ScriptTimeout, TIME),
    ("x = min(map(len, map(sorted, [range(10**6)] * 10**6)))", ScriptTimeout, TIME),
    ("x = str([10**4000] * 10**5)", ScriptTooLarge, "a string of 400,"),
    ("a = [0] * 10**6\nb = [a] * 10**6", ScriptTooLarge, "a collection of 1,000,001 items (nested ones included)"),
    ("x = datetime(2026, 1, 1).strftime('%c' * 10**6)", ScriptTooLarge, "use a date format of 2,000,000 characters"),
    ("a, b = range(10**9)", (ScriptMemoryExceeded, ScriptTimeout), "script stopped: it "),
    # loops whose single steps are cheap but whose values double
    ("s = 'a'\nfor i in range(100):\n    s = s + s", ScriptTooLarge, "a string of 16,777,216 characters"),
    ("s = 'a'\nfor i in range(100):\n    s += s", ScriptTooLarge, "a string of 16,777,216 characters"),
    ("n = 3\nwhile True:\n    n = n * n", ScriptTooLarge, "a number of"),
    ("l = [1]\nwhile True:\n    l.extend(l)", ScriptTooLarge, "a collection of 1,048,576 items"),
    ("l = [1]\nwhile True:\n    l = [*l, *l]", (ScriptTimeout, ScriptMemoryExceeded), "script stopped: it "),
    ("l = []\nwhile True:\n    l.append('x' * 10**6 + str(len(l)))", ScriptMemoryExceeded, "of memory (limit 128 MB)"),
    ("a = [0] * 1000\nb = []\nfor i in range(10**4):\n    b.append(a)", ScriptTooLarge, "nested ones included"),
    ("a = list(range(1000))\nb = []\nfor i in range(10**4):\n    b.append(a)\nb.sort()", ScriptTooLarge, "nested ones"),
    # hashable values whose nested size doubles at every step, then hashed in one C call
    ("t = (1,)\nfor i in range(60):\n    t = (t, t)\ns = {t}", (ScriptTimeout, ScriptTooLarge), "script stopped: it "),
    ("t = (1,)\nfor i in range(60):\n    t = t + (t,)\ns = {t}", (ScriptTimeout, ScriptTooLarge), "script stopped: it "),
    (
        "a = [1]\nfor i in range(60):\n    for p in zip(a, a):\n        a = [p]\ns = {a[0]}",
        (ScriptTimeout, ScriptTooLarge),
        "script stopped: it ",
    ),
    # methods the sandbox does not offer
    ("x = {}.fromkeys(range(10))", ScriptRefused, "dict.fromkeys() is not available in scripts"),
]


@pytest.mark.parametrize(("code", "error", "message"), HOSTILE, ids=[c for c, _, _ in HOSTILE])
def test_hostile_code_stops_quickly_with_a_plain_message(
    sandbox: SandboxEnvironment, code: str, error: type[Exception], message: str
) -> None:
    before = peak_mb()
    data = {"prima": 1}
    started = time.monotonic()
    with pytest.raises(error) as stopped:
        sandbox.execute(code, data)
    assert time.monotonic() - started < LIMIT + 2
    assert message in str(stopped.value)
    assert peak_mb() - before < 3 * MEMORY_MB  # nothing close to the gigabytes asked for
    assert data == {"prima": 1}


@pytest.mark.parametrize(
    ("expression", "error", "message"),
    [
        ("len('a' * 10**9) > 5", ScriptTooLarge, STRING_1G),
        ("sum(range(10**11)) > 0", ScriptTimeout, TIME),
        ("f'{esito:>1000000000}' == 'ok'", ScriptTooLarge, STRING_1G),
        ("[0] * 10**9", ScriptTooLarge, "a list of 1,000,000,000 items"),
    ],
)
def test_hostile_conditions_stop_too(sandbox: SandboxEnvironment, expression: str, error: type, message: str) -> None:
    started = time.monotonic()
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        sandbox.evaluate(expression, {"esito": "ok"})
    assert time.monotonic() - started < LIMIT + 2


def test_a_stopped_script_leaves_the_sandbox_ready_for_the_next(sandbox: SandboxEnvironment) -> None:
    with pytest.raises(ScriptTimeout):
        sandbox.execute("x = sum(range(10**11))", {})
    started = time.monotonic()
    data: dict = {"n": 2}
    sandbox.execute("m = n * 21", data)
    assert data["m"] == 42 and time.monotonic() - started < 0.5


def test_ordinary_scripts_run_as_before(sandbox: SandboxEnvironment) -> None:
    data = {
        "richiedente": {"nome": "Mario", "cognome": "Rossi", "nascita": "1990-05-17"},
        "esperienze": [
            {"azienda": "Alfa", "mesi": 14, "ruolo": "magazziniere"},
            {"azienda": "Beta", "mesi": 3, "ruolo": "cassiere"},
            {"azienda": "Gamma", "mesi": 27, "ruolo": "magazziniere"},
        ],
        "colloquio": "2026-03-02T09:30:00+01:00",
    }
    script = "\n".join(
        [
            "scheda = dict(richiedente)",
            "scheda['nominativo'] = f\"{richiedente['cognome'].upper()} {richiedente['nome']}\"",
            "lunghe = [e['azienda'] for e in esperienze if e['mesi'] >= 12]",
            "mesi_per_ruolo = {}",
            "for e in esperienze:",
            "    mesi_per_ruolo[e['ruolo']] = mesi_per_ruolo.get(e['ruolo'], 0) + e['mesi']",
            "totale = sum(e['mesi'] for e in esperienze)",
            "anni = round(totale / 12, 1)",
            "elenco = ', '.join(sorted(e['azienda'] for e in esperienze))",
            "nascita = date.fromisoformat(richiedente['nascita'])",
            "eta = (date(2026, 1, 5) - nascita).days // 365",
            "richiamo = (datetime.fromisoformat(colloquio) - timedelta(days=2)).strftime('%d/%m/%Y %H:%M')",
            "verifica = add_months(colloquio, 6)",
            "codice = 'P4-' + str(eta).zfill(3) + '-' + 'x' * 3",
            "riga = '%s: %d mesi' % (richiedente['nome'], totale)",
            "importo = f'{1234.5:>10.2f}'",
            "potenza = 2 ** 10 + (1 << 4)",
            "pari = list(range(0, 10, 2)) + [*range(3)]",
            "coppie = [(i, r) for i, r in enumerate(sorted(set(e['ruolo'] for e in esperienze)), 1)]",
            "massimo = max(esperienze, key=lambda e: e['mesi'])['azienda']",
        ]
    )
    sandbox.execute(script, data)
    assert data["scheda"]["nominativo"] == "ROSSI Mario"
    assert data["lunghe"] == ["Alfa", "Gamma"]
    assert data["mesi_per_ruolo"] == {"magazziniere": 41, "cassiere": 3}
    assert (data["totale"], data["anni"]) == (44, 3.7)
    assert data["elenco"] == "Alfa, Beta, Gamma"
    assert data["eta"] == 35
    assert data["richiamo"] == "28/02/2026 09:30"
    assert data["verifica"] == "2026-09-02T09:30:00+02:00"
    assert data["codice"] == "P4-035-xxx"
    assert data["riga"] == "Mario: 44 mesi"
    assert data["importo"] == "   1234.50"
    assert data["potenza"] == 1040
    assert data["pari"] == [0, 2, 4, 6, 8, 0, 1, 2]
    assert data["coppie"] == [(1, "cassiere"), (2, "magazziniere")]
    assert data["massimo"] == "Gamma"


def test_ordinary_conditions_evaluate_as_before(sandbox: SandboxEnvironment) -> None:
    data = {"percorso": 4, "esito": "positivo", "ore": [3, 4], "zone": ["pistoiese"], "nome": "Anna"}
    assert sandbox.evaluate("percorso == 4 and esito in ('positivo', 'parziale')", data) is True
    assert sandbox.evaluate("sum(ore) * 2 > 10 and 'pistoiese' in zone", data) is True
    assert sandbox.evaluate("f'{nome}-{percorso:02d}'", data) == "Anna-04"
    assert sandbox.evaluate("len([o for o in ore if o > 3]) == 1", data) is True


def test_task_data_cannot_replace_the_guards(sandbox: SandboxEnvironment) -> None:
    data = {"_binop_": "x", "_getattr_": None, "n": 10**6}
    with pytest.raises(ScriptTooLarge):
        sandbox.execute("s = 'a' * (n * 1000)", data)
    sandbox.execute("s = 'ab'.upper() * 2", data)
    assert data == {"_binop_": "x", "_getattr_": None, "n": 10**6, "s": "ABAB"}
