"""Run sweep: each executable model of ../shared/corpora runs through the service's own use cases
(deploy, start, complete user tasks, move the simulated clock, send messages) and, in the same
test, through SpiffWorkflow alone; the end state, the path and the data are compared.

A model is deployed with the files of its folder that define the processes it calls and the
decisions it takes (as SpiffWorkflow's own tests load them). Both sides follow one scenario,
each deciding from its own state: while events are waited for (at most MAX_EVENTS), a message
is sent (the lowest name first; through the messages use case, empty payload) or else the clock
is moved to the earliest timer; then each ready user task is completed (lowest element id first,
empty data), up to MAX_STEPS completions. SpiffWorkflow alone runs on the same simulated clock.
Every model that does not run identically gets a reason category. The figures go into README.md
("Running the corpus"): `pytest -m slow tests/integration/test_corpus_run.py -s` prints them.
"""

from __future__ import annotations

import csv
import re
import signal
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from lxml import etree
from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition as SpiffMessage
from SpiffWorkflow.util.task import TaskState

from gol_workflow.domain.errors import GolError
from gol_workflow.engine.parsing import load_sources
from gol_workflow.engine.runner import next_due
from gol_workflow.engine.scripting import engine_context, install_clock_hook
from gol_workflow.services.administration import deployment, instance_detail
from gol_workflow.services.integrations import messages
from gol_workflow.services.workflow import clock, instances, tasks
from gol_workflow.services.workflow.runtime import Runtime
from tests.conftest import ADMIN, CORPORA

MAX_STEPS = 25  # user task completions per model
MAX_EVENTS = 6  # messages sent and clock moves per model (a timer cycle would go on for ever)
MAX_MODELS = 400  # every runnable model of the corpus today (about 180)
PER_MODEL_LIMIT = 8  # seconds for one side of one model
STEP = timedelta(microseconds=1)  # the simulated clock stops just after a due instant, as the service's does
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"


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


@dataclass(frozen=True)
class Defines:
    """What one file of the corpus defines and needs."""

    processes: tuple[str, ...]  # executable first, in document order
    executable: tuple[str, ...]
    decisions: tuple[str, ...]
    calls: tuple[str, ...]
    decision_refs: tuple[str, ...]


@cache
def defines(path: Path) -> Defines:
    """Processes, decisions, call activities and decision references of one file (empty if unreadable)."""
    try:
        root = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
    except (etree.XMLSyntaxError, OSError):
        return Defines((), (), (), (), ())
    processes = [p for p in root.iter(f"{BPMN}process") if p.get("id")]
    executable = tuple(p.get("id") for p in processes if p.get("isExecutable", "true") == "true")
    decisions = tuple(d.get("id") for d in root if isinstance(d.tag, str) and d.tag.endswith("}decision"))
    calls = tuple(c.get("calledElement") for c in root.iter(f"{BPMN}callActivity") if c.get("calledElement"))
    refs = tuple(ref for node in root.iter(f"{BPMN}businessRuleTask") for key, ref in node.attrib.items()
                 if key.endswith("decisionRef"))
    return Defines(tuple(p.get("id") for p in processes), executable, decisions, calls, refs)


def bundle(path: Path) -> dict[str, bytes]:
    """The model with the files of its folder that define what it calls and decides (transitively)."""
    folder = sorted(p for p in path.parent.iterdir() if p.suffix in (".bpmn", ".dmn", ".xml") and p != path)
    chosen = [path]
    wanted_processes, wanted_decisions = set(defines(path).calls), set(defines(path).decision_refs)
    found = set(defines(path).processes) | set(defines(path).decisions)
    changed = True
    while changed:
        changed = False
        for other in folder:
            if other in chosen:
                continue
            theirs = defines(other)
            if (set(theirs.processes) & (wanted_processes - found)) or (set(theirs.decisions) & (wanted_decisions - found)):
                chosen.append(other)
                found |= set(theirs.processes) | set(theirs.decisions)
                wanted_processes |= set(theirs.calls)
                wanted_decisions |= set(theirs.decision_refs)
                changed = True
    return {p.name: p.read_bytes() for p in chosen}


def main_process(path: Path) -> str | None:
    """The process a test of this file starts: its first executable process no other process calls."""
    mine = defines(path)
    called = set(mine.calls)
    return next((p for p in mine.executable if p not in called), mine.executable[0] if mine.executable else None)


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != "case_id"}


def _definitions(definition: Any) -> list[Any]:
    return list(definition.event_definitions) if isinstance(definition, MultipleEventDefinition) else [definition]


def _awaited_messages(workflow: BpmnWorkflow) -> list[tuple[str, dict[str, Any]]]:
    """(name, correlations the waiting event expects) of the messages a workflow waits for, by name."""
    found: dict[str, dict[str, Any]] = {}
    for task in workflow.event_manager.tasks.values():
        if not task.has_state(TaskState.WAITING):
            continue
        for definition in _definitions(task.task_spec.event_definition):
            if isinstance(definition, MessageEventDefinition) and definition.name and definition.name not in found:
                expected: dict[str, Any] = {}
                for prop in definition.correlation_properties:
                    for key in prop.correlation_keys:
                        value = (task.workflow.correlations.get(key) or {}).get(prop.name)
                        if value is not None:
                            expected.setdefault(key, {})[prop.name] = value
                found[definition.name] = expected
    return sorted(found.items())


def spiff_alone(files: dict[str, bytes], process_id: str, start: datetime) -> Run:
    """SpiffWorkflow with its default script engine and no service around it, on the simulated clock."""
    install_clock_hook()  # SpiffWorkflow's timers read the time through the hook: `now` below is the time
    parser = SpiffBpmnParser()
    workflow = None
    status, note = "waiting", ""
    now, events, steps = start, 0, 0
    try:
        load_sources(parser, files)
        workflow = BpmnWorkflow(parser.get_spec(process_id), parser.get_subprocess_specs(process_id))
        with engine_context(now):
            workflow.do_engine_steps()
        while steps < MAX_STEPS and not workflow.is_completed():
            awaited = _awaited_messages(workflow) if events < MAX_EVENTS else []
            due = next_due(workflow) if events < MAX_EVENTS else None
            ready = sorted(workflow.get_tasks(state=TaskState.READY, manual=True), key=lambda t: t.task_spec.bpmn_id)
            with engine_context(now):
                if awaited:
                    name, correlations = awaited[0]
                    workflow.send_event(BpmnEvent(SpiffMessage(name), payload={}, correlations=correlations))
                    events += 1
                elif due is not None:
                    now = max(now, due + STEP)
                    events += 1
                elif ready:
                    ready[0].run()
                    steps += 1
                else:
                    break
            with engine_context(now):
                workflow.refresh_timers()
                workflow.do_engine_steps()
    except ModelTimedOut:
        raise
    except Exception as exc:  # noqa: BLE001 - the reference's own failure is an outcome
        status, note = "error", f"{type(exc).__name__}: {str(exc)[:120]}"
    if workflow is None:
        return Run("error", Counter(), {}, note)
    done = Counter(t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.COMPLETED)
                   if getattr(t.task_spec, "bpmn_id", None))
    if status != "error" and workflow.is_completed():
        status = "completed"
    last = workflow.last_task.data if workflow.last_task is not None else {}
    return Run(status, done, _plain(dict(last)), note)


def _correlation(text: str) -> dict[str, str]:
    return dict(pair.split("=", 1) for pair in text.split(";") if "=" in pair)


def through_service(rt: Runtime, files: dict[str, bytes], process_id: str) -> tuple[str | None, Run]:
    """Deploy, start and work the model as an administrator would; (instance id, how it ended)."""
    try:
        deployment.deploy(rt, deployment.Sources(files, {}), ADMIN)
    except GolError as exc:
        problems = getattr(exc, "problems", None) or []
        return None, Run("refused", Counter(), {}, problems[0].message if problems else exc.message)
    instance_id = None
    try:
        instance_id = instances.start_instance(rt, process_id, {}, ADMIN).instance_id
        events, steps = 0, 0
        while steps < MAX_STEPS:
            with rt.uow(write=False) as uow:
                header = uow.instances.header(instance_id)
                if header is None or header["status"] in ("completed", "error", "terminated"):
                    break
                awaited = sorted(uow.instances.subscriptions_of(instance_id)) if events < MAX_EVENTS else []
                ready = sorted(uow.inbox.for_instance(instance_id), key=lambda t: t["element_id"])
            due = header["next_due_at"] if events < MAX_EVENTS else None
            if awaited:
                name, correlation = awaited[0]
                messages.send_message(rt, name, _correlation(correlation), {}, ADMIN)
                events += 1
            elif due is not None:
                clock.set_clock(rt, max(rt.now(), due), ADMIN)
                events += 1
            elif ready:
                tasks.complete_task(rt, ready[0]["id"], {}, ADMIN)
                steps += 1
            else:
                break
        detail = instance_detail.instance_detail(rt, ADMIN, instance_id, reveal=True)
    except GolError as exc:
        return instance_id, Run("error", Counter(), {}, exc.message)
    except ModelTimedOut:
        raise
    except Exception as exc:  # noqa: BLE001 - reported as the service's failure on this model
        return instance_id, Run("error", Counter(), {}, f"the service raised {type(exc).__name__}")
    done = Counter(p["element_id"] for p in detail.path if p["state"] == "COMPLETED")
    status = {"completed": "completed", "error": "error"}.get(detail.summary.status, "waiting")
    return instance_id, Run(status, done, _plain(detail.data), detail.error["message"] if detail.error else "")


def _end(rt: Runtime, instance_id: str | None) -> None:
    """Terminate what is left open, so its timers do not fire while the next models move the clock."""
    if instance_id is None:
        return
    try:
        instances.terminate(rt, instance_id, ADMIN, "corpus sweep")
    except GolError:
        pass  # completed, or in error: nothing left to fire


# Why a model does not run identically: the first pattern its difference matches names the category.
CATEGORIES: list[tuple[str, str]] = [
    (r"camunda:formData|camunda:formKey", "refused: Camunda embedded form (HTML or .form)"),
    (r"form .* does not exist", "refused: a form file the model names is not in the corpus"),
    (r"external task|unknown service operator", "refused: service task with no connector here"),
    (r"camunda:inputOutput|camunda:executionListener", "refused: Camunda input/output or listener"),
    (r"called process .* is not defined", "refused: called process in no file of the folder"),
    (r"recursive call", "refused: recursive call activity"),
    (r"^refused at deployment: schema", "refused: not valid against the BPMN XSD"),
    (r"script format", "refused: script not in Python"),
    (r"is not available in scripts|invalid variable name|does not compile", "refused: code outside the sandbox"),
    (r"^refused", "refused: other"),
    (r"SpiffWorkflow ends error", "SpiffWorkflow alone fails on it"),
    (r"^both end in error", "both end in error, at different elements"),
    (r"^ends error", "the service ends in error"),
    (r"^ends ", "another end state"),
    (r"another path", "another path"),
    (r"other data", "other data"),
]


def category(why: str) -> str:
    """The reason category of a difference."""
    return next((name for pattern, name in CATEGORIES if re.search(pattern, why)), "unexplained")


def _difference(ours: Run, theirs: Run) -> str | None:
    if ours.status == "refused":
        return f"refused at deployment: {ours.note}"
    if ours.status == theirs.status == "error" and ours.path != theirs.path:
        return f"both end in error (here: {ours.note[:80]}; SpiffWorkflow: {theirs.note[:80]})"
    if ours.status != theirs.status:
        return f"ends {ours.status} ({ours.note}) where SpiffWorkflow ends {theirs.status} ({theirs.note})"
    if ours.path != theirs.path:
        missing, extra = theirs.path - ours.path, ours.path - theirs.path
        return f"another path (not run here: {sorted(missing)[:3]}; run only here: {sorted(extra)[:3]})"
    if ours.status != "error" and ours.data != theirs.data:
        return f"other data (here {sorted(ours.data)[:5]}, SpiffWorkflow {sorted(theirs.data)[:5]})"
    return None


@pytest.fixture
def corpus_runs(runtime: Runtime) -> Iterator[dict[str, str | None]]:
    outcomes: dict[str, str | None] = {}
    for path in runnable():
        name = str(path.relative_to(CORPORA))
        process_id = main_process(path)
        if process_id is None:
            outcomes[name] = "refused at deployment: no executable process"
            continue
        files, start = bundle(path), runtime.now()
        instance_id, ours = limited(through_service, runtime, files, process_id)
        _end(runtime, instance_id)
        if ours.status == "refused":
            outcomes[name] = _difference(ours, ours)
            continue
        theirs = limited(lambda: (None, spiff_alone(files, process_id, start)))[1]
        outcomes[name] = _difference(ours, theirs)
    yield outcomes


@pytest.mark.timeout(600)
def test_the_corpus_runs_as_spiffworkflow_runs_it(corpus_runs: dict[str, str | None]) -> None:
    same = sorted(p for p, why in corpus_runs.items() if why is None)
    reasons = {p: category(why) for p, why in corpus_runs.items() if why is not None}
    print(f"\n{len(corpus_runs)} models: {len(same)} identical, {len(reasons)} differ")
    for reason, count in Counter(reasons.values()).most_common():
        print(f"  {count:4d}  {reason}")
    for path, why in sorted(corpus_runs.items()):
        if why is not None:
            print(f"  {path}: [{reasons[path]}] {why}")
    assert corpus_runs, "no runnable model found"
    assert "unexplained" not in reasons.values(), {p: r for p, r in reasons.items() if r == "unexplained"}
    # Every model that deploys and that SpiffWorkflow runs is run to the same end by the service.
    differing = {p: why for p, why in corpus_runs.items()
                 if why is not None and not why.startswith(("refused", "both end in error"))
                 and "SpiffWorkflow ends error" not in why}
    assert len(differing) <= len(corpus_runs) // 10, differing
