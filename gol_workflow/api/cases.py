"""`/api/v1/cases`: the cases the caller may see, and one case's record."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any
from uuid import UUID

from flask import Response

from ..domain.errors import Forbidden
from ..services.cases import case_list
from ..services.letters import listing
from ..services.workflow.inbox import actor_zones
from .context import actor, runtime
from .openapi import Blueprint
from .problems import Problem
from .schemas.cases import SORTS, CaseListArgsSchema, CaseListPageSchema, CaseRecordSchema, LetterListSchema

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
@bp.response(200, CaseRecordSchema)
@bp.problems(404)
def show(case_id: UUID) -> dict[str, Any]:
    """Every fact of one case's record; the read is audited as a case file read."""
    return case_list.case_record(runtime(), str(case_id), actor())


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
