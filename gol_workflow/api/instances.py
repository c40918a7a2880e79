"""`/api/v1/instances`: start a case; list, inspect, suspend, resume, terminate, retry, edit and move instances."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import Response, url_for

from ..domain.errors import EditRefused, MoveRefused, NotFound, OpenCaseExists
from ..forms.cross_rules import CF_RULE
from ..services.cases import case_start
from ..services.administration import data_edits, instance_moves, instance_queries
from ..services.workflow import task_view
from ..services.workflow import instances as instance_service
from .context import actor, runtime
from .openapi import Blueprint
from .problems import Problem
from .schemas.repairs import DataEditBodySchema, DataEditSchema, MoveBodySchema, MoveSchema
from .schemas.instances import (
    MAX_OFFSET,
    DetailArgsSchema,
    InstanceArgsSchema,
    InstanceDetailSchema,
    InstancePageSchema,
    ReasonSchema,
    StartBodySchema,
    StartedSchema,
)

bp = Blueprint("instances", __name__, url_prefix="/api/v1/instances",
               description="Process instances: start, list, inspect and repair")


@bp.post("")
@bp.arguments(StartBodySchema)
@bp.response(201, StartedSchema, headers={"Location": {"description": "The new instance",
                                                       "schema": {"type": "string"}}})
@bp.problems(400, 403, 409)
def start(body: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Start the latest version of a process with the data of its start form.

    409 `open-case-exists` when the person (by codice fiscale) already has an open case of the
    process: the problem names it in `open_case_id`, `open_case_url` and `open_case_page` when the
    caller may see that case (otherwise it is not named). An administrator may
    open a second one with `allow_duplicate` and a `duplicate_reason` (audited).
    """
    rt, who = runtime(), actor()
    reason = body.get("duplicate_reason") if body["allow_duplicate"] else None
    try:
        confirmed = {CF_RULE} if body.get("confirm_codice_fiscale") else set()
        instance_id = case_start.open_case(rt, body["process"], body["data"], who, confirmed, duplicate_reason=reason)
    except NotFound as exc:
        raise Problem(400, "invalid-request", "Invalid request", exc.message, {"process": [exc.message]}) from None
    except OpenCaseExists as exc:
        named = {"open_case_id": exc.case_id, "open_case_url": url_for("instances.show", instance_id=exc.case_id),
                 "open_case_page": f"/casi/{exc.case_id}"} if exc.case_id else {}
        raise Problem(409, "open-case-exists", "Open case exists",
                      "This codice fiscale already has an open case of this process: no new case was opened.",
                      extra=named, code=exc.code) from None
    steps = task_view.after_completion(rt, instance_id, who, None)
    status = steps.case["status"] if steps.case else None
    location = url_for("instances.show", instance_id=instance_id)
    return {"id": instance_id, "status": status, "tasks": steps.mine}, 201, {"Location": location}


def instance_filters(args: dict[str, Any]) -> instance_queries.InstanceFilters:
    """The service's filters from the API's filter fields."""
    return instance_queries.InstanceFilters(
        statuses=tuple(args.get("status") or ()), process_id=args.get("process"), version=args.get("version"),
        zone=args.get("zone"), beneficiary=args.get("beneficiary"), started_from=args.get("started_from"),
        started_to=args.get("started_to"), has_error=args["has_error"], error_element=args.get("error_element"),
    )


@bp.get("")
@bp.arguments(InstanceArgsSchema, location="query", as_kwargs=True)
@bp.response(200, InstancePageSchema)
@bp.problems(400, 403)
def index(**args: Any) -> dict[str, Any]:
    """Instances matching the filters, newest first, with counts per status (administrators)."""
    size, number = args["page_size"], args["page"]
    by_cursor = bool(args.get("after") or args.get("before"))
    if not by_cursor and (number - 1) * size > MAX_OFFSET:
        raise Problem(400, "invalid-request", "Invalid request", "page too deep: follow next_cursor instead",
                      {"page": [f"At most {MAX_OFFSET} items can be skipped by page number; use `after`."]})
    request = instance_queries.PageRequest(size=size, after=args.get("after"), before=args.get("before"),
                                           offset=0 if by_cursor else (number - 1) * size)
    page = instance_queries.list_instances(runtime(), actor(), instance_filters(args), request, args["exact_counts"])
    return {"items": page.items, "total": page.total, "counts": page.counts, "page": None if by_cursor else number,
            "page_size": page.size, "next_cursor": page.next_cursor, "prev_cursor": page.prev_cursor,
            "capped": page.capped}


@bp.get("/<uuid:instance_id>")
@bp.arguments(DetailArgsSchema, location="query", as_kwargs=True)
@bp.response(200, InstanceDetailSchema)
@bp.problems(403, 404)
def show(instance_id: UUID, reveal: bool) -> instance_queries.InstanceDetail:
    """Status, version, data, ready tasks, waiting timers with due_at, history and audit (the read is audited)."""
    return instance_queries.instance_detail(runtime(), actor(), str(instance_id), reveal=reveal)


@bp.post("/<uuid:instance_id>/suspend")
@bp.arguments(ReasonSchema, required=False)
@bp.response(204)
@bp.problems(400, 403, 404, 409)
def suspend(body: dict[str, Any], instance_id: UUID) -> Response:
    """Stop the instance: no timers, messages or completions until it is resumed."""
    instance_service.suspend(runtime(), str(instance_id), actor(), body.get("reason"))
    return Response(status=204)


@bp.post("/<uuid:instance_id>/resume")
@bp.response(204)
@bp.problems(403, 404, 409)
def resume(instance_id: UUID) -> Response:
    """Let a suspended instance move again; the timers it missed fire at once."""
    instance_service.resume(runtime(), str(instance_id), actor())
    return Response(status=204)


@bp.post("/<uuid:instance_id>/terminate")
@bp.arguments(ReasonSchema, required=False)
@bp.response(204)
@bp.problems(400, 403, 404, 409)
def terminate(body: dict[str, Any], instance_id: UUID) -> Response:
    """End the instance for good; its open tasks leave every inbox."""
    instance_service.terminate(runtime(), str(instance_id), actor(), body.get("reason"))
    return Response(status=204)


@bp.post("/<uuid:instance_id>/retry")
@bp.response(204)
@bp.problems(403, 404, 409)
def retry(instance_id: UUID) -> Response:
    """Run the failed step of an instance in error again (after a fix)."""
    instance_service.retry(runtime(), str(instance_id), actor())
    return Response(status=204)


@bp.route("/<uuid:instance_id>/data", methods=["PATCH"])
@bp.arguments(DataEditBodySchema)
@bp.response(200, DataEditSchema)
@bp.problems(400, 403, 404, 409)
def edit_data(body: dict[str, Any], instance_id: UUID) -> dict[str, Any]:
    """A checked edit of the case's data: every field must fit the process (its forms' JSON Schemas, a known
    zone); the case's open tasks and equipe agenda follow a new zone, or the edit is refused.

    400 `validation-failed` with `errors` per field (`changes.<field>`) changes nothing. `dry_run` answers
    the consequences (tasks moving zone, meetings left and joined, case record facts) without saving.
    """
    try:
        plan = data_edits.edit(runtime(), actor(), str(instance_id), body["changes"], body["reason"],
                               removed=body["remove"], dry_run=body["dry_run"])
    except EditRefused as exc:
        raise Problem(400, "validation-failed", "Validation failed",
                      "The edit does not fit what the process declares; nothing was changed.", exc.errors,
                      code=exc.code) from None
    return plan.as_dict()


@bp.post("/<uuid:instance_id>/move")
@bp.arguments(MoveBodySchema)
@bp.response(200, MoveSchema)
@bp.problems(400, 403, 404, 409)
def move(body: dict[str, Any], instance_id: UUID) -> dict[str, Any]:
    """Move the case: `back_to` a completed task (done again; its earlier answers are kept to show),
    `skip` the open task (recorded as skipped, by whom and why), or `cancel_branch` of an open task.

    `dry_run` answers exactly which tasks and waits the move creates and cancels, the equipe agendas and
    appointments it releases and the case record facts it clears. An unsafe move is 409 `move-refused`
    with `code` saying why: `multi-instance`, `call-activity`, `suspended-by-other`, `error-untouched`,
    `would-fail` (with `element` and `engine_detail`), `discussion-running`, `only-branch`,
    `branch-decides`, `not-completed`, `not-open`, `not-a-user-task`, `unknown-task`, `ended`.
    """
    try:
        plan = instance_moves.move(runtime(), actor(), str(instance_id), body["kind"], body["reason"],
                                   task_id=body.get("task_id"), element=body.get("element"),
                                   dry_run=body["dry_run"], prefill=body["prefill"])
    except MoveRefused as exc:
        extra = {key: value for key, value in (("element", exc.element), ("engine_detail", exc.detail)) if value}
        raise Problem(409, "move-refused", "Move refused", exc.message, code=exc.reason, extra=extra) from None
    return plan.as_dict()
