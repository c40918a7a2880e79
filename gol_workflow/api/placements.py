"""`/api/v1/cases/{id}/placements`: the placements recorded during a case's path."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from ..services.cases import placements
from .context import actor, runtime
from .openapi import Blueprint
from .schemas.indicators import CreatedSchema, PlacementInSchema, PlacementListSchema

bp = Blueprint("placements", __name__, url_prefix="/api/v1/cases",
               description="Placements during the path (tirocinio, job, social-inclusion placement, "
                           "sheltered workshop)")


@bp.get("/<uuid:case_id>/placements")
@bp.response(200, PlacementListSchema)
@bp.problems(404)
def index(case_id: UUID) -> dict[str, Any]:
    """A case's placements, earliest first."""
    items = placements.placements_of(runtime(), str(case_id), actor())
    return {"items": items, "total": len(items)}


@bp.post("/<uuid:case_id>/placements")
@bp.arguments(PlacementInSchema)
@bp.response(201, CreatedSchema)
@bp.problems(400, 403, 404, 409)
def create(values: dict[str, Any], case_id: UUID) -> tuple[dict[str, Any], int]:
    """Record a placement (CPI and SdS of the zone, the case manager); 409 before the path has started."""
    return {"id": placements.record_placement(runtime(), str(case_id), values, actor())}, 201
