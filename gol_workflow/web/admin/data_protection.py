"""Data protection: one person's data (art. 15 archive, who read or changed it) and unusual reading."""

from __future__ import annotations

from flask import Response, render_template, request

from ...domain.errors import ValidationFailed
from ...services.administration import subject_access
from ..context import actor, runtime
from .blueprint import bp

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
                           days=days, periods=PERIODS)


@bp.post("/protezione-dati/archivio")
def data_export() -> Response:
    """The art. 15 archive of one person, as a download."""
    found = subject_access.gather(runtime(), actor(), request.form.get("codice_fiscale", ""))
    return Response(subject_access.archive(found), 200, mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="dati-{found.codice_fiscale}.zip"'})
