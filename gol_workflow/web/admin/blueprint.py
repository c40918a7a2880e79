"""The admin console blueprint: every page for administrators; process definitions also for analysts."""

from __future__ import annotations

from flask import Blueprint, abort, request

from ...domain.model import MAX_ID
from ...services.access import authorization
from .. import context

bp = Blueprint("admin", __name__, url_prefix="/admin")
# Ids in admin URLs: beyond the database's 32-bit integers the route does not match (404), not a server error.
ID = f"int(max={MAX_ID})"

# Pages analysts may open too: the process definitions and deploying new versions.
ANALYST_ENDPOINTS = frozenset({
    "admin.definitions", "admin.definition", "admin.diff", "admin.deploy", "admin.version_diagram",
    "admin.modeler", "admin.modeler_diagram", "admin.modeler_check", "admin.modeler_save", "admin.modeler_scenarios",
    "admin.modeler_impact", "admin.modeler_publish", "admin.modeler_form", "admin.versions",
})


def may_open(role: str, endpoint: str | None) -> bool:
    """Deny by default: administrators everywhere, those who deploy (analysts) on the process definitions only."""
    if authorization.is_admin_role(role):
        return True
    return authorization.may_deploy(role) and endpoint in ANALYST_ENDPOINTS


@bp.before_request
def _guard() -> None:
    user = context.current_user()
    if user is None:
        abort(401)  # the app-wide login check normally redirects first
    if not may_open(user.role, request.endpoint):
        abort(403)
