"""Operations on one instance from its page: suspend, resume, terminate, retry, edit the data, migrate."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for

from ...domain.errors import GolError, InputRefused, InvalidJson, MigrationRefused, ValidationFailed
from ...services.administration import instance_queries, migration, operations
from ..context import actor, runtime
from .blueprint import bp
from .detail import render_detail
from .texts import OPERATION_DONE, issue, note, service_error

CONFIRM_FIELD = "conferma"


def _back(instance_id: str) -> Response:
    return redirect(url_for("admin.instance", instance_id=instance_id))


def _reason() -> str:
    return " ".join((request.form.get("motivo") or "").split())[:500]


def _run(instance_id: str, operation: str, params: dict[str, Any]) -> Response | tuple[str, int]:
    outcome = operations.run_operation(runtime(), actor(), operation, instance_id, params)
    if outcome.ok:
        flash(OPERATION_DONE[operation], "success")
        return _back(instance_id)
    if outcome.code == "not_found":
        return render_detail(instance_id)  # raises the 404 page
    if outcome.code == "failed_again":
        flash("Il passo è stato ripetuto ma è fallito di nuovo: vedere l'errore qui sotto.", "error")
        return _back(instance_id)
    flash(service_error(operation, outcome.reason), "error")
    return _back(instance_id)


def _refuse(instance_id: str, message: str, field: str) -> tuple[str, int]:
    return render_detail(instance_id, status=400, form_errors={field: message})


@bp.post("/istanze/<instance_id>/sospendi")
def suspend(instance_id: str) -> Response | tuple[str, int]:
    """Suspend, with a reason."""
    if not _reason():
        return _refuse(instance_id, "Indicare il motivo della sospensione.", "sospendi")
    return _run(instance_id, "suspend", {"reason": _reason()})


@bp.post("/istanze/<instance_id>/riprendi")
def resume(instance_id: str) -> Response | tuple[str, int]:
    """Resume a suspended instance (timers that fell due meanwhile fire at once)."""
    return _run(instance_id, "resume", {})


@bp.post("/istanze/<instance_id>/ripeti")
def retry(instance_id: str) -> Response | tuple[str, int]:
    """Run the failed step again."""
    return _run(instance_id, "retry", {})


@bp.post("/istanze/<instance_id>/chiudi")
def terminate(instance_id: str) -> Response | tuple[str, int]:
    """Terminate for good, with a reason and an explicit confirmation."""
    if not _reason():
        return _refuse(instance_id, "Indicare il motivo della chiusura d'ufficio.", "chiudi")
    if request.form.get(CONFIRM_FIELD) != "1":
        return _refuse(instance_id, "Confermare la chiusura d'ufficio: non si potrà annullare.", "chiudi")
    return _run(instance_id, "terminate", {"reason": _reason()})


@bp.route("/istanze/<instance_id>/dati", methods=["GET", "POST"])
def edit(instance_id: str) -> Response | tuple[str, int]:
    """Edit the top-level data of a suspended instance as JSON (opening the editor is an audited read)."""
    rt, who = runtime(), actor()
    errors: list[str] = []
    text = request.form.get("dati", "")
    if request.method == "POST":
        try:
            changed = operations.edit_data(rt, who, instance_id, operations.parse_data(text), _reason())
        except ValidationFailed as exc:
            errors = _edit_errors(exc)
        except GolError as exc:
            flash(service_error("resume", exc.code), "error")
            return _back(instance_id)
        else:
            flash(f"Dati aggiornati: {', '.join(changed)}.", "success")
            return _back(instance_id)
    detail = instance_queries.instance_detail(rt, who, instance_id, reveal=request.method == "GET")
    if request.method == "GET":
        text = operations_json(detail.data)
    return render_template("admin/edit.html", s=detail.summary, text=text, errors=errors,
                           reason=_reason()), 400 if errors else 200


def operations_json(data: dict[str, Any]) -> str:
    """The data as the editor shows it."""
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True, default=str)


EDIT_REFUSALS = {
    "not-an-object": "I dati devono essere un oggetto JSON ({ ... })",
    "invalid-names": "Nomi di campo non validi",
    "protected-field": "Il campo case_id identifica il caso e non si può modificare",
    "nothing-changed": "Nessuna modifica rispetto ai dati attuali",
    "reason-required": "Indicare il motivo della modifica",
    "too-large": "I dati superano la dimensione massima consentita",
}


def _edit_errors(exc: ValidationFailed) -> list[str]:
    if isinstance(exc, InvalidJson):  # where the syntax error is
        return [f"Il testo non è JSON valido (riga {exc.line}, colonna {exc.column})."]
    reason = exc.reason if isinstance(exc, InputRefused) else ""
    return [f"{EDIT_REFUSALS.get(reason, 'Dati non validi')}."]


@bp.route("/istanze/<instance_id>/migra", methods=["GET", "POST"])
def migrate(instance_id: str) -> Response | tuple[str, int]:
    """Check the move to a newer version (GET) and perform it (POST)."""
    rt, who = runtime(), actor()
    target = request.values.get("versione", type=int)
    if target is None:
        flash("Scegliere la versione di destinazione.", "error")
        return _back(instance_id)
    if request.method == "POST":
        if not _reason():
            flash("Indicare il motivo della migrazione.", "error")
            return redirect(url_for("admin.migrate", instance_id=instance_id, versione=target))
        try:
            report = migration.migrate_instance(rt, who, instance_id, target, _reason())
        except MigrationRefused as exc:
            flash("Migrazione rifiutata: " + " ".join(issue(i) for i in exc.issues), "error")  # type: ignore[arg-type]
            return redirect(url_for("admin.migrate", instance_id=instance_id, versione=target))
        flash(f"Istanza migrata dalla versione {report.from_version} alla versione {report.to_version}.", "success")
        return _back(instance_id)
    try:
        plan = migration.check_migration(rt, who, instance_id, target)
    except GolError as exc:
        flash(service_error("migrate", exc.code), "error")
        return _back(instance_id)
    summary = instance_queries.instance_summary(rt, who, instance_id)
    return render_template("admin/migrate.html", s=summary, plan=plan, target=target, issue=issue, note=note), 200
