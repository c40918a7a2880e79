"""Moving a case and checked data edits from the instance page: a preview step, then a confirmation."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for

from ...domain.errors import EditRefused, GolError, InputRefused, MoveRefused
from ...services.administration import data_edits, instance_moves, instance_queries
from ..context import actor, runtime
from .blueprint import bp
from .texts import service_error

KINDS = {"back_to": "Rifare un'attività completata", "skip": "Saltare l'attività aperta",
         "cancel_branch": "Annullare un ramo aperto"}
REFUSALS = {
    "unknown-task": "L'attività scelta non appartiene a questo caso.",
    "not-completed": "Si può rifare solo un'attività di una persona già completata.",
    "not-open": "L'attività scelta non è aperta.",
    "not-a-user-task": "Si può saltare solo un'attività di una persona.",
    "multi-instance": "L'attività è una delle istanze di un'attività multipla: spostarla da sola non è sicuro.",
    "call-activity": "Lo spostamento attraverserebbe un'attività di chiamata (sottoprocesso chiamato): non è sicuro.",
    "only-branch": "È l'unico ramo aperto del caso: saltare la sua attività o chiudere il caso d'ufficio.",
    "branch-decides": "Sul ramo c'è una scelta (gateway): saltare la sua attività invece di annullarlo.",
    "suspended-by-other": "Il caso è stato sospeso da un altro amministratore: solo chi lo ha sospeso può spostarlo.",
    "error-untouched": "Il caso è in errore e questo spostamento lascia il passo fallito com'è: ripeterlo o "
                       "spostare il caso prima di esso.",
    "would-fail": "Dopo lo spostamento il caso fallirebbe al passo indicato: lo spostamento non è fatto.",
    "discussion-running": "L'equipe sta discutendo il caso: la sua decisione non arriverebbe più a nessuno. "
                          "Attendere la decisione.",
    "ended": "Il caso è concluso: non si può spostare.",
}
ITEM_KINDS = {"task": "attività", "timer": "timer", "message": "attesa di messaggio", "step": "passo automatico",
              "error": "passo in errore"}


def _reason() -> str:
    return " ".join((request.form.get("motivo") or "").split())[:500]


def _move_args() -> dict[str, Any]:
    choice = request.form.get("scelta", "")
    kind, _, task_id = choice.partition(":")
    return {"kind": kind, "task_id": task_id or None, "prefill": request.form.get("precompila") == "1"}


def _refusal_text(exc: MoveRefused) -> str:
    return REFUSALS.get(exc.reason, "Spostamento non possibile.")


@bp.route("/istanze/<instance_id>/sposta", methods=["GET", "POST"])
def move(instance_id: str) -> Response | tuple[str, int]:
    """Choose a move (GET), see exactly what it does (POST anteprima), make it (POST conferma)."""
    rt, who = runtime(), actor()
    summary = instance_queries.instance_summary(rt, who, instance_id)
    choices = instance_moves.choices(rt, who, instance_id)
    page = {"s": summary, "choices": choices, "kinds": KINDS, "item_kinds": ITEM_KINDS}
    if request.method == "GET":
        return render_template("admin/move.html", **page, error=None, reason="", chosen=""), 200
    args, reason = _move_args(), _reason()
    confirm = request.form.get("azione") == "conferma"
    error = None
    if not args["task_id"] or args["kind"] not in KINDS:
        error = "Scegliere lo spostamento."
    elif not reason:
        error = "Indicare il motivo dello spostamento."
    if error is None:
        try:
            plan = instance_moves.move(rt, who, instance_id, args["kind"], reason, task_id=args["task_id"],
                                       dry_run=not confirm, prefill=args["prefill"])
        except MoveRefused as exc:
            error = _refusal_text(exc) + (f" ({exc.detail})" if exc.detail else "")
        except InputRefused:
            error = "Scelta non valida."
        except GolError as exc:
            flash(service_error("move", exc.code), "error")
            return redirect(url_for("admin.instance", instance_id=instance_id))
        else:
            if confirm:
                flash(f"Caso spostato: {KINDS[plan.kind].lower()} «{plan.element_name}».", "success")
                return redirect(url_for("admin.instance", instance_id=instance_id))
            return render_template("admin/move_preview.html", **page, plan=plan, reason=reason,
                                   chosen=request.form.get("scelta", ""), prefill=args["prefill"]), 200
    return render_template("admin/move.html", **page, error=error, reason=reason,
                           chosen=request.form.get("scelta", "")), 400


FIELD_ROWS = 3


def _changes() -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The edited fields from the form's rows (name, value as JSON, or else as text)."""
    changes: dict[str, Any] = {}
    rows = []
    for index in range(FIELD_ROWS):
        name = (request.form.get(f"campo_{index}") or "").strip()
        text = (request.form.get(f"valore_{index}") or "").strip()
        rows.append((name, text))
        if not name:
            continue
        try:
            changes[name] = json.loads(text)
        except ValueError:
            changes[name] = text  # plain text is taken as a string
    return changes, rows


@bp.route("/istanze/<instance_id>/modifica", methods=["GET", "POST"])
def checked_edit(instance_id: str) -> Response | tuple[str, int]:
    """Edit fields of the case's data checked against the process: preview (anteprima), then save (conferma)."""
    rt, who = runtime(), actor()
    summary = instance_queries.instance_summary(rt, who, instance_id)
    page = {"s": summary, "rows_count": FIELD_ROWS}
    if request.method == "GET":
        return render_template("admin/data_edit.html", **page, rows=[("", "")] * FIELD_ROWS, errors={},
                               reason="", plan=None), 200
    changes, rows = _changes()
    reason = _reason()
    confirm = request.form.get("azione") == "conferma"
    try:
        plan = data_edits.edit(rt, who, instance_id, changes, reason, dry_run=not confirm)
    except EditRefused as exc:
        return render_template("admin/data_edit.html", **page, rows=rows, errors=exc.errors, reason=reason,
                               plan=None), 400
    except GolError as exc:
        flash(service_error("edit", exc.code), "error")
        return redirect(url_for("admin.instance", instance_id=instance_id))
    if confirm:
        flash("Dati aggiornati: " + ", ".join(c["field"] for c in plan.changes) + ".", "success")
        return redirect(url_for("admin.instance", instance_id=instance_id))
    return render_template("admin/data_edit.html", **page, rows=rows, errors={}, reason=reason, plan=plan), 200
