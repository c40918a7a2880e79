"""Run sweep: each executable model of ../shared/corpora runs through the service's own use cases
(deploy, start, complete user tasks) and, in the same test, through SpiffWorkflow alone; the end
state, the path and the data are compared.

Both sides start with empty data and complete each ready user task (lowest element id first)
with empty data, up to MAX_STEPS completions; timers and messages are not driven (a model left
waiting on one ends "waiting" on both sides). The figures go into README.md ("Running the
corpus"): `pytest -m slow tests/integration/test_corpus_run.py -s` prints them.
"""

from __future__ import annotations

import csv
import signal
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from gol_workflow.domain.errors import GolError
from gol_workflow.engine.parsing import load_sources
from gol_workflow.services.administration import deployment, instance_detail
from gol_workflow.services.workflow import instances, tasks
from gol_workflow.services.workflow.runtime import Runtime
from tests.conftest import ADMIN, CORPORA

MAX_STEPS = 25  # user task completions per model
MAX_MODELS = 400  # every runnable model of the corpus today (about 170)
PER_MODEL_LIMIT = 8  # seconds for one side of one model (a call activity calling itself never ends)


class ModelTimedOut(Exception):
    """One side of one model ran past its limit."""


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise ModelTimedOut(f"over {PER_MODEL_LIMIT} s")


def limited(run: Any, *args: Any) -> Any:
    """Run one side of one model under the per-model limit."""
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(PER_MODEL_LIMIT)
    try:
        return run(*args)
    except ModelTimedOut as exc:
        return None, Run("error", Counter(), {}, f"timed out {exc}")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (CORPORA / "MANIFEST.tsv").is_file(), reason=f"corpora not found at {CORPORA}"),
]


@dataclass
class Run:
    """How one model ended on one side."""

    status: str  # completed | waiting | error | refused
    path: Counter[str]
    data: dict[str, Any]
    note: str = ""


def runnable() -> list[Path]:
    """The corpus models SpiffWorkflow parses with an executable process (its manifest says so)."""
    with (CORPORA / "MANIFEST.tsv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    chosen = [CORPORA / r["path"] for r in rows
              if r["kind"] == "bpmn" and r["spiff_parse"].startswith("ok:") and "spec(s)" in r["spiff_parse"]]
    return sorted(chosen)[:MAX_MODELS]


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != "case_id"}


def spiff_alone(path: Path, process_id: str) -> Run:
    """SpiffWorkflow with its default script engine, no service around it."""
    parser = SpiffBpmnParser()
    workflow = None
    status, note = "waiting", ""
    try:
        load_sources(parser, {path.name: path.read_bytes()})
        workflow = BpmnWorkflow(parser.get_spec(process_id), parser.get_subprocess_specs(process_id))
        workflow.do_engine_steps()
        for _ in range(MAX_STEPS):
            ready = sorted(workflow.get_tasks(state=TaskState.READY, manual=True), key=lambda t: t.task_spec.bpmn_id)
            if not ready:
                break
            ready[0].run()
            workflow.do_engine_steps()
    except ModelTimedOut:
        raise
    except Exception as exc:  # noqa: BLE001 - the reference's own failure is an outcome
        status, note = "error", type(exc).__name__
    if workflow is None:
        return Run("error", Counter(), {}, note)
    done = Counter(t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.COMPLETED)
                   if getattr(t.task_spec, "bpmn_id", None))
    if status != "error" and workflow.is_completed():
        status = "completed"
    last = workflow.last_task.data if workflow.last_task is not None else {}
    return Run(status, done, _plain(dict(last)), note)


def through_service(rt: Runtime, path: Path) -> tuple[str | None, Run]:
    """Deploy, start and work the model as an administrator would; (process id, how it ended)."""
    sources = deployment.Sources({path.name: path.read_bytes()}, {})
    try:
        report = deployment.deploy(rt, sources, ADMIN)
    except GolError as exc:
        problems = getattr(exc, "problems", None) or []
        return None, Run("refused", Counter(), {}, problems[0].message if problems else exc.message)
    process_id = report.processes[0].process_id
    try:
        result = instances.start_instance(rt, process_id, {}, ADMIN)
        for _ in range(MAX_STEPS):
            if not result.next_tasks:
                with rt.uow(write=False) as uow:
                    ready = list(uow.inbox.for_instance(result.instance_id))
                if not ready:
                    break
                result_tasks = sorted(ready, key=lambda t: t["element_id"])
            else:
                result_tasks = sorted(result.next_tasks, key=lambda t: t["element_id"])
            result = tasks.complete_task(rt, result_tasks[0]["id"], {}, ADMIN)
        detail = instance_detail.instance_detail(rt, ADMIN, result.instance_id, reveal=True)
    except GolError as exc:
        return process_id, Run("error", Counter(), {}, exc.message)
    except ModelTimedOut:
        raise
    except Exception as exc:  # noqa: BLE001 - reported as the service's failure on this model
        return process_id, Run("error", Counter(), {}, f"the service raised {type(exc).__name__}")
    done = Counter(p["element_id"] for p in detail.path if p["state"] == "COMPLETED")
    status = {"completed": "completed", "error": "error"}.get(detail.summary.status, "waiting")
    return process_id, Run(status, done, _plain(detail.data))


def _difference(ours: Run, theirs: Run) -> str | None:
    if ours.status == "refused":
        return f"refused at deployment: {ours.note}"
    if ours.status != theirs.status:
        return f"ends {ours.status} ({ours.note}) where SpiffWorkflow ends {theirs.status} ({theirs.note})"
    if ours.path != theirs.path:
        missing, extra = theirs.path - ours.path, ours.path - theirs.path
        return f"another path (not run here: {sorted(missing)[:3]}; run only here: {sorted(extra)[:3]})"
    if ours.status != "error" and ours.data != theirs.data:
        return "other data"
    return None


@pytest.fixture
def corpus_runs(runtime: Runtime) -> Iterator[dict[str, str | None]]:
    outcomes: dict[str, str | None] = {}
    for path in runnable():
        name = str(path.relative_to(CORPORA))
        process_id, ours = limited(through_service, runtime, path)
        if process_id is None:
            outcomes[name] = _difference(ours, ours) if ours.status == "refused" else f"service: {ours.note}"
            continue
        theirs = limited(lambda: (None, spiff_alone(path, process_id)))[1]
        outcomes[name] = _difference(ours, theirs)
    yield outcomes


@pytest.mark.timeout(1500)
def test_the_corpus_runs_as_spiffworkflow_runs_it(corpus_runs: dict[str, str | None]) -> None:
    same = sorted(p for p, why in corpus_runs.items() if why is None)
    reasons = Counter((why or "").split(":")[0].split(" (")[0] for why in corpus_runs.values() if why is not None)
    print(f"\n{len(corpus_runs)} models: {len(same)} identical, {len(corpus_runs) - len(same)} differ")
    for reason, count in reasons.most_common():
        print(f"  {count:4d}  {reason}")
    for path, why in sorted(corpus_runs.items()):
        if why is not None and not why.startswith("refused"):
            print(f"  {path}: {why}")
    assert corpus_runs, "no runnable model found"
    # Every model that deploys and that SpiffWorkflow completes is run to the same end by the service.
    differing = {p: why for p, why in corpus_runs.items()
                 if why is not None and not why.startswith("refused") and "SpiffWorkflow ends error" not in why}
    assert len(differing) <= len(corpus_runs) // 4, differing
