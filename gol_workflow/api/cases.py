"""`/api/v1/cases`: the cases the caller may see, and one case's record."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from flask import Response, current_app

from ..domain.errors import Forbidden, NotFound
from ..services.cases import attachments, case_document, case_file, case_list
from ..services.letters import listing
from .docs import NODE_MODULES_KEY
from ..services.workflow.inbox import actor_zones
from .context import actor, runtime
from .openapi import Blueprint
from .problems import Problem
from .schemas.cases import SORTS, CaseFileSchema, CaseListArgsSchema, CaseListPageSchema, LetterListSchema

# The design system's font, installed from npm with bootstrap-italia (as the web's printable PDFs).
FONT_DIR = "bootstrap-italia/dist/fonts/Titillium_Web"

bp = Blueprint("cases", __name__, url_prefix="/api/v1/cases",
               description="The cases the caller may see, with or without a ready task; one case's record")


@bp.get("")
@bp.arguments(CaseListArgsSchema, location="query", as_kwargs=True)
@bp.response(200, CaseListPageSchema)
@bp.problems(400, 403)
def list_cases(**args: Any) -> dict[str, Any]:
    """The caller's cases (case manager, invited service) and their zones' cases: filtered, sorted, one page."""
    rt, who = runtime(), actor()
    zone = args.get("zone")
    if zone is not None and zone not in rt.zones:
        raise Problem(400, "invalid-request", "Invalid request", f"unknown zone {zone!r}",
                      {"zone": [f"Unknown zone; known zones: {', '.join(sorted(rt.zones))}."]})
    if zone is not None and zone not in actor_zones(who, list(rt.zones)):
        raise Forbidden(f"zone {zone!r} is not one of your zones")
    query = case_list.CaseQuery(
        text=args.get("q"), zone=zone, status=args.get("status"), step=args.get("step"), overdue=args["overdue"],
        mine=args["mine"], sort=SORTS[args["sort"]], descending=args["order"] == "desc", page=args["page"],
        page_size=args["page_size"],
    )
    page = case_list.list_cases(rt, who, query)
    return {"items": page.items, "total": page.total, "total_exact": page.exact, "page": page.page,
            "page_size": page.page_size}


@bp.get("/<uuid:case_id>")
@bp.response(200, CaseFileSchema)
@bp.problems(404)
def show(case_id: UUID) -> dict[str, Any]:
    """The case's record and the story its file tells (each step's outcome in Italian); audited as a case file read."""
    found = case_file.open_case(runtime(), str(case_id), actor(), purpose="api")
    if found.record is None:
        raise NotFound("case not found")
    return {
        **found.record,
        "summary": [{"title": s.title, "facts": [{"label": l, "text": t} for l, t in s.facts]} for s in found.summary],
        "story": [{**vars(e), "outcome": [{"label": l, "text": t, "depth": d} for l, t, d in e.outcome]}
                  for e in found.story],
        "reads": [vars(r) for r in found.repeated],
        "attachments": [{"id": a["id"], "filename": a["filename"], "kind": a["kind"],
                         "kind_label": attachments.KINDS.get(a["kind"], "Allegato"), "size": a["size"],
                         "uploaded_at": a["uploaded_at"], "uploaded_by": found.person(a["uploaded_by"])}
                        for a in found.attachments],
        "actions": sorted(found.actions),
    }


@bp.get("/<uuid:case_id>/pdf")
@bp.doc(responses={"200": {"description": "The case file as a PDF for the person's dossier",
                           "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}})
@bp.problems(404)
def pdf(case_id: UUID) -> Response:
    """The case file as a PDF (facts, story with each step's outcome, reads, attachments); audited as a document read."""
    rt = runtime()
    found = case_file.open_case(rt, str(case_id), actor(), purpose="pdf")
    fonts = Path(current_app.config[NODE_MODULES_KEY]) / FONT_DIR
    content = case_document.render_pdf(found, rt.now(), ZoneInfo(rt.settings.timezone), fonts, attachments.KINDS)
    response = Response(content, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{case_document.filename_for(found)}"'
    return response


@bp.get("/<uuid:case_id>/letters")
@bp.response(200, LetterListSchema)
@bp.problems(404)
def letters(case_id: UUID) -> dict[str, Any]:
    """The letters to the person (convocation, each equipe decision, first appointment) and the project to sign."""
    return {"items": [asdict(item) for item in listing.letters_of(runtime(), str(case_id), actor())]}


@bp.get("/<uuid:case_id>/letters/<uuid:letter_id>")
@bp.response(200, description="The letter as a PDF (`application/pdf`), to print or send",
             content_type="application/pdf")
@bp.problems(404)
def letter(case_id: UUID, letter_id: UUID) -> Response:
    """One letter's PDF; the read is audited on the case."""
    found = listing.download_letter(runtime(), str(case_id), str(letter_id), actor())
    return Response(found.content, mimetype=found.content_type,
                    headers={"Content-Disposition": f'attachment; filename="{found.filename}"'})
