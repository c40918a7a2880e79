"""Moving a running workflow to a newer version of its process with SpiffWorkflow's diff and migrate helpers.

A migration is refused, with the reasons, when an element that already ran (or where the
instance stands now) was removed or changed in what it does, when a running subprocess has
no counterpart, or when the migrated state would not load again. Waiting timers keep their
due dates: only READY tasks are reset (see SPIFFWORKFLOW-PATTERNS §6), and the predicted
future of every open task is rebuilt from the new diagram.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.util.diff import SpecDiff, diff_workflow, migrate_workflow
from SpiffWorkflow.util.task import TaskState

from .parsing import CompiledProcess
from .runner import ProcessEngine, WorkflowHandle

# Attributes that only say where a task sits or what it is called: changing them on a task
# that already ran does not change what it did.
HARMLESS = frozenset({"inputs", "outputs", "bpmn_name", "description", "documentation", "lane", "name"})
OPEN = TaskState.WAITING | TaskState.STARTED | TaskState.ERROR


@dataclass(frozen=True)
class MigrationIssue:
    """Why an instance cannot move to the new version."""

    kind: str  # removed_ran | removed_current | changed_ran | subprocess_missing | would_not_load
    element_id: str | None = None
    element_name: str | None = None
    state: str | None = None
    attributes: tuple[str, ...] = ()
    detail: str = ""

    def __str__(self) -> str:
        where = f"{self.element_name or self.element_id}" if (self.element_name or self.element_id) else "process"
        texts = {
            "removed_ran": f"{where} already ran and does not exist in the new version",
            "removed_current": f"the instance stands at {where} ({self.state}), which does not exist in the new version",
            "changed_ran": f"{where} already ran and was changed ({', '.join(self.attributes)})",
            "subprocess_missing": f"the running subprocess {where} does not exist in the new version",
            "would_not_load": f"the migrated instance would not load again: {self.detail}",
        }
        return texts.get(self.kind, f"{where}: {self.detail}")


@dataclass(frozen=True)
class MigrationNote:
    """Something the administrator should know about a migration that can go ahead."""

    kind: str  # timer_kept | task_reset | changed_open
    element_id: str
    element_name: str | None
    attributes: tuple[str, ...] = ()


@dataclass
class MigrationOutcome:
    """The verdict and, when there is no issue, the migrated workflow."""

    issues: list[MigrationIssue] = field(default_factory=list)
    notes: list[MigrationNote] = field(default_factory=list)
    handle: WorkflowHandle | None = None

    @property
    def ok(self) -> bool:
        """True when the instance can move."""
        return not self.issues


def _label(spec: Any) -> tuple[str | None, str | None]:
    return getattr(spec, "bpmn_id", None), getattr(spec, "bpmn_name", None)


def _visible(spec: Any) -> bool:
    """Only elements an analyst drew (Spiff adds internal start/end/join specs)."""
    return getattr(spec, "bpmn_id", None) is not None


def _issues_of(diff: Any, spec_diff_changed: Mapping[Any, list[str]]) -> list[MigrationIssue]:
    issues: list[MigrationIssue] = []
    for task in diff.removed:
        if not _visible(task.task_spec) or task.has_state(TaskState.PREDICTED_MASK | TaskState.FUTURE):
            continue
        element_id, name = _label(task.task_spec)
        state = TaskState.get_name(task.state)
        kind = "removed_ran" if task.has_state(TaskState.COMPLETED) else "removed_current"
        issues.append(MigrationIssue(kind, element_id, name, state))
    for task in diff.changed:
        if not task.has_state(TaskState.COMPLETED) or not _visible(task.task_spec):
            continue
        attributes = tuple(sorted(set(spec_diff_changed.get(task.task_spec, [])) - HARMLESS))
        if attributes:
            element_id, name = _label(task.task_spec)
            issues.append(MigrationIssue("changed_ran", element_id, name, "COMPLETED", attributes))
    return issues


def _notes_of(diff: Any, changed: Mapping[Any, list[str]]) -> list[MigrationNote]:
    notes: list[MigrationNote] = []
    for task in diff.alignment:
        if not _visible(task.task_spec):
            continue
        element_id, name = _label(task.task_spec)
        attributes = tuple(sorted(set(changed.get(task.task_spec, [])) - {"inputs", "outputs"}))
        if task.has_state(TaskState.WAITING):
            notes.append(MigrationNote("timer_kept", element_id or "", name, attributes))
        elif task.has_state(TaskState.READY) and task.task_spec.manual:
            notes.append(MigrationNote("task_reset", element_id or "", name, attributes))
        elif attributes and task.has_state(TaskState.STARTED | TaskState.ERROR):
            notes.append(MigrationNote("changed_open", element_id or "", name, attributes))
    return notes


def _unique(items: Iterable[Any]) -> list[Any]:
    seen: list[Any] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


def _repredict(workflow: Any) -> None:
    """Rebuild the predicted future of open tasks from the new specs, keeping their state and due dates."""
    for task in list(workflow.get_tasks(state=OPEN, skip_subprocesses=True)):
        if task.id not in workflow.tasks:
            continue
        if any(d.has_state(TaskState.FINISHED_MASK) for d in list(task)[1:]):
            continue  # something after it already ran: leave that branch as it is
        # Predict as Spiff's own branch reset does, but without resetting the task: a waiting
        # timer keeps its state and internal data (its due date).
        state = task._state
        task._drop_children(force=True)
        task._state = TaskState.FUTURE
        try:
            task.task_spec._predict(task, mask=TaskState.PREDICTED_MASK | TaskState.FUTURE)
        finally:
            task._state = state


def plan_and_migrate(engine: ProcessEngine, old: CompiledProcess, state: str, new: CompiledProcess) -> MigrationOutcome:
    """Check a stored workflow against a new version and, when nothing forbids it, migrate a copy of it."""
    registry = engine.serializer.registry
    workflow: BpmnWorkflow = engine.serializer.loads(state, old.spec, old.subprocess_specs)
    workflow.script_engine = engine.script_engine
    top, subs = diff_workflow(registry, workflow, new.spec, new.subprocess_specs)
    top_changes = SpecDiff(registry, workflow.spec, new.spec).changed
    outcome = MigrationOutcome()
    outcome.issues += _issues_of(top, top_changes)
    outcome.notes += _notes_of(top, top_changes)
    targets: dict[Any, tuple[Any, Any]] = {}
    for sp_id, sp_diff in subs.items():
        sub = workflow.subprocesses[sp_id]
        if sp_diff is None:
            task = workflow.get_task_from_id(sp_id)
            element_id, name = _label(task.task_spec)
            outcome.issues.append(MigrationIssue("subprocess_missing", element_id or sub.spec.name, name))
            continue
        changes = SpecDiff(registry, sub.spec, new.subprocess_specs[sub.spec.name]).changed
        outcome.issues += _issues_of(sp_diff, changes)
        outcome.notes += _notes_of(sp_diff, changes)
        targets[sp_id] = (sp_diff, new.subprocess_specs[sub.spec.name])
    outcome.issues = _unique(outcome.issues)
    outcome.notes = _unique(outcome.notes)
    if outcome.issues:
        return outcome
    migrate_workflow(top, workflow, new.spec, reset_mask=TaskState.READY)
    _repredict(workflow)
    for sp_id, (sp_diff, spec) in targets.items():
        sub = workflow.subprocesses[sp_id]
        migrate_workflow(sp_diff, sub, spec, reset_mask=TaskState.READY)
        _repredict(sub)
    workflow.subprocess_specs = dict(new.subprocess_specs)
    return _reloaded(engine, workflow, new, outcome)


def _reloaded(engine: ProcessEngine, workflow: BpmnWorkflow, new: CompiledProcess,
              outcome: MigrationOutcome) -> MigrationOutcome:
    """The migrated workflow as it will be stored and loaded: proves that it loads on the new version."""
    try:
        text = engine.serializer.dumps(workflow)
        outcome.handle = engine.load(new, text)
    except Exception as exc:  # noqa: BLE001 - any failure here means the instance must not move
        outcome.issues.append(MigrationIssue("would_not_load", detail=f"{exc.__class__.__name__}: {exc}"))
        outcome.handle = None
    return outcome


@dataclass(frozen=True)
class ElementChange:
    """An element added, removed or changed between two versions of a process."""

    change: str  # added | removed | changed
    element_id: str
    name: str | None
    kind: str  # the BPMN element type as Spiff names it
    process: str  # the (sub)process it belongs to
    attributes: tuple[str, ...] = ()


def compare_versions(engine: ProcessEngine, old: CompiledProcess, new: CompiledProcess) -> list[ElementChange]:
    """Elements added, removed and changed between two compiled versions (top process and subprocesses)."""
    registry = engine.serializer.registry
    pairs = [(old.process_id, old.spec, new.spec)]
    pairs += [(name, spec, new.subprocess_specs.get(name)) for name, spec in old.subprocess_specs.items()]
    changes: list[ElementChange] = []
    for process, before, after in pairs:
        if after is None:
            changes += [_element("removed", s, process) for s in before.task_specs.values() if _visible(s)]
            continue
        diff = SpecDiff(registry, before, after)
        changes += [_element("added", s, process) for s in diff.added if _visible(s)]
        changes += [_element("removed", s, process) for s in diff.removed if _visible(s)]
        for spec, attributes in diff.changed.items():
            meaningful = tuple(sorted(set(attributes) - {"inputs", "outputs"}))
            if _visible(spec) and meaningful:
                changes.append(_element("changed", spec, process, meaningful))
    for name, spec in new.subprocess_specs.items():
        if name not in old.subprocess_specs:
            changes += [_element("added", s, name) for s in spec.task_specs.values() if _visible(s)]
    return sorted(_unique(changes), key=lambda c: (c.change, c.process, c.element_id))


def _element(change: str, spec: Any, process: str, attributes: tuple[str, ...] = ()) -> ElementChange:
    element_id, name = _label(spec)
    return ElementChange(change, element_id or spec.name, name, spec.__class__.__name__, process, attributes)
