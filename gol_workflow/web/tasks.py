"""The task page: case summary and timeline beside the form; complete, save a draft, claim, release."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for

from ..domain.errors import (
    ConcurrentChange,
    Conflict,
    Forbidden,
    InvalidState,
    NotFound,
    TaskAlreadyCompleted,
    TaskHeldByOther,
    TaskNoLongerOpen,
    ValidationFailed,
)
from ..forms.coercion import coerce, max_rows, row_indexes
from ..forms.rendering import build_fields, error_summary
from ..services.workflow import inbox as inbox_service
from ..services.workflow import task_view
from ..services.workflow import tasks as task_service
from ..services.workflow.form_options import allowed_values
from .context import actor, runtime
from .filters import person_name
from .security import safe_next

bp = Blueprint("tasks", __name__, url_prefix="/attivita")


def _render(view: task_view.TaskView, values: dict[str, Any], errors: dict[str, list[str]] | None = None,
            status: int = 200, conflict: str | None = None) -> tuple[str, int]:
    """The task page; showing it again after a POST is a read of the case like a GET, and audited as one."""
    if request.method == "POST":
        task_view.record_read(runtime(), actor(), view)
    fields = build_fields(view.form or {"properties": {}}, values, errors, view.options)
    general = (errors or {}).get("_form", [])
    return render_template("tasks/task.html", view=view, fields=fields, summary=error_summary(fields),
                           general_errors=general, has_errors=bool(errors), conflict=conflict), status


@bp.get("/<task_id>")
def show(task_id: str) -> tuple[str, int]:
    """The task with its form: its draft, the fields declared from the case, or (on request) the last completion."""
    try:
        view = task_view.open_task(runtime(), task_id, actor(), copy_previous=request.args.get("copia") == "precedente")
    except TaskNoLongerOpen as exc:
        return _gone(task_id, exc)
    return _render(view, view.values)


def _gone(task_id: str, exc: TaskNoLongerOpen, submitted: list[tuple[str, str]] | None = None) -> tuple[str, int]:
    """The task is no longer open: who completed it and when, and what this person had typed (to copy)."""
    done = exc if isinstance(exc, TaskAlreadyCompleted) else None
    return render_template("tasks/gone.html", task_id=task_id, completed_by=done.by if done else None,
                           completed_at=done.at if done else None, moved_on=done is None,
                           submitted=submitted or []), 409


def _typed() -> list[tuple[str, str]]:
    """What the person submitted, field by field, as they typed it."""
    return [(key, value) for key, value in request.form.items(multi=True)
            if key not in ("csrf_token", "azione") and str(value).strip()]


def _conflict_message(exc: Conflict | InvalidState) -> str:
    """What changed while the person was filling in the form, in Italian."""
    if isinstance(exc, TaskHeldByOther):
        who = f"a {person_name(exc.assignee)}" if exc.assignee else "a un collega"
        return f"Nel frattempo l'attività è stata assegnata {who}: i dati inseriti non sono stati salvati."
    if isinstance(exc, ConcurrentChange):
        return ("Nel frattempo il caso è stato modificato da un altro operatore: i dati inseriti non sono stati "
                "salvati. Controllare il riepilogo del caso e inviare di nuovo.")
    if isinstance(exc, InvalidState):
        return ("Nel frattempo il caso è stato sospeso, chiuso o è andato in errore: l'attività non si può completare "
                "ora. I dati inseriti non sono andati persi: sono ancora nel modulo qui sotto.")
    return "Nel frattempo qualcun altro ha modificato l'attività: i dati inseriti non sono stati salvati."


@bp.post("/<task_id>")
def submit(task_id: str) -> tuple[str, int] | Response:
    """Complete the task, keep a draft, or add/remove a row of a repeating group."""
    rt, who = runtime(), actor()
    try:
        view = task_view.open_task(rt, task_id, who, audited=False)
    except TaskNoLongerOpen as exc:
        return _gone(task_id, exc, _typed())
    schema = view.form or {"properties": {}}
    data = coerce(schema, request.form, rt.settings.timezone)
    action = request.form.get("azione", "completa")
    if action.startswith(("aggiungi:", "rimuovi:")):
        return _render(view, _edit_rows(schema, data, action))
    if action == "bozza":
        try:
            task_service.save_draft(rt, task_id, data, who, options=allowed_values(view.options))
        except ValidationFailed as exc:
            return _render(view, data, exc.errors, 400)
        flash("Bozza salvata: potrà riprendere il modulo in seguito.", "success")
        return redirect(url_for("tasks.show", task_id=task_id))
    try:
        task_service.complete_task(rt, task_id, data, who, options=allowed_values(view.options))
    except ValidationFailed as exc:
        return _render(view, data, exc.errors, 400)
    except TaskNoLongerOpen as exc:
        return _gone(task_id, exc, _typed())
    except (Conflict, InvalidState) as exc:
        return _render(_reopened(task_id, view), data, status=409, conflict=_conflict_message(exc))
    return redirect(url_for("tasks.done", case_id=view.case["id"], fatta=view.task["name"]))


def _reopened(task_id: str, view: task_view.TaskView) -> task_view.TaskView:
    """The task as it is now (new assignee, the case's new step), to show beside the kept input."""
    try:
        return task_view.open_task(runtime(), task_id, actor(), audited=False)
    except (Conflict, NotFound):
        return view


def _taken_message(exc: Conflict) -> str:
    if isinstance(exc, TaskHeldByOther) and exc.assignee:
        return f"L'attività è già assegnata a {person_name(exc.assignee)}."
    return "Qualcun altro ha modificato l'attività nel frattempo."


def _edit_rows(schema: dict[str, Any], data: dict[str, Any], action: str) -> dict[str, Any]:
    """Add an empty row to, or remove one row from, a repeating group (works without JavaScript)."""
    verb, _, target = action.partition(":")
    if verb == "aggiungi" and target in (schema.get("properties") or {}):
        limit = max_rows(schema["properties"][target])
        submitted = min(len(row_indexes(request.form, target)), limit)
        rows = list(data.get(target) or [])
        data[target] = (rows + [{}] * max(1, submitted + 1 - len(rows)))[: max(limit, len(rows))]
    elif verb == "rimuovi":
        name, _, index = target.rpartition(".")
        rows = list(data.get(name) or [])
        if index.isdigit() and int(index) < len(rows):
            rows.pop(int(index))
        data[name] = rows
    return data


@bp.get("/fatta/<case_id>")
def done(case_id: str) -> str:
    """After a completion: what happens next, and the next task to work."""
    rt, who = runtime(), actor()
    steps = task_view.after_completion(rt, case_id, who, inbox_service.next_task(rt, who))
    return render_template("tasks/done.html", steps=steps, done_name=request.args.get("fatta", "")[:255],
                           opened=request.args.get("aperto") == "1")


@bp.post("/<task_id>/prendi")
def claim(task_id: str) -> Response:
    """Take the task so colleagues see someone works on it."""
    return _assign(task_id, task_service.claim, "Attività assegnata a lei.")


@bp.post("/<task_id>/rilascia")
def release(task_id: str) -> Response:
    """Give the task back to the shared queue."""
    return _assign(task_id, task_service.unclaim, "Attività rilasciata: torna disponibile ai colleghi.")


def _assign(task_id: str, operation: Any, success: str) -> Response:
    target = safe_next(request.form.get("next"), url_for("inbox.index"))
    try:
        operation(runtime(), task_id, actor())
        flash(success, "success")
    except TaskNoLongerOpen:
        flash("L'attività non è più aperta: è già stata completata o il caso è andato avanti.", "warning")
    except Conflict as exc:
        flash(_taken_message(exc), "warning")
    except (Forbidden, NotFound):
        flash("Attività non trovata o non disponibile per il suo profilo.", "error")
    return redirect(target)
