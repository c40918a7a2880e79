"""The incident desk: open incidents grouped alike, one incident with its repairs, comments and resolution."""

from __future__ import annotations

import json
from collections.abc import Callable

from flask import Response, flash, redirect, render_template, request, url_for

from ...domain.errors import Conflict, InputRefused, InvalidJson, InvalidState, ValidationFailed
from ...domain.incident_kinds import KINDS
from ...services.administration import incident_desk
from ...services.administration.operations import parse_data
from ..context import actor, runtime
from .blueprint import ID, bp

PAGE = 50
REFUSED = (InvalidState, ValidationFailed, Conflict)  # said on the page; 403 and 404 are the error pages
RESOLUTIONS = {
    "retried": "passo ripetuto", "retried_automatically": "ripetuto automaticamente", "terminated": "istanza chiusa d'ufficio",
    "migrated": "istanza migrata", "moved": "istanza spostata", "skipped": "passo saltato",
    "edited": "dati corretti e passo ripetuto", "by_hand": "chiuso a mano",
}
REFUSALS = {
    "incident-resolved": "L'errore è già stato risolto.",
    "still-in-error": "L'istanza è ancora in errore: ripetere o saltare il passo, spostarla o chiuderla prima.",
    "skip-refused": "Questo passo decide il percorso o chiama un sottoprocesso: non si può saltare. Correggere i dati e riprovare, oppure spostare il caso.",
    "not-in-error": "L'istanza non è più in errore.",
    "changed-meanwhile": "L'istanza è stata modificata da altri nel frattempo: riprovare.",
}


def _refusal(exc: InvalidState | ValidationFailed | Conflict) -> str:
    if isinstance(exc, InvalidJson):
        return f"I dati non sono JSON valido (riga {exc.line}, colonna {exc.column})."
    if isinstance(exc, InputRefused):
        return {"reason-required": "Il motivo è obbligatorio.", "text-required": "Il commento è vuoto.",
                "note-required": "Scrivere come è stato risolto.", "nothing-changed": "Indicare almeno un campo da correggere.",
                "invalid-names": "Alcuni campi non si possono modificare: " + "; ".join(
                    m for ms in exc.errors.values() for m in ms)}.get(exc.reason, "Dati non validi.")
    return REFUSALS.get(exc.code, "Operazione non eseguita.")


@bp.get("/errori")
def incidents() -> str:
    """Open (or resolved) incidents: the groups of alike ones, then each one, the latest failure first."""
    status = request.args.get("stato", "open")
    status = status if status in incident_desk.STATUSES else "open"
    page = max(1, request.args.get("pagina", 1, type=int) or 1)
    mine = request.args.get("mie") == "1"
    rt, who = runtime(), actor()
    listed = incident_desk.list_incidents(rt, who, status, assignee=who.username if mine else None,
                                          limit=PAGE, offset=(page - 1) * PAGE)
    groups = incident_desk.incident_groups(rt, who) if status == "open" else []
    return render_template("admin/incidents.html", listed=listed, groups=groups, status=status, page=page,
                           pages=max(1, -(-listed.total // PAGE)), mine=mine, resolutions=RESOLUTIONS)


@bp.get(f"/errori/<{ID}:incident_id>")
def incident(incident_id: int) -> str:
    """One incident: the case, the element, the words, the technical detail, its repairs and its story."""
    found = incident_desk.get_incident(runtime(), actor(), incident_id)
    return render_template("admin/incident.html", i=found, resolutions=RESOLUTIONS,
                           detail_json=json.dumps(found.detail, ensure_ascii=False, indent=2))


def _back(incident_id: int) -> Response:
    return redirect(url_for("admin.incident", incident_id=incident_id))


def _reason() -> str:
    return " ".join((request.form.get("motivo") or "").split())[:2000]


def _act(incident_id: int, work: Callable[[], None]) -> Response:
    """Do one thing to an incident; a refusal is said on the incident's page, which the person goes back to."""
    try:
        work()
    except REFUSED as exc:
        flash(_refusal(exc), "error")
    return _back(incident_id)


def _repaired(ok: bool) -> None:
    if ok:
        flash("Fatto: il caso è ripartito e l'errore è risolto.", "success")
    else:
        flash("Il passo è stato eseguito di nuovo ma è fallito ancora: il tentativo è stato contato.", "error")


@bp.post(f"/errori/<{ID}:incident_id>/riprova")
def incident_retry(incident_id: int) -> Response:
    """Run the failed step again."""
    return _act(incident_id, lambda: _repaired(incident_desk.retry(runtime(), actor(), incident_id)))


@bp.post(f"/errori/<{ID}:incident_id>/salta")
def incident_skip(incident_id: int) -> Response:
    """Complete the failed step without running it, saying why."""
    return _act(incident_id, lambda: _repaired(incident_desk.skip(runtime(), actor(), incident_id, _reason())))


@bp.post(f"/errori/<{ID}:incident_id>/correggi")
def incident_edit(incident_id: int) -> Response:
    """Correct fields of the failed step's data and run it again."""

    def edit() -> None:
        changes = parse_data(request.form.get("dati") or "")
        _repaired(incident_desk.edit_and_retry(runtime(), actor(), incident_id, changes, _reason()))

    return _act(incident_id, edit)


@bp.post(f"/errori/<{ID}:incident_id>/incarico")
def incident_assign(incident_id: int) -> Response:
    """Take the incident (I am looking at it), or leave it."""
    return _act(incident_id, lambda: incident_desk.assign(runtime(), actor(), incident_id,
                                                          to_me=request.form.get("lascia") != "1"))


@bp.post(f"/errori/<{ID}:incident_id>/commento")
def incident_comment(incident_id: int) -> Response:
    """Add a comment."""
    return _act(incident_id, lambda: incident_desk.comment(runtime(), actor(), incident_id,
                                                           request.form.get("testo") or ""))


@bp.post(f"/errori/<{ID}:incident_id>/chiudi")
def incident_resolve(incident_id: int) -> Response:
    """Close an incident whose instance was repaired some other way."""

    def resolve() -> None:
        incident_desk.resolve(runtime(), actor(), incident_id, _reason())
        flash("Errore segnato come risolto.", "success")

    return _act(incident_id, resolve)


@bp.post("/errori/gruppo")
def incident_group() -> Response:
    """Retry, skip or close every open incident alike (same process version, element and kind)."""
    action = request.form.get("azione") or ""
    kind = request.form.get("tipo") or ""
    element = request.form.get("elemento") or None
    version_id = request.form.get("versione", type=int)
    if version_id is None or kind not in KINDS:
        flash("Gruppo di errori non riconosciuto.", "error")
        return redirect(url_for("admin.incidents"))
    try:
        outcome = incident_desk.act_on_group(runtime(), actor(), version_id, element, kind, action, _reason() or None)
    except REFUSED as exc:
        flash(_refusal(exc), "error")
        return redirect(url_for("admin.incidents"))
    message = f"{len(outcome.done)} risolti"
    if outcome.failed:
        message += f", {len(outcome.failed)} non risolti (restano nell'elenco)"
    flash(message + ".", "success" if not outcome.failed else "error")
    return redirect(url_for("admin.incidents"))
