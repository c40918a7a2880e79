"""One instance: diagram with its markers, waits, open tasks, task history, masked data, audit trail."""

from __future__ import annotations

import json
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, abort, render_template, request

from ...domain.errors import NotFound
from ...services.administration import incident_desk, instance_queries
from ...services.cases.data_masking import MASK
from ..context import actor, runtime
from .blueprint import bp
from .texts import OPERATIONS, STATE_NAMES, kind


def markers(detail: instance_queries.InstanceDetail, timezone: str) -> dict[str, Any]:
    """What the diagram script draws: element states, waiting timers with due times, the failed element."""
    tz = ZoneInfo(timezone)
    waiting = []
    for w in detail.waiting:
        due = w.due_at.astimezone(tz) if w.due_at else None
        label = f"{due:%d/%m/%Y %H:%M}" if due else (f"messaggio {w.message}" if w.message else "")
        name = detail.element_names.get(w.element_id, w.element_id)
        title = f"{name}: scade il {due:%d/%m/%Y} alle {due:%H:%M}" if due else f"{name}: in attesa di {label}"
        waiting.append({"element": w.element_id, "kind": w.kind, "due": due.isoformat() if due else None,
                        "label": label, "title": title})
    return {"states": detail.element_states, "waiting": waiting, "failed": (detail.error or {}).get("element_id"),
            "path": [p["element_id"] for p in detail.path]}


def render_detail(instance_id: str, revealed: dict[str, Any] | None = None,
                  revealed_events: dict[int, dict[str, Any]] | None = None, status: int = 200,
                  **extra: Any) -> tuple[str, int]:
    """The instance page, with the fields opened in this request shown in clear."""
    detail = instance_queries.instance_detail(runtime(), actor(), instance_id)
    incident_id = incident_desk.open_incident_id(runtime(), actor(), instance_id) if detail.error else None
    return render_template(
        "admin/instance.html", detail=detail, s=detail.summary, markers=json.dumps(markers(detail, runtime().settings.timezone)),
        revealed=revealed or {}, revealed_events=revealed_events or {}, mask=MASK, operations=OPERATIONS,
        pretty=_pretty, element_kind=lambda name: kind(name[:1].upper() + name[1:]), state_names=STATE_NAMES,
        incident_id=incident_id, **extra), status


def _pretty(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True, default=str)


@bp.get("/istanze/<instance_id>")
def instance(instance_id: str) -> tuple[str, int]:
    """The instance page (the read is audited as an administrator's read of case data)."""
    return render_detail(instance_id)


@bp.get("/istanze/<instance_id>/diagramma.bpmn")
def instance_diagram(instance_id: str) -> Response:
    """The BPMN of the version the instance is pinned to (for the diagram viewer)."""
    return Response(instance_queries.diagram_of(runtime(), actor(), instance_id), mimetype="application/xml")


@bp.post("/istanze/<instance_id>/mostra")
def reveal(instance_id: str) -> tuple[str, int]:
    """Open a masked field (or the data of one completed task); the opening is audited."""
    rt, who = runtime(), actor()
    key = (request.form.get("campo") or "").strip()
    event = request.form.get("evento") or ""
    try:
        if event.isdigit():
            data = instance_queries.reveal_task_data(rt, who, instance_id, int(event))
            if request.headers.get("HX-Request"):
                return render_template("admin/_revealed.html", value=_pretty(data), label="Dati inseriti"), 200
            return render_detail(instance_id, revealed_events={int(event): data})
        value = instance_queries.reveal_value(rt, who, instance_id, key)
    except NotFound:
        abort(404)
    if request.headers.get("HX-Request"):
        return render_template("admin/_revealed.html", value=_pretty(value), label=key), 200
    return render_detail(instance_id, revealed={key: value})
