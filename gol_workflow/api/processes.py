"""`/api/v1/processes`: deployed processes and versions; the ones the caller may start, with their forms."""

from __future__ import annotations

from typing import Any

from ..services.cases import case_start
from ..services.administration import process_catalog
from .context import actor, runtime
from .forms import with_choices
from .openapi import Blueprint
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
