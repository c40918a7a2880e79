"""`/api/v1/people/{codice_fiscale}`: the data subject's rights (GDPR art. 15), for administrators."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Response

from ..services.administration import subject_access
from .context import actor, runtime
from .openapi import Blueprint
from .schemas.people import AccessListSchema

bp = Blueprint("people", __name__, url_prefix="/api/v1/people",
               description="The data subject's rights: everything held about one person, and who read it")


@bp.get("/<string:codice_fiscale>/export")
@bp.alt_response(200, description="A ZIP archive: `leggimi.txt` (readable, Italian), `dati.json` (the same as JSON: "
                                  "cases with their data and case records, every event with who and when) and the "
                                  "documents under `allegati/`", content_type="application/zip")
@bp.problems(400, 403)
def export(codice_fiscale: str) -> Response:
    """Everything the service holds about the person (art. 15); administrators only, recorded on each case."""
    found = subject_access.gather(runtime(), actor(), codice_fiscale)
    return Response(subject_access.archive(found), 200, mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="dati-{found.codice_fiscale}.zip"'})


@bp.get("/<string:codice_fiscale>/accesses")
@bp.response(200, AccessListSchema)
@bp.problems(400, 403)
def accesses(codice_fiscale: str) -> dict[str, Any]:
    """Every read and change of the person's data, newest first; administrators only, and itself recorded."""
    items = [asdict(a) for a in subject_access.accesses(runtime(), actor(), codice_fiscale)]
    return {"items": items, "total": len(items)}
