"""Moving a case by hand (process instance modification): back to a completed task, skip the open
one, cancel one open branch; each previewed first, with a reason, audited, refused where unsafe."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from ...domain.errors import InputRefused, MoveRefused
from ...domain.model import ENDED_STATUSES, Actor, InstanceStatus
from ...engine import inspection, moves
from ...engine.moves import MoveKind, MoveNotPossible, MoveProblem, OpenItem
from ...forms import initial_values
from ...persistence.completions import last_completion
from ...persistence.meetings import PLANNED
from ...persistence.uow import UnitOfWork
from ..access import authorization
from ..cases import case_records
from ..workflow.runtime import Runtime
from ..workflow.stepping import Loaded, load, save, service_handler

MAX_REASON = 500
MOVED = "instance.moved"


class _PreviewStop(Exception):
    """Raised by the preview's stand-in for the connectors: nothing outside the workflow runs in a preview."""


@dataclass
class MovePlan:
    """What a move does (dry run) or did: tasks and waits created and cancelled, and what follows."""

    kind: str
    element_id: str
    element_name: str
    reason: str
    applied: bool = False
    created: list[OpenItem] = field(default_factory=list)
    cancelled: list[OpenItem] = field(default_factory=list)
    kept: list[OpenItem] = field(default_factory=list)
    undone: list[dict[str, Any]] = field(default_factory=list)  # completed tasks whose answers are set aside
    not_undone: list[str] = field(default_factory=list)  # steps that acted outside the service (IDOL, letters)
    next_automatic: str | None = None  # the automatic step that runs next (a preview stops before it)
    agenda_withdrawn: list[str] = field(default_factory=list)  # equipe meetings the case leaves
    bookings_released: list[str] = field(default_factory=list)  # ATS appointments freed (ISO times)
    facts_cleared: dict[str, Any] = field(default_factory=dict)  # case record facts cleared (old values)
    previous_answers: dict[str, Any] | None = None  # back_to: the answers given last time
    prefill: bool = False  # back_to: the form starts from those answers
    status_after: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (API, audit)."""
        result = asdict(self)
        for key in ("created", "cancelled", "kept"):
            result[key] = [_item(i) for i in getattr(self, key)]
        result["facts_cleared"] = {k: _plain(v) for k, v in self.facts_cleared.items()}
        return result


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _item(item: OpenItem) -> dict[str, Any]:
    return {"task_id": item.task_id, "element_id": item.element_id, "name": item.name, "kind": item.kind,
            "due_at": item.due_at.isoformat() if item.due_at else None, "lane": item.lane}


@dataclass(frozen=True)
class MoveChoices:
    """What the move page offers: completed tasks to go back to, open tasks to skip, branches to cancel."""

    done: list[moves.DoneTask]
    open: list[OpenItem]
    status: str


_WORDS = {
    MoveProblem.UNKNOWN_TASK: "no such task in this case",
    MoveProblem.NOT_COMPLETED: "only a completed task of a person can be done again",
    MoveProblem.NOT_OPEN: "the task is not open",
    MoveProblem.NOT_A_USER_TASK: "only a person's task can be skipped",
    MoveProblem.MULTI_INSTANCE: "the task is one instance of a multi-instance activity",
    MoveProblem.CALL_ACTIVITY: "the move would cross a call activity",
    MoveProblem.ONLY_BRANCH: "this is the only open branch: skip its task or terminate the case instead",
    MoveProblem.BRANCH_DECIDES: "a gateway on the branch chooses the way: skip its task instead",
}


def _refused(problem: MoveProblem, element: str | None) -> MoveRefused:
    return MoveRefused(problem.value, _WORDS[problem], element)


def choices(rt: Runtime, actor: Actor, instance_id: str) -> MoveChoices:
    """The completed tasks and open items of a case, for the move page."""
    authorization.require_admin(actor)
    with rt.uow(write=False) as uow:
        loaded = load(rt, uow, instance_id)
        try:
            return MoveChoices(moves.done_tasks(loaded.handle), list(moves.open_items(loaded.handle).values()),
                               str(loaded.header["status"]))
        finally:
            rt.workflows.put(loaded.id, loaded.unchanged())


def _target(loaded: Loaded, kind: MoveKind, task_id: str | None, element: str | None) -> str:
    """The task id a move is about: given, or found by element (latest run to go back to, the open one)."""
    if task_id:
        return task_id
    if not element:
        raise InputRefused("target-required", "task_id or element is required", {"task_id": ["required"]})
    if kind is MoveKind.BACK_TO:
        found = [d.task_id for d in moves.done_tasks(loaded.handle) if d.element_id == element]
    else:
        found = [i.task_id for i in moves.open_items(loaded.handle).values() if i.element_id == element]
    if len(found) != 1:
        problem = "no" if not found else "more than one"
        raise InputRefused("target-ambiguous", f"{problem} task of element {element!r} to move",
                           {"element": [f"{problem} matching task: give task_id"]})
    return found[0]


def _check_state(uow: UnitOfWork, header: Mapping[str, Any], actor: Actor) -> None:
    status = header["status"]
    if status in ENDED_STATUSES:
        raise MoveRefused("ended", f"the case is {status}: it cannot be moved")
    if status == InstanceStatus.SUSPENDED:
        event = uow.audit.latest_for_instance(str(header["id"]), "instance.suspended")
        who = event["actor"] if event is not None else None
        if who != actor.username:
            raise MoveRefused("suspended-by-other", f"the case was suspended by {who or 'someone else'}: "
                              "only they can move it (or resume it first)", detail=who)


def _apply(loaded: Loaded, kind: MoveKind, task_id: str, actor: Actor, reason: str) -> moves.MoveEffect:
    handle = loaded.handle
    try:
        if kind is MoveKind.BACK_TO:
            return moves.back_to(handle, task_id)
        if kind is MoveKind.SKIP:
            return moves.skip(handle, task_id, actor.username, reason)
        return moves.cancel_branch(handle, task_id)
    except MoveNotPossible as exc:
        raise _refused(exc.problem, exc.element) from None


def _other_work_on_case(uow: UnitOfWork, case_id: str) -> list[Mapping[str, Any]]:
    """Open tasks about the case that belong to another instance (the equipe's discussion of it)."""
    return [row for row in uow.inbox_search.for_case(case_id) if row["instance_id"] != case_id]


def _plan_move(
    rt: Runtime, uow: UnitOfWork, loaded: Loaded, actor: Actor, kind: MoveKind, task_id: str, reason: str,
    now: datetime, handler: Any,
) -> tuple[MovePlan, Any, moves.MoveEffect, bool]:
    """Make the move on the loaded workflow and run on; refuse what is unsafe. (plan, snapshot, effect, stopped)"""
    handle = loaded.handle
    before = moves.open_items(handle)
    errors_before = moves.error_task_ids(handle)
    target = before.get(task_id)
    done = next((d for d in moves.done_tasks(handle) if d.task_id == task_id), None)
    effect = _apply(loaded, kind, task_id, actor, reason)
    calls = done.calls if done is not None else (target.calls if target is not None else ())
    stopped: list[str] = []

    def guarded(operation: str, params: dict[str, Any], data: dict[str, Any]) -> Any:
        if handler is None:
            stopped.append(operation)
            raise _PreviewStop(operation)
        return handler(operation, params, data)

    snapshot = rt.engine.fire_timers(handle, now, guarded)
    after = moves.open_items(handle)
    removed = [item for key, item in before.items() if key not in after]
    if any(item.calls != calls for item in removed):
        raise _refused(MoveProblem.CALL_ACTIVITY, effect.target_element)
    if errors_before and errors_before & moves.error_task_ids(handle):
        raise MoveRefused("error-untouched", "the case is in error and this move leaves the failed step as it is: "
                          "retry it, or move the case away from it", effect.target_element)
    preview_stop = bool(stopped) and snapshot.error is not None
    if snapshot.error is not None and not preview_stop:
        raise MoveRefused("would-fail", f"after this move the case would fail at "
                          f"{snapshot.error.element_name or snapshot.error.element_id}",
                          snapshot.error.element_id, snapshot.error.message)
    if kind is MoveKind.BACK_TO and _other_work_on_case(uow, loaded.id) and any(i.kind == "message" for i in removed):
        raise MoveRefused("discussion-running", "the equipe is discussing the case now: its decision would reach "
                          "no one; wait for it, or terminate the discussion first")
    names = inspection.element_names(handle)
    plan = MovePlan(kind.value, effect.target_element, names.get(effect.target_element, effect.target_element), reason,
                    created=[i for k, i in after.items() if k not in before and i.kind != "error"],
                    cancelled=removed, kept=[i for k, i in after.items() if k in before])
    plan.undone = [{"task_id": d.task_id, "element_id": d.element_id, "name": d.name,
                    "ended_at": d.ended_at.isoformat() if d.ended_at else None} for d in effect.undone]
    plan.not_undone = [names.get(e, e) for e in effect.undone_services]
    if preview_stop:
        failed_at = snapshot.error.element_id or ""
        plan.next_automatic = names.get(failed_at, failed_at)
    plan.status_after = (InstanceStatus.SUSPENDED.value if loaded.header["status"] == InstanceStatus.SUSPENDED
                         else snapshot.status.value)
    return plan, snapshot, effect, preview_stop


def _reservations(uow: UnitOfWork, case_id: str, since: datetime | None, now: datetime
                  ) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]]:
    """Equipe agendas not yet convened and ATS appointments to come that steps after `since` made."""
    if since is None:
        return [], []
    agendas = [row for row in uow.meetings.meetings_of_case(case_id)
               if row["status"] == PLANNED and _added_since(uow, row["id"], case_id, since)]
    bookings = [row for row in uow.bookings.future_of(case_id, now) if row["created_at"] >= since]
    return agendas, bookings


def _added_since(uow: UnitOfWork, meeting_id: str, case_id: str, since: datetime) -> bool:
    return any(item["case_id"] == case_id and item["added_at"] >= since for item in uow.meetings.agenda(meeting_id))


def _previous(uow: UnitOfWork, loaded: Loaded, snapshot: Any, element_id: str) -> dict[str, Any] | None:
    last = last_completion(uow.conn, loaded.id, element_id)
    if last is None:
        return None
    form_name = next((t.form for t in snapshot.ready.values() if t.element_id == element_id), None)
    form = loaded.version.forms.get(form_name) if form_name else None
    return initial_values.copied(form, last[1]) if form else dict(last[1])


def _clean_reason(reason: str | None) -> str:
    text = " ".join((reason or "").split())[:MAX_REASON]
    if not text:
        raise InputRefused("reason-required", "a reason is required", {"reason": ["required"]})
    return text


def move(
    rt: Runtime, actor: Actor, instance_id: str, kind: str, reason: str | None, task_id: str | None = None,
    element: str | None = None, dry_run: bool = False, prefill: bool = False,
) -> MovePlan:
    """Preview (`dry_run`) or make a move; MoveRefused says why a move is unsafe, nothing changes then."""
    authorization.require_admin(actor)
    try:
        move_kind = MoveKind(kind)
    except ValueError:
        raise InputRefused("unknown-kind", f"unknown move {kind!r}",
                           {"kind": [f"one of {', '.join(k.value for k in MoveKind)}"]}) from None
    text = _clean_reason(reason)
    now = rt.now()
    with rt.uow(write=not dry_run) as uow:
        loaded = load(rt, uow, instance_id, lock=not dry_run)
        # The workflow is changed in place: it never goes back to the cache unless the move is saved.
        _check_state(uow, loaded.header, actor)
        target = _target(loaded, move_kind, task_id, element)
        handler = None if dry_run else service_handler(rt, uow, instance_id, now)
        plan, snapshot, effect, _ = _plan_move(rt, uow, loaded, actor, move_kind, target, text, now, handler)
        agendas, bookings = _reservations(uow, loaded.id, effect.since, now)
        plan.agenda_withdrawn = [row["id"] for row in agendas]
        plan.bookings_released = [row["slot_at"].isoformat() for row in bookings]
        if move_kind is MoveKind.BACK_TO:
            plan.previous_answers = _previous(uow, loaded, snapshot, effect.target_element)
            plan.prefill = bool(prefill and plan.previous_answers)
        if move_kind is MoveKind.BACK_TO:
            plan.facts_cleared = _facts_to_clear(rt, uow, loaded, snapshot.data)
        if dry_run:
            return plan
        _save(rt, uow, loaded, snapshot, now, actor, plan, effect, target, agendas, bookings)
        uow.commit()
    plan.applied = True
    return plan


def _facts_to_clear(rt: Runtime, uow: UnitOfWork, loaded: Loaded, data: Mapping[str, Any]) -> dict[str, Any]:
    """The record's facts a back_to would clear (a preview: the record is read, not written)."""
    declared = case_records.declaration(rt, loaded.version)
    record = uow.case_records.get(loaded.id)
    if declared is None or record is None:
        return {}
    present = case_records.declared_facts(rt, loaded.version, data) or {}
    return {f.name: record[f.name] for f in declared.facts
            if f.name not in present and f.name in record and record[f.name] not in (None, [], 0)}


def _save(rt: Runtime, uow: UnitOfWork, loaded: Loaded, snapshot: Any, now: datetime, actor: Actor, plan: MovePlan,
          effect: moves.MoveEffect, target: str, agendas: list[Mapping[str, Any]],
          bookings: list[Mapping[str, Any]]) -> None:
    # Header columns fed by a cleared fact (the case manager of an undone booking) are cleared with it.
    extra: dict[str, Any] = {k: None for k in case_records.HEADER_COLUMNS if k in plan.facts_cleared}
    if loaded.header["status"] == InstanceStatus.SUSPENDED:
        extra.update({"status": InstanceStatus.SUSPENDED.value, "suspended_status": snapshot.status.value,
                      "next_due_at": None})
    for row in agendas:
        uow.meetings.remove_from_agenda(row["id"], loaded.id)
        uow.audit.record(now, actor.username, "equipe.withdrawn", loaded.id,
                         data={"meeting": row["id"], "reason": "the case was moved back"})
    uow.bookings.remove(row["id"] for row in bookings)
    for row in bookings:
        uow.audit.record(now, actor.username, "booking.cancelled", loaded.id,
                         data={"case_manager": row["case_manager"], "slot": row["slot_at"].isoformat(),
                               "reason": "the case was moved back"})
    audit = {"kind": plan.kind, "reason": plan.reason, "task_id": target, "element": plan.element_id,
             "created": [_item(i) for i in plan.created], "cancelled": [_item(i) for i in plan.cancelled],
             "undone_task_ids": [d["task_id"] for d in plan.undone], "undone": plan.undone,
             "prefill": plan.prefill}
    stored = save(rt, uow, loaded, snapshot, now, actor, MOVED, audit, task_id=target,
                  element_id=plan.element_id, extra=extra, keep=False)
    if plan.kind == MoveKind.BACK_TO:
        plan.facts_cleared = case_records.after_move(rt, uow, loaded.version, stored, snapshot.data)
        if plan.facts_cleared:
            uow.audit.record(now, actor.username, "case.facts_superseded", loaded.id,
                             data={k: _plain(v) for k, v in plan.facts_cleared.items()})
        if plan.prefill and plan.previous_answers:
            uow.inbox.save_draft(target, dict(plan.previous_answers))

