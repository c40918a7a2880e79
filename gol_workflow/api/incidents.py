"""`/api/v1/incidents`: instances' errors from their first failure to their resolution, and the repairs made
from them (administrators)."""

from __future__ import annotations

from typing import Any

from flask import Response

from ..services.administration import incident_desk
from .context import actor, runtime
from .openapi import Blueprint
from .schemas.common import BIG_ID_IN_PATH
from .schemas.incidents import (
    AssignBodySchema,
    CommentBodySchema,
    EditBodySchema,
    GroupBodySchema,
    GroupOutcomeSchema,
    IncidentArgsSchema,
    IncidentGroupListSchema,
    IncidentPageSchema,
    IncidentSchema,
    NoteBodySchema,
    RepairedSchema,
    SkipBodySchema,
)

bp = Blueprint("incidents", __name__, url_prefix="/api/v1/incidents",
               description="Incidents: errors of instances, their repair, comments and resolution")


@bp.get("")
@bp.arguments(IncidentArgsSchema, location="query", as_kwargs=True)
@bp.response(200, IncidentPageSchema)
@bp.problems(400, 403)
def index(**args: Any) -> dict[str, Any]:
    """Incidents matching the filters, the latest failure first."""
    size, number = args["page_size"], args["page"]
    page = incident_desk.list_incidents(runtime(), actor(), args["status"], args.get("process"),
                                        args.get("version_id"), args.get("element"), args.get("kind"),
                                        args.get("assignee"), size, (number - 1) * size)
    return {"items": page.items, "total": page.total, "page": number, "page_size": size}


@bp.get("/groups")
@bp.response(200, IncidentGroupListSchema)
@bp.problems(403)
def groups() -> dict[str, Any]:
    """Open incidents grouped by process version, element and kind, the latest failure first."""
    return {"items": incident_desk.incident_groups(runtime(), actor())}


@bp.get(f"/<{BIG_ID_IN_PATH}:incident_id>")
@bp.response(200, IncidentSchema)
@bp.problems(403, 404)
def show(incident_id: int) -> incident_desk.Incident:
    """One incident with its comments and the actions it offers now."""
    return incident_desk.get_incident(runtime(), actor(), incident_id)


def _repaired(ok: bool, incident_id: int) -> dict[str, Any]:
    return {"resolved": ok, "incident": incident_desk.get_incident(runtime(), actor(), incident_id)}


@bp.post(f"/<{BIG_ID_IN_PATH}:incident_id>/retry")
@bp.response(200, RepairedSchema)
@bp.problems(403, 404, 409)
def retry(incident_id: int) -> dict[str, Any]:
    """Run the failed step again; `resolved` false when it failed again (one more attempt is counted)."""
    return _repaired(incident_desk.retry(runtime(), actor(), incident_id), incident_id)


@bp.post(f"/<{BIG_ID_IN_PATH}:incident_id>/skip")
@bp.arguments(SkipBodySchema)
@bp.response(200, RepairedSchema)
@bp.problems(400, 403, 404, 409)
def skip(body: dict[str, Any], incident_id: int) -> dict[str, Any]:
    """Complete the failed step without running it and go on (409 `skip-refused` for a gateway or subprocess)."""
    return _repaired(incident_desk.skip(runtime(), actor(), incident_id, body["reason"]), incident_id)


@bp.post(f"/<{BIG_ID_IN_PATH}:incident_id>/edit-and-retry")
@bp.arguments(EditBodySchema)
@bp.response(200, RepairedSchema)
@bp.problems(400, 403, 404, 409)
def edit_and_retry(body: dict[str, Any], incident_id: int) -> dict[str, Any]:
    """Set fields of the failed step's data and run it again, in one step (audited with before and after)."""
    ok = incident_desk.edit_and_retry(runtime(), actor(), incident_id, body["data"], body["reason"])
    return _repaired(ok, incident_id)


@bp.post(f"/<{BIG_ID_IN_PATH}:incident_id>/resolve")
@bp.arguments(NoteBodySchema)
@bp.response(204)
@bp.problems(400, 403, 404, 409)
def resolve(body: dict[str, Any], incident_id: int) -> Response:
    """Close an incident whose instance is no longer in error (409 `still-in-error` otherwise)."""
    incident_desk.resolve(runtime(), actor(), incident_id, body["note"])
    return Response(status=204)


@bp.post(f"/<{BIG_ID_IN_PATH}:incident_id>/comment")
@bp.arguments(CommentBodySchema)
@bp.response(204)
@bp.problems(400, 403, 404)
def comment(body: dict[str, Any], incident_id: int) -> Response:
    """Add a comment."""
    incident_desk.comment(runtime(), actor(), incident_id, body["text"])
    return Response(status=204)


@bp.post(f"/<{BIG_ID_IN_PATH}:incident_id>/assign")
@bp.arguments(AssignBodySchema, required=False)
@bp.response(204)
@bp.problems(400, 403, 404, 409)
def assign(body: dict[str, Any], incident_id: int) -> Response:
    """The caller looks at the incident (or, with `release`, nobody does)."""
    incident_desk.assign(runtime(), actor(), incident_id, to_me=not body.get("release", False))
    return Response(status=204)


def _group(body: dict[str, Any], action: str) -> dict[str, Any]:
    outcome = incident_desk.act_on_group(runtime(), actor(), body["process_version_id"], body["element_id"],
                                         body["kind"], action, body.get("reason"))
    return {"done": outcome.done, "failed": [{"id": i, "code": c} for i, c in outcome.failed.items()]}


@bp.post("/groups/retry")
@bp.arguments(GroupBodySchema)
@bp.response(200, GroupOutcomeSchema)
@bp.problems(400, 403, 404)
def group_retry(body: dict[str, Any]) -> dict[str, Any]:
    """Retry every open incident of a group (at most 200), each in its own step."""
    return _group(body, "retry")


@bp.post("/groups/skip")
@bp.arguments(GroupBodySchema)
@bp.response(200, GroupOutcomeSchema)
@bp.problems(400, 403, 404)
def group_skip(body: dict[str, Any]) -> dict[str, Any]:
    """Skip the failed step of every open incident of a group (at most 200); `reason` required."""
    return _group(body, "skip")


@bp.post("/groups/resolve")
@bp.arguments(GroupBodySchema)
@bp.response(200, GroupOutcomeSchema)
@bp.problems(400, 403, 404)
def group_resolve(body: dict[str, Any]) -> dict[str, Any]:
    """Close every open incident of a group whose instance is no longer in error; `reason` required."""
    return _group(body, "resolve")
