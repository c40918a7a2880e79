"""Batch operations from the instance list's filters, with a progress page that polls (or reloads)."""

from __future__ import annotations

from flask import Response, current_app, flash, make_response, redirect, render_template, request, url_for

from ...domain.errors import InputRefused, InvalidState, ValidationFailed
from ...services.administration import batch
from ...services.administration.scheduler_overview import scheduler_silent
from ..context import actor, runtime
from .blueprint import bp
from .listing import filter_params, filters_from
from .texts import BATCH_STATUS, ITEM_STATUS, OPERATIONS, issue, outcome
from .worker import kick

ITEMS_PER_PAGE = 100
BATCH_ERRORS = {
    "reason-required": "Indicare il motivo: resta nel registro di ogni istanza.",
    "process-required": "Per migrare scegliere prima il processo nei filtri.",
    "unknown-target-version": "Scegliere la versione di destinazione del processo filtrato.",
    "no-instance-matches": "Nessuna istanza corrisponde ai filtri.",
    "too-many-instances": f"I filtri selezionano più di {batch.MAX_INSTANCES} istanze: restringerli.",
    "unknown-operation": "Scegliere un'operazione.",
}


@bp.post("/operazioni")
def start_batch() -> Response:
    """Queue an operation over every instance matching the submitted filters."""
    filters = filters_from(request.form)
    operation = request.form.get("operazione", "")
    back = url_for("admin.instances", **filter_params(filters))
    if request.form.get("conferma") != "1":
        flash("Confermare l'operazione su tutte le istanze filtrate.", "error")
        return redirect(back)
    reason = " ".join((request.form.get("motivo") or "").split())[:500] or None
    try:
        batch_id = batch.start_batch(runtime(), actor(), operation, filters, reason,
                                     request.form.get("versione_destinazione", type=int))
    except ValidationFailed as exc:
        reason = exc.reason if isinstance(exc, InputRefused) else ""
        flash(BATCH_ERRORS.get(reason, "Operazione non avviata: controllare i dati."), "error")
        return redirect(back)
    if current_app.config.get("GOL_BATCH_THREAD", True):
        kick(runtime())
    flash("Operazione avviata: l'avanzamento si aggiorna da solo.", "success")
    return redirect(url_for("admin.batch_page", batch_id=batch_id))


@bp.get("/operazioni")
def batches() -> str:
    """The latest batch operations."""
    jobs = batch.recent_batches(runtime(), actor(), 50)
    return render_template("admin/batches.html", jobs=jobs, operations=OPERATIONS, statuses=BATCH_STATUS)


@bp.get("/operazioni/<batch_id>")
def batch_page(batch_id: str) -> str | Response:
    """Progress and per-instance results; with htmx only the progress block is sent."""
    status = request.args.get("esito") if request.args.get("esito") in ITEM_STATUS else None
    page = max(1, request.args.get("pagina", 1, type=int) or 1)
    view = batch.batch_view(runtime(), actor(), batch_id, status, ITEMS_PER_PAGE, (page - 1) * ITEMS_PER_PAGE)
    context = {"view": view, "operations": OPERATIONS, "statuses": BATCH_STATUS, "item_statuses": ITEM_STATUS,
               "outcome": outcome, "issue": issue, "status": status, "page": page, "per_page": ITEMS_PER_PAGE}
    if request.headers.get("HX-Request"):
        response = make_response(render_template("admin/_batch_progress.html", **context))
        if not view.open:
            response.headers["HX-Refresh"] = "true"  # finished: reload once to show every result
        return response
    stale = scheduler_silent(runtime())
    return render_template("admin/batch.html", stale=stale, **context)


@bp.post("/operazioni/<batch_id>/annulla")
def cancel(batch_id: str) -> Response:
    """Stop a batch: what is not done yet is skipped."""
    try:
        skipped = batch.cancel_batch(runtime(), actor(), batch_id)
        flash(f"Operazione annullata: {skipped} istanze non sono state toccate.", "success")
    except InvalidState:
        flash("L'operazione è già conclusa.", "error")
    return redirect(url_for("admin.batch_page", batch_id=batch_id))
