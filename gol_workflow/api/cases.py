"""`/api/v1/cases`: the cases the caller may see, and one case's record."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from ..domain.errors import Forbidden
from ..services.cases import case_list
from ..services.workflow.inbox import actor_zones
from .context import actor, runtime
from .openapi import Blueprint
from .problems import Problem
from .schemas.cases import SORTS, CaseListArgsSchema, CaseListPageSchema, CaseRecordSchema

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
