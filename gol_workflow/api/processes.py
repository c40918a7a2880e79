"""`/api/v1/processes`: deployed processes and versions; the ones the caller may start, with their forms."""

from __future__ import annotations

from typing import Any

from ..services.cases import case_start
from ..services.administration import heat, process_catalog
from .context import actor, runtime
from .forms import with_choices
from .openapi import Blueprint
from .schemas.common import ID_IN_PATH
from .schemas.heat import CasesAtSchema, HeatArgsSchema, HeatSchema
from .schemas.processes import ProcessListSchema, StartableListSchema

bp = Blueprint("processes", __name__, url_prefix="/api/v1/processes", description="Deployed processes")


@bp.get("")
@bp.response(200, ProcessListSchema)
@bp.problems(403)
def index() -> dict[str, Any]:
    """Every deployed process with every version, its hash, deployer, date and instances (administrators, analysts)."""
    entries = process_catalog.catalog(runtime(), actor())
    return {"items": entries, "total": len(entries)}


@bp.get("/startable")
@bp.response(200, StartableListSchema)
@bp.problems()
def startable() -> dict[str, Any]:
    """The processes the caller may start, each with its start form (choices resolved for the caller)."""
    items = [{"process_id": s.process_id, "name": s.name, "form": with_choices(s.form, s.options)}
             for s in case_start.startable(runtime(), actor())]
    return {"items": items, "total": len(items)}


@bp.get(f"/<process_id>/versions/<{ID_IN_PATH}:version>/heat")
@bp.arguments(HeatArgsSchema, location="query", as_kwargs=True)
@bp.response(200, HeatSchema)
@bp.problems(400, 403, 404)
def version_heat(process_id: str, version: int, since: Any = None, until: Any = None) -> heat.Heat:
    """How many cases wait at each element now, and median and p90 time in each user task (administrators)."""
    return heat.heat_of(runtime(), actor(), process_id, version, since, until)


@bp.get(f"/<process_id>/versions/<{ID_IN_PATH}:version>/heat/<element_id>/cases")
@bp.response(200, CasesAtSchema)
@bp.problems(403, 404)
def cases_at(process_id: str, version: int, element_id: str) -> dict[str, Any]:
    """The cases waiting at an element now, the longest waiting first (at most 100; administrators)."""
    name, items = heat.cases_at(runtime(), actor(), process_id, version, element_id)
    return {"element_id": element_id, "name": name, "items": items}
