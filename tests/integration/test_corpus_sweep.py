"""Acceptance sweep: every BPMN/DMN file of ../shared/corpora, validated alone as `gol-workflow validate` does.

1,045 files exported by 35 modelling tools. Each must be accepted, or rejected with
`file:line: element: message` lines; no traceback, no hang, the whole sweep well under a minute.
"""

from __future__ import annotations

import csv
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import pytest

from gol_workflow.bootstrap import bootstrap
from gol_workflow.config import load_settings
from gol_workflow.services.administration import deployment
from tests.conftest import CORPORA, ROOT

PER_FILE_LIMIT = 10.0  # seconds; the slowest file takes well under a second
SWEEP_BOUND = 60.0
WORKERS = 2
SHAPE = re.compile(r"^(?P<line>\d+): (?P<element>\S(?:.*?\S)?): (?P<message>\S.*)$")  # after "file:"

pytestmark = pytest.mark.skipif(
    not (CORPORA / "MANIFEST.tsv").is_file(),
    reason=f"corpora not found at {CORPORA} (the shared folder sits beside the repository)",
)


class FileTimedOut(Exception):
    """One file took longer than the per-file limit."""


@dataclass(frozen=True)
class Outcome:
    """What validating one corpus file gave."""

    path: str
    status: str  # accepted | rejected | traceback | hung
    lines: tuple[str, ...]
    seconds: float


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise FileTimedOut(f"over {PER_FILE_LIMIT:g} s")


def validate_one(path: str, operators: frozenset[str], lanes: frozenset[str]) -> Outcome:
    """Validate one file alone through the function `gol-workflow validate` calls, under a time limit."""
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, PER_FILE_LIMIT)
    started = time.perf_counter()
    try:
        sources, result = deployment.validate_path(Path(path), None, operators, lanes)
        status = "accepted" if result.ok else "rejected"
        lines = tuple(str(p) for p in result.shown(sources))
    except FileTimedOut as exc:
        status, lines = "hung", (str(exc),)
    except BaseException:  # noqa: BLE001 - this is what the sweep looks for
        status, lines = "traceback", (traceback.format_exc(),)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    return Outcome(path, status, lines, time.perf_counter() - started)


def corpus_files() -> list[Path]:
    return sorted(p for p in CORPORA.rglob("*") if p.suffix in (".bpmn", ".dmn") and p.is_file())


def manifest() -> dict[str, dict[str, str]]:
    with (CORPORA / "MANIFEST.tsv").open(encoding="utf-8", newline="") as handle:
        return {row["path"]: row for row in csv.DictReader(handle, delimiter="\t")}


def service_vocabulary(home: Path) -> tuple[frozenset[str], frozenset[str]]:
    """The operators and lanes the CLI validates against, from a runtime wired as the CLI wires it."""
    settings = load_settings({"GOL_VAR_DIR": str(home / "var"), "GOL_ZONES_DIR": str(ROOT / "zones"),
                              "GOL_PROCESSES_DIR": str(ROOT / "processes"),
                              "GOL_ROLES_FILE": str(ROOT / "processes" / "roles.toml")})
    rt = bootstrap(settings)
    try:
        return deployment.service_vocabulary(rt)
    finally:
        rt.db.dispose()


def _sweep(files: list[Path], vocabulary: tuple[frozenset[str], frozenset[str]]) -> Iterator[Outcome]:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["gol_workflow.services.administration.deployment", __name__])
    deadline = time.monotonic() + SWEEP_BOUND * 2
    with context.Pool(WORKERS) as pool:
        pending = {str(p): pool.apply_async(validate_one, (str(p), *vocabulary)) for p in files}
        for path, result in pending.items():
            try:
                yield result.get(timeout=max(0.1, deadline - time.monotonic()))
            except multiprocessing.TimeoutError:
                yield Outcome(path, "hung", ("no answer before the sweep's deadline",), SWEEP_BOUND)
        pool.terminate()


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    files = corpus_files()
    vocabulary = service_vocabulary(tmp_path_factory.mktemp("sweep"))
    started = time.perf_counter()
    outcomes = {o.path: o for o in _sweep(files, vocabulary)}
    elapsed = time.perf_counter() - started
    accepted = sum(o.status == "accepted" for o in outcomes.values())
    slowest = max(outcomes.values(), key=lambda o: o.seconds)
    print(
        f"\ncorpus sweep: {len(files)} files in {elapsed:.1f} s with {WORKERS} workers "
        f"({accepted} accepted, {len(files) - accepted} rejected); "
        f"slowest {slowest.seconds:.2f} s: {Path(slowest.path).relative_to(CORPORA)}"
    )
    outcomes["__elapsed__"] = Outcome("", "", (), elapsed)
    return outcomes


def results(sweep: dict[str, Outcome]) -> list[Outcome]:
    return [o for key, o in sweep.items() if key != "__elapsed__"]


def test_the_corpus_is_all_there(sweep: dict[str, Outcome]) -> None:
    assert len(results(sweep)) == 1045
    listed = {p for p, row in manifest().items() if row["kind"] in ("bpmn", "dmn") and p.endswith((".bpmn", ".dmn"))}
    assert {str(Path(o.path).relative_to(CORPORA)) for o in results(sweep)} == listed


def test_no_file_hangs_or_raises(sweep: dict[str, Outcome]) -> None:
    hung = [f"{o.path}: {o.lines[0]}" for o in results(sweep) if o.status == "hung"]
    crashed = [f"{o.path}:\n{o.lines[0]}" for o in results(sweep) if o.status == "traceback"]
    assert hung == [], "files that hung:\n" + "\n".join(hung)
    assert crashed == [], "tracebacks:\n" + "\n".join(crashed)


def test_the_whole_sweep_is_fast(sweep: dict[str, Outcome]) -> None:
    assert sweep["__elapsed__"].seconds < SWEEP_BOUND


def test_every_rejection_is_file_line_element_message(sweep: dict[str, Outcome]) -> None:
    for outcome in results(sweep):
        if outcome.status != "rejected":
            continue
        assert outcome.lines, outcome.path
        for line in outcome.lines:
            assert line.startswith(f"{outcome.path}:"), line
            match = SHAPE.match(line[len(outcome.path) + 1 :])
            assert match, f"not file:line: element: message: {line!r}"
            assert int(match["line"]) >= 1, line


def test_files_that_are_not_well_formed_are_rejected_as_xml(sweep: dict[str, Outcome]) -> None:
    broken = [p for p, row in manifest().items() if row["xml_wellformed"] == "no"]
    assert len(broken) == 7
    for path in broken:
        outcome = sweep[str(CORPORA / path)]
        assert outcome.status == "rejected" and "malformed XML" in outcome.lines[0], outcome


def test_what_spiffworkflow_or_the_schema_refuses_is_refused(sweep: dict[str, Outcome]) -> None:
    for path, row in manifest().items():
        if row["kind"] not in ("bpmn", "dmn") or row["xml_wellformed"] != "yes" or not path.endswith((".bpmn", ".dmn")):
            continue
        outcome = sweep[str(CORPORA / path)]
        if row["spiff_parse"].startswith("error") or row["xsd_valid"].startswith("error"):
            assert outcome.status == "rejected", f"{path}: SpiffWorkflow or the XSD refuses it, we accepted it"
        if row["kind"] == "bpmn" and row["xsd_valid"].startswith("error"):
            schema_said = (": schema: ", ": not a BPMN 2.0 or DMN model")
            assert any(s in line for line in outcome.lines for s in schema_said), f"{path}: no schema error reported"


def cli_sample(sweep: dict[str, Outcome]) -> list[Outcome]:
    """One file per tool (folder), both accepted and rejected ones, about twenty in all."""
    by_tool: dict[str, list[Outcome]] = {}
    for outcome in results(sweep):
        tool = str(Path(outcome.path).relative_to(CORPORA).parent)
        by_tool.setdefault(tool, []).append(outcome)
    sample = [outcomes[len(outcomes) // 2] for _, outcomes in sorted(by_tool.items())][::2][:17]
    accepted = [o for o in results(sweep) if o.status == "accepted"]
    malformed = [o for o in results(sweep) if any("malformed XML" in line for line in o.lines)]
    return sample + accepted[:2] + malformed[:1]


def run_cli(path: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "GOL_VAR_DIR": str(home / "var"),
        "GOL_FORMS_DIR": str(home / "forms"),
        "GOL_ZONES_DIR": str(ROOT / "zones"),
        "GOL_PROCESSES_DIR": str(ROOT / "processes"),
        "GOL_ROLES_FILE": str(ROOT / "processes" / "roles.toml"),
    }
    env.pop("GOL_DATABASE_URL", None)
    command = [str(Path(sys.executable).parent / "gol-workflow"), "validate", path]
    return subprocess.run(command, cwd=home, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_the_real_cli_agrees_on_a_sample_of_tools(sweep: dict[str, Outcome], tmp_path: Path) -> None:
    sample = cli_sample(sweep)
    assert len(sample) >= 18 and {o.status for o in sample} == {"accepted", "rejected"}
    with ThreadPoolExecutor(WORKERS) as pool:
        runs = list(pool.map(lambda o: run_cli(o.path, tmp_path), sample))
    for outcome, run in zip(sample, runs, strict=True):
        assert "Traceback" not in run.stderr, f"{outcome.path}:\n{run.stderr}"
        printed = tuple(run.stdout.splitlines())
        if outcome.status == "accepted":
            assert run.returncode == 0 and printed[-1].startswith("ok: 1 file(s)"), (outcome.path, run)
            assert printed[:-1] == outcome.lines  # the warnings, each marked as one
            assert all(": warning: " in line for line in printed[:-1]), printed
        else:
            assert run.returncode == 1, (outcome.path, run.returncode, run.stderr)
            assert printed == outcome.lines
            problems = [line for line in outcome.lines if ": warning: " not in line]
            assert run.stderr.splitlines()[-1] == f"{len(problems)} problem(s) in 1 file(s)"
