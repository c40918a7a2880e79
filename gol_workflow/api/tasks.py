"""`/api/v1/tasks`: the caller's inbox, one task with its form, claim, release, complete."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import Response

from ..domain.errors import Forbidden
from ..services.workflow import inbox as inbox_service
from ..services.workflow import task_view
from ..services.workflow import tasks as task_service
from .context import actor, runtime
from .forms import with_choices
from .openapi import Blueprint
from .problems import Problem
from .schemas.tasks import (
    QUEUES,
    SORTS,
    CompleteBodySchema,
    CompletionSchema,
    InboxArgsSchema,
    InboxPageSchema,
    TaskDetailSchema,
)

bp = Blueprint("tasks", __name__, url_prefix="/api/v1/tasks",
               description="The caller's inbox; a task with its form; claim, release and complete")


def _query(args: dict[str, Any]) -> inbox_service.InboxQuery:
    rt, who = runtime(), actor()
    zone = args.get("zone")
    if zone is not None and zone not in rt.zones:
        raise Problem(400, "invalid-request", "Invalid request", f"unknown zone {zone!r}",
                      {"zone": [f"Unknown zone; known zones: {', '.join(sorted(rt.zones))}."]})
    if zone is not None and zone not in inbox_service.actor_zones(who, list(rt.zones)):
        raise Forbidden(f"zone {zone!r} is not one of your zones")
    return inbox_service.InboxQuery(
        zone=zone, element_id=args.get("element"), overdue=args["overdue"], beneficiary=args.get("q"),
        queue=QUEUES[args["queue"]], sort=SORTS[args["sort"]], descending=args["order"] == "desc",
        page=args["page"], page_size=args["page_size"],
    )


@bp.get("")
@bp.arguments(InboxArgsSchema, location="query", as_kwargs=True)
@bp.response(200, InboxPageSchema)
@bp.problems(400, 403)
def inbox(**args: Any) -> dict[str, Any]:
    """The ready tasks the caller may work: filtered, sorted, one page, with counts per queue."""
    page = inbox_service.inbox(runtime(), actor(), _query(args))
    counts = {name: page.counts[queue] for name, queue in QUEUES.items()}
    return {"items": page.items, "total": page.total, "page": page.page, "page_size": page.page_size,
            "counts": counts}


@bp.get("/<uuid:task_id>")
@bp.response(200, TaskDetailSchema)
@bp.problems(404, 409)
def show(task_id: UUID) -> dict[str, Any]:
    """A ready task with its JSON Schema form (choices resolved for the caller); the read is audited."""
    view = task_view.open_task(runtime(), str(task_id), actor())
    return {**view.task, "form": with_choices(view.form, view.options), "values": view.values,
            "previous_values": view.previous, "instructions": view.instructions, "history": view.timeline}


@bp.post("/<uuid:task_id>/claim")
@bp.response(204)
@bp.problems(403, 404, 409)
def claim(task_id: UUID) -> Response:
    """Take the task, so colleagues see that someone works on it (409 when someone else holds it)."""
    task_service.claim(runtime(), str(task_id), actor())
    return Response(status=204)


@bp.post("/<uuid:task_id>/unclaim")
@bp.response(204)
@bp.problems(403, 404, 409)
def unclaim(task_id: UUID) -> Response:
    """Give the task back to the shared queue (its holder or an administrator)."""
    task_service.unclaim(runtime(), str(task_id), actor())
    return Response(status=204)


@bp.post("/<uuid:task_id>/complete")
@bp.arguments(CompleteBodySchema)
@bp.response(200, CompletionSchema)
@bp.problems(400, 403, 404, 409)
def complete(body: dict[str, Any], task_id: UUID) -> task_service.CompletionResult:
    """Complete the task with its form data: 400 with per-field errors, 409 if someone else completed it first."""
    return task_service.complete_task(runtime(), str(task_id), body["data"], actor())
