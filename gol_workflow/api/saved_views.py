"""`/api/v1/saved-views`: an administrator's saved filters of the instance list."""

from __future__ import annotations

from typing import Any

from flask import Response

from ..services.administration import saved_views
from .context import actor, runtime
from .openapi import Blueprint
from .schemas.common import ID_IN_PATH
from .schemas.heat import SavedViewBodySchema, SavedViewListSchema, SavedViewSchema

bp = Blueprint("saved_views", __name__, url_prefix="/api/v1/saved-views",
               description="Saved views of the instance list (each administrator's own)")


@bp.get("")
@bp.response(200, SavedViewListSchema)
@bp.problems(403)
def index() -> dict[str, Any]:
    """The caller's saved views, by name."""
    return {"items": saved_views.list_views(runtime(), actor())}


@bp.post("")
@bp.arguments(SavedViewBodySchema)
@bp.response(201, SavedViewSchema)
@bp.problems(400, 403)
def create(body: dict[str, Any]) -> saved_views.SavedView:
    """Save a filter under a name (the caller's view of the same name is replaced)."""
    return saved_views.save_view(runtime(), actor(), body["name"], body["query"])


@bp.delete(f"/<{ID_IN_PATH}:view_id>")
@bp.response(204)
@bp.problems(403, 404)
def delete(view_id: int) -> Response:
    """Delete one of the caller's views."""
    saved_views.delete_view(runtime(), actor(), view_id)
    return Response(status=204)
