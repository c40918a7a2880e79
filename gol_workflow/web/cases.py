"""The case file: summary, history, open tasks, documents (scheda di esito as page and PDF), attachments."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for

from ..domain.errors import ConfirmationNeeded, Forbidden, InvalidState, OpenCaseExists, ValidationFailed
from ..domain.model import Actor
from ..forms.coercion import coerce
from ..forms.cross_rules import CONFIRM_LABELS, CONFIRMABLE
from ..forms import summary
from ..forms.rendering import build_fields, error_summary
from ..services.access import authorization
from ..services.cases import attachments, case_document, case_start, monitoring, placements, scheda_document
from ..services.letters.listing import letters_in
from ..services.cases import case_file as case_service
from ..services.workflow.runtime import Runtime
from .context import actor, runtime

# The design system's font, installed from npm with bootstrap-italia, for the printable PDF.
FONT_DIR = "bootstrap-italia/dist/fonts/Titillium_Web"

bp = Blueprint("cases", __name__, url_prefix="/casi")

OPEN_CASE_MESSAGE = "Per questo codice fiscale c'è già un caso aperto: non ne è stato aperto un altro."
UNSEEN_OPEN_CASE_MESSAGE = ("Per questo codice fiscale c'è già un caso aperto, seguito da un'altra zona o da un altro "
                            "servizio: non ne è stato aperto un altro. Per chiarimenti si rivolga all'amministratore.")


@bp.get("/<case_id>")
def show(case_id: str) -> str:
    """The case file (the read is audited)."""
    case_file = case_service.open_case(runtime(), case_id, actor())
    return render_template("cases/case.html", file=case_file, case=case_file.case,
                           kinds=attachments.KINDS, upload_kinds=attachments.UPLOAD_KINDS,
                           allowed=attachments.ALLOWED_LABEL,
                           can_place=placements.ACTION in case_file.actions, placements=case_file.placements,
                           placement_kinds=placements.KINDS, placement_sectors=placements.SECTORS,
                           letters=letters_in(case_file))


@bp.post("/<case_id>/monitoraggio")
def request_monitoring(case_id: str) -> Response:
    """Ask for a monitoring in itinere of a case in its 12-month path."""
    return _case_request(case_id, lambda rt, who: monitoring.request_monitoring(
        rt, case_id, request.form.get("motivo", ""), who),
        "Richiesta di monitoraggio inviata: il case manager la trova tra le sue attività.")


@bp.post("/<case_id>/modifica-sostanziale")
def report_change(case_id: str) -> Response:
    """Report a substantial change of the project (confirmed): the case manager gets a monitoring that says so."""
    if request.form.get("conferma") != "1":
        # Seeing and being allowed are checked before the missing confirmation is pointed out.
        if "case.report_change" not in case_service.allowed_actions(runtime(), case_id, actor()):
            abort(403)
        flash("Per segnalare la modifica sostanziale, confermare che va riportata in equipe.", "error")
        return redirect(url_for("cases.show", case_id=case_id, _anchor="titolo-modifica"))
    return _case_request(case_id, lambda rt, who: monitoring.report_change(
        rt, case_id, request.form.get("descrizione", ""), who),
        "Modifica sostanziale segnalata: il case manager la trova tra le sue attività come monitoraggio.")


def _case_request(case_id: str, send: Callable[[Runtime, Actor], object], done: str) -> Response:
    try:
        send(runtime(), actor())
    except ValidationFailed as exc:
        for messages in exc.errors.values():
            for message in messages:
                flash(message, "error")
    except Forbidden:
        abort(403)  # they may see the case (otherwise NotFound), not act on it
    except InvalidState:
        flash("In questo momento il caso non può ricevere richieste: lo si può fare durante il percorso di 12 mesi, "
              "fuori da un monitoraggio o da una revisione in corso.", "warning")
    else:
        flash(done, "success")
    return redirect(url_for("cases.show", case_id=case_id))


@bp.get("/<case_id>/fascicolo.pdf")
def file_pdf(case_id: str) -> Response:
    """The whole case file as a PDF for the person's dossier (audited as a read of the document)."""
    rt = runtime()
    case_file = case_service.open_case(rt, case_id, actor(), purpose="pdf")
    content = case_document.render_pdf(case_file, rt.now(), ZoneInfo(rt.settings.timezone),
                                       Path(current_app.config["NODE_MODULES"]) / FONT_DIR, attachments.KINDS)
    return _file(content, "application/pdf", case_document.filename_for(case_file), inline=False)


@bp.get("/<case_id>/scheda-esito")
def scheda(case_id: str) -> str:
    """The scheda di esito as a printable page."""
    doc = case_service.scheda_esito(runtime(), case_id, actor())
    return render_template("cases/scheda.html", doc=doc, rows=summary.rows(doc.values, doc.form or {}))


@bp.get("/<case_id>/scheda-esito.pdf")
def scheda_pdf(case_id: str) -> Response:
    """The scheda di esito as a PDF file."""
    doc = case_service.scheda_esito(runtime(), case_id, actor(), as_pdf=True)
    header = scheda_document.SchedaHeader(
        beneficiary=doc.case.get("beneficiary_name") or "",
        codice_fiscale=doc.case.get("codice_fiscale") or "",
        zone=doc.case.get("zone") or "",
        meeting_at=None,
    )
    fonts = Path(current_app.config["NODE_MODULES"]) / FONT_DIR
    tz = ZoneInfo(runtime().settings.timezone)
    content = scheda_document.render_pdf(header, doc.values, doc.form or {}, tz, fonts)
    name = f"scheda-esito-{doc.case.get('codice_fiscale') or case_id}.pdf"
    return _file(content, "application/pdf", name, inline=True)


@bp.post("/<case_id>/allegati")
def upload(case_id: str) -> Response | tuple[str, int]:
    """Attach a file to the case."""
    sent = request.files.get("file")
    try:
        if sent is None or not sent.filename:
            raise ValidationFailed("file mancante", {"file": ["Scegliere un file da caricare."]})
        try:
            content = sent.read(attachments.MAX_BYTES + 1)
        finally:
            sent.close()
        attachments.upload(runtime(), case_id, sent.filename, content, request.form.get("tipo", "allegato"), actor())
    except Forbidden:
        abort(403)  # they may see the case (otherwise NotFound), not attach to it
    except ValidationFailed as exc:
        for messages in exc.errors.values():
            for message in messages:
                flash(message, "error")
        return redirect(url_for("cases.show", case_id=case_id, _anchor="allegati"))
    flash("Allegato caricato.", "success")
    return redirect(url_for("cases.show", case_id=case_id, _anchor="allegati"))


@bp.get("/<case_id>/allegati/<attachment_id>")
def download(case_id: str, attachment_id: str) -> Response:
    """Download an attachment (the read is audited)."""
    found = attachments.download(runtime(), case_id, attachment_id, actor())
    return _file(found.content, found.content_type, found.filename, inline=False)


def _file(content: bytes, content_type: str, filename: str, inline: bool) -> Response:
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    disposition = "inline" if inline else "attachment"
    response = Response(content, mimetype=content_type)
    response.headers["Content-Disposition"] = f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.get("/nuovo")
def new() -> str | Response:
    """The processes this person may open a case of (straight to the form when there is one)."""
    items = case_start.startable(runtime(), actor())
    if not items:
        abort(403)
    if len(items) == 1:
        return redirect(url_for("cases.start", process_id=items[0].process_id))
    return render_template("cases/new.html", items=items)


@bp.route("/nuovo/<process_id>", methods=["GET", "POST"])
def start(process_id: str) -> str | Response | tuple[str, int]:
    """The start form of a process; on POST open the case."""
    rt, who = runtime(), actor()
    try:
        item = case_start.find_startable(rt, who, process_id)
    except Forbidden:
        abort(403)
    schema = item.form or {"properties": {}}
    values, errors, status, open_case = {}, None, 200, None
    confirmations: list[tuple[str, str]] = []
    reason = request.form.get("motivo_secondo_caso", "")
    if request.method == "POST":
        values = coerce(schema, request.form, rt.settings.timezone)
        confirmed = set(request.form.getlist("conferma")) & CONFIRMABLE
        override = reason if authorization.is_admin(who) and request.form.get("secondo_caso") == "1" else None
        try:
            case_id = case_start.open_case(rt, process_id, values, who, confirmed, duplicate_reason=override)
        except ConfirmationNeeded as exc:
            errors, status = exc.errors, 400
            confirmations = [(name, CONFIRM_LABELS[name]) for name in exc.confirmations if name in CONFIRM_LABELS]
        except ValidationFailed as exc:
            errors, status = exc.errors, 400
            if "duplicate_reason" in exc.errors:
                open_case = request.form.get("caso_aperto")
        except OpenCaseExists as exc:
            message = OPEN_CASE_MESSAGE if exc.case_id else UNSEEN_OPEN_CASE_MESSAGE
            errors, status, open_case = {"_form": [message]}, 409, exc.case_id
        except Forbidden:
            errors, status = {case_start.zone_field(rt, item): ["Può aprire casi solo nelle sue zone."]}, 400
        else:
            return redirect(url_for("tasks.done", case_id=case_id, aperto="1"))
    fields = build_fields(schema, values, errors, item.options)
    general = [m for key in ("_form", "duplicate_reason") for m in (errors or {}).get(key, [])]
    return render_template("cases/start.html", item=item, fields=fields, summary=error_summary(fields),
                           general_errors=general, has_errors=bool(errors), open_case=open_case,
                           may_override=authorization.is_admin(who), reason=reason, confirmations=confirmations), status
