"""Data protection: one person's data (art. 15 archive, who read or changed it) and unusual reading."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from ...domain.errors import CaseAnonymised, NotFound, ValidationFailed
from ...services.administration import subject_access
from ...services.data_protection import retention
from ..context import actor, runtime
from .blueprint import ID, bp

PERIODS = (7, 30, 90)


@bp.get("/protezione-dati")
def data_protection() -> str:
    """Search a person by codice fiscale: who read or changed their data; operators reading unusually."""
    rt, who = runtime(), actor()
    cf = (request.args.get("codice_fiscale") or "").strip().upper()
    days = request.args.get("giorni", 30, type=int)
    days = days if days in PERIODS else 30
    found, error = None, None
    if cf:
        try:
            found = subject_access.accesses(rt, who, cf)
        except ValidationFailed as exc:
            error = exc.errors.get("codice_fiscale", ["Codice fiscale non valido."])[0]
    unusual = subject_access.unusual_readers(rt, who, days)
    return render_template("admin/data_protection.html", cf=cf, found=found, error=error, unusual=unusual,
                           days=days, periods=PERIODS, runs=retention.runs(rt, who, 20), holds=retention.holds(rt, who))


@bp.post("/protezione-dati/conservazione")
def retention_run() -> WerkzeugResponse:
    """Run a retention pass now, or only see what it would do."""
    dry = request.form.get("modalita") != "esegui"
    report = retention.run(runtime(), actor(), dry_run=dry)
    if dry:
        flash(f"Prova: {len(report.anonymised)} casi sarebbero anonimizzati, {len(report.held)} sono bloccati. "
              "Nulla è stato modificato.", "success")
    else:
        flash(f"{len(report.anonymised)} casi anonimizzati, {report.attachments} documenti cancellati, "
              f"{len(report.held)} casi bloccati.", "success")
    return redirect(url_for("admin.retention_detail", run_id=report.run_id))


@bp.get(f"/protezione-dati/conservazione/<{ID}:run_id>")
def retention_detail(run_id: int) -> str:
    """One retention pass: what it did to each case."""
    found = retention.run_detail(runtime(), actor(), run_id)
    return render_template("admin/retention_run.html", run=found)


@bp.post("/protezione-dati/blocco-legale")
def legal_hold() -> WerkzeugResponse:
    """Set or clear the legal hold of one case, with a reason."""
    case_id = (request.form.get("id_caso") or "").strip()
    reason = request.form.get("motivo") or ""
    try:
        if request.form.get("azione") == "rimuovi":
            retention.clear_legal_hold(runtime(), actor(), case_id, reason)
            flash("Blocco legale rimosso: il caso torna a seguire i tempi di conservazione.", "success")
        else:
            retention.set_legal_hold(runtime(), actor(), case_id, reason)
            flash("Blocco legale impostato: il caso non sarà anonimizzato finché resta.", "success")
    except ValidationFailed as exc:
        flash(exc.errors.get("motivo", ["Dati non validi."])[0], "error")
    except NotFound:
        flash("Non esiste un caso con questo identificativo.", "error")
    except CaseAnonymised:
        flash("Il caso è già stato anonimizzato.", "error")
    return redirect(url_for("admin.data_protection") + "#conservazione")


@bp.post("/protezione-dati/archivio")
def data_export() -> Response:
    """The art. 15 archive of one person, as a download."""
    found = subject_access.gather(runtime(), actor(), request.form.get("codice_fiscale", ""))
    return Response(subject_access.archive(found), 200, mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="dati-{found.codice_fiscale}.zip"'})
