"""The task page: case summary and timeline beside the form; complete, save a draft, claim, release."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for

from ..domain.errors import Conflict, Forbidden, InvalidState, NotFound, ValidationFailed
from ..forms.coercion import coerce, row_indexes
from ..forms.rendering import build_fields, error_summary
from ..services import inbox as inbox_service
from ..services import task_view
from ..services import tasks as task_service
from ..services.form_options import allowed_values
from .context import actor, runtime
from .filters import person_name
from .security import safe_next

bp = Blueprint("tasks", __name__, url_prefix="/attivita")


def _render(view: task_view.TaskView, values: dict[str, Any], errors: dict[str, list[str]] | None = None,
            status: int = 200) -> tuple[str, int]:
    fields = build_fields(view.form or {"properties": {}}, values, errors, view.options)
    general = (errors or {}).get("_form", [])
    return render_template("tasks/task.html", view=view, fields=fields, summary=error_summary(fields),
                           general_errors=general, has_errors=bool(errors)), status


@bp.get("/<task_id>")
def show(task_id: str) -> tuple[str, int]:
    """The task with its form: its draft, the fields declared from the case, or (on request) the last completion."""
    try:
        view = task_view.open_task(runtime(), task_id, actor(), copy_previous=request.args.get("copia") == "precedente")
    except Conflict:
        return _gone(task_id)
    return _render(view, view.values)


def _gone(task_id: str) -> tuple[str, int]:
    return render_template("tasks/gone.html", task_id=task_id), 409


@bp.post("/<task_id>")
def submit(task_id: str) -> tuple[str, int] | Response:
    """Complete the task, keep a draft, or add/remove a row of a repeating group."""
    rt, who = runtime(), actor()
    try:
        view = task_view.open_task(rt, task_id, who, audited=False)
    except Conflict:
        return _gone(task_id)
    schema = view.form or {"properties": {}}
    data = coerce(schema, request.form, rt.settings.timezone)
    action = request.form.get("azione", "completa")
    if action.startswith(("aggiungi:", "rimuovi:")):
        return _render(view, _edit_rows(schema, data, action))
    if action == "bozza":
        task_service.save_draft(rt, task_id, data, who)
        flash("Bozza salvata: potrà riprendere il modulo in seguito.", "success")
        return redirect(url_for("tasks.show", task_id=task_id))
    try:
        task_service.complete_task(rt, task_id, data, who, options=allowed_values(view.options))
    except ValidationFailed as exc:
        return _render(view, data, exc.errors, 400)
    except Conflict as exc:
        if exc.message == task_service.ALREADY_DONE:
            return _gone(task_id)
        flash(_taken_message(exc.message), "error")
        return redirect(url_for("tasks.show", task_id=task_id))
    except InvalidState:
        return _refused_by_case(view, data)
    return redirect(url_for("tasks.done", case_id=view.case["id"], fatta=view.task["name"]))


def _refused_by_case(view: task_view.TaskView, data: dict[str, Any]) -> tuple[str, int]:
    """A suspended or failed case refused the completion: the form again, with what was typed and why (409)."""
    reason = "Il caso non consente di completare attività in questo momento (sospeso o in errore)."
    kept = "I dati inseriti non sono andati persi: può salvarli come bozza."
    return _render(view, data, {"_form": [reason, kept]}, 409)


def _taken_message(message: str) -> str:
    owner = message.rsplit(" ", 1)[-1] if "taken by" in message else None
    return f"L'attività è già assegnata a {person_name(owner)}." if owner else "Qualcun altro ha modificato l'attività nel frattempo."


def _edit_rows(schema: dict[str, Any], data: dict[str, Any], action: str) -> dict[str, Any]:
    """Add an empty row to, or remove one row from, a repeating group (works without JavaScript)."""
    verb, _, target = action.partition(":")
    if verb == "aggiungi" and target in (schema.get("properties") or {}):
        submitted = len(row_indexes(request.form, target))
        rows = list(data.get(target) or [])
        data[target] = rows + [{}] * max(1, submitted + 1 - len(rows))
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
    except Conflict as exc:
        gone = exc.message == task_service.ALREADY_DONE
        flash("L'attività è già stata completata." if gone else _taken_message(exc.message), "warning")
    except (Forbidden, NotFound):
        flash("Attività non trovata o non disponibile per il suo profilo.", "error")
    return redirect(target)
