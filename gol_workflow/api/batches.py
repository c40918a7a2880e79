"""Migrating instances to a newer version, and any repair over a filtered set of instances (batches)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import Response, jsonify, url_for

from ..domain.errors import GolError
from ..services.access import authorization
from ..services.administration import batch, migration, operations
from .context import actor, runtime
from .instances import instance_filters
from .openapi import Blueprint
from .schemas.batches import (
    BatchArgsSchema,
    BatchBodySchema,
    BatchListSchema,
    BatchSchema,
    MigrateBodySchema,
    MigrationReportSchema,
)

bp = Blueprint("batches", __name__, url_prefix="/api/v1", description="Migrations and operations over many instances")

RECENT = 50
LOCATION = {"Location": {"description": "The batch to follow", "schema": {"type": "string"}}}


def _issue(item: Any, text: str) -> dict[str, Any]:
    return {"kind": item.kind, "element_id": item.element_id, "element_name": item.element_name, "text": text}


def _note_text(note: Any) -> str:
    where = note.element_name or note.element_id
    changed = f" (changed: {', '.join(note.attributes)})" if note.attributes else ""
    return {"timer_kept": f"{where} keeps waiting with the same due time",
            "task_reset": f"the open task {where} carries on in the new version{changed}; its draft is kept",
            }.get(note.kind, f"{where} is changed in the new version{changed}")


def _check(instance_id: str, target: int) -> dict[str, Any]:
    try:
        report = migration.check_migration(runtime(), actor(), instance_id, target)
    except GolError as exc:
        return _result(instance_id, operations.outcome_of(exc))
    ok = not report.issues
    return {"instance_id": instance_id, "ok": ok, "code": "ok" if ok else "refused",
            "message": f"can move from version {report.from_version} to {report.to_version}" if ok
            else f"cannot move from version {report.from_version} to {report.to_version}",
            "issues": [_issue(i, str(i)) for i in report.issues],
            "notes": [_issue(n, _note_text(n)) for n in report.notes]}


def _result(instance_id: str, outcome: operations.Outcome) -> dict[str, Any]:
    return {"instance_id": instance_id, "ok": outcome.ok, "code": outcome.code, "message": outcome.message,
            "issues": outcome.details or [], "notes": []}


@bp.post("/instances/migrate")
@bp.arguments(MigrateBodySchema)
@bp.response(200, MigrationReportSchema, description="Listed instances: each one's result")
@bp.alt_response(202, schema=BatchSchema, description="Filtered instances: the batch was queued",
                 headers=LOCATION, success=True)
@bp.problems(400, 403)
def migrate(body: dict[str, Any]) -> Any:
    """Move instances to a newer version of their process, keeping timer due dates and open-task drafts."""
    target = body["target_version_id"]
    if "filters" in body:
        return _queued(batch.start_batch(runtime(), actor(), "migrate", instance_filters(body["filters"]),
                                         body.get("reason"), target))
    authorization.require_admin(actor())  # refused as a whole, not instance by instance
    ids = [str(i) for i in dict.fromkeys(body["instance_ids"])]
    if body["dry_run"]:
        results = [_check(i, target) for i in ids]
    else:
        params = {"target_version_id": target, "reason": body["reason"]}
        results = [_result(i, operations.run_operation(runtime(), actor(), "migrate", i, params)) for i in ids]
    ok = sum(1 for r in results if r["ok"])
    return {"dry_run": body["dry_run"], "ok": ok, "failed": len(results) - ok, "results": results}


def _view(batch_id: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
    args = args or {"page": 1, "page_size": 25}
    size = args["page_size"]
    view = batch.batch_view(runtime(), actor(), batch_id, args.get("item_status"), size, (args["page"] - 1) * size)
    return {**view.job, "percent": view.percent, "counts": view.counts, "items": view.items,
            "page": args["page"], "page_size": size}


def _queued(batch_id: str) -> Response:
    """202 with the queued batch (serialised here: `migrate` documents another schema for its 200)."""
    response = jsonify(BatchSchema().dump(_view(batch_id)))
    response.status_code = 202
    response.headers["Location"] = url_for("batches.show", batch_id=batch_id)
    return response


@bp.post("/batches")
@bp.arguments(BatchBodySchema)
@bp.response(202, BatchSchema, headers=LOCATION)
@bp.problems(400, 403)
def create(body: dict[str, Any]) -> Response:
    """Queue suspend, resume, terminate, retry or migrate over every instance matching the filters."""
    return _queued(batch.start_batch(runtime(), actor(), body["operation"], instance_filters(body["filters"]),
                                     body.get("reason"), body.get("target_version_id")))


@bp.get("/batches")
@bp.response(200, BatchListSchema)
@bp.problems(403)
def index() -> dict[str, Any]:
    """The latest batches, newest first, with their progress."""
    items = batch.recent_batches(runtime(), actor(), RECENT)
    return {"items": items, "total": len(items)}


@bp.get("/batches/<uuid:batch_id>")
@bp.arguments(BatchArgsSchema, location="query", as_kwargs=True)
@bp.response(200, BatchSchema)
@bp.problems(400, 403, 404)
def show(batch_id: UUID, **args: Any) -> dict[str, Any]:
    """A batch's progress, counts and one page of per-instance results."""
    return _view(str(batch_id), args)


@bp.post("/batches/<uuid:batch_id>/cancel")
@bp.response(200, BatchSchema)
@bp.problems(403, 404, 409)
def cancel(batch_id: UUID) -> dict[str, Any]:
    """Stop a batch: the instances not done yet are skipped."""
    batch.cancel_batch(runtime(), actor(), str(batch_id))
    return _view(str(batch_id))
