"""The scheduler: heartbeats (a stale one is a warning), what falls due next, meetings, the outbox."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for

from ...domain.errors import InvalidState, NotFound
from ...services.administration.scheduler_overview import overview, retry_meeting, send_now
from ..context import actor, runtime
from .blueprint import ID, bp

MAIL_STATUS = {"pending": "In attesa", "sending": "In invio", "sent": "Inviata", "failed": "Rifiutata",
               "expired": "Scaduta"}
DUE_KINDS = {"timer": "Timer", "meeting": "Chiusura ordine del giorno", "mail": "E-mail"}


@bp.get("/scheduler")
def scheduler() -> str:
    """Liveness, next timers and meetings, the outbox."""
    view = overview(runtime(), actor(), request.args.get("posta"))
    return render_template("admin/scheduler.html", view=view, mail_status=MAIL_STATUS, due_kinds=DUE_KINDS)


@bp.post(f"/scheduler/posta/<{ID}:message_id>/invia")
def mail_now(message_id: int) -> Response:
    """Send a waiting or refused e-mail at the next pass instead of after its back-off."""
    try:
        send_now(runtime(), actor(), message_id)
        flash("L'e-mail sarà inviata al prossimo passaggio dello scheduler.", "success")
    except InvalidState:
        flash("Questa e-mail è già stata inviata o è in invio.", "error")
    return redirect(url_for("admin.scheduler", posta=request.form.get("posta") or None))


@bp.post("/scheduler/riunioni/<meeting_id>/riprova")
def meeting_retry(meeting_id: str) -> Response:
    """Convene again a meeting whose convening failed (after the cause was fixed)."""
    try:
        retry_meeting(runtime(), actor(), meeting_id)
        flash("La riunione sarà convocata al prossimo passaggio dello scheduler.", "success")
    except NotFound:
        flash("Questa riunione non esiste.", "error")
    except InvalidState:
        flash("Solo una riunione la cui convocazione non è riuscita può essere convocata di nuovo.", "error")
    return redirect(url_for("admin.scheduler", _anchor="titolo-riunioni"))
