"""The analysts' modeler: draw, check, save a draft, compare, run the scenarios, see the impact, deploy."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, abort, jsonify, render_template, request, url_for

from ...bootstrap import bootstrap
from ...domain.errors import DeploymentFailed, InputRefused, NotFound
from ...domain.model import Problem
from ...forms.rendering import build_fields
from ...services.administration import process_catalog, process_drafts, version_history
from ..context import actor, runtime
from .blueprint import ID, bp

MAX_DIAGRAM = 5 * 1024 * 1024


def _problems(problems: list[Problem]) -> list[dict[str, Any]]:
    return [{"file": p.file, "riga": p.line, "elemento": p.element, "messaggio": p.message, "avviso": p.warning}
            for p in problems]


def _xml() -> str:
    body = request.get_json(silent=True) or {}
    xml = body.get("xml")
    if not isinstance(xml, str) or len(xml) > MAX_DIAGRAM:
        abort(400)
    return xml


@bp.get("/processi/<process_id>/modeler")
def modeler(process_id: str) -> str:
    """The modeler page on the newest draft, or on the deployed diagram."""
    try:
        entry = process_catalog.process_entry(runtime(), actor(), process_id)
        _, draft = process_drafts.current_diagram(runtime(), actor(), process_id)
    except NotFound:
        abort(404)
    urls = {
        "diagramma": url_for("admin.modeler_diagram", process_id=process_id),
        "pubblicata": url_for("admin.version_diagram", version_id=entry.versions[0].id),
        "verifica": url_for("admin.modeler_check", process_id=process_id),
        "bozze": url_for("admin.modeler_save", process_id=process_id),
        "scenari": url_for("admin.modeler_scenarios", process_id=process_id, draft_id=0),
        "impatto": url_for("admin.modeler_impact", process_id=process_id, draft_id=0),
        "pubblica": url_for("admin.modeler_publish", process_id=process_id, draft_id=0),
        "modulo": url_for("admin.modeler_form"),
    }
    return render_template("admin/modeler.html", entry=entry, draft=draft, urls=json.dumps(urls))


@bp.get("/processi/<process_id>/modeler/diagramma.bpmn")
def modeler_diagram(process_id: str) -> Response:
    """The diagram the modeler opens: the newest draft, else the deployed main file."""
    try:
        xml, _ = process_drafts.current_diagram(runtime(), actor(), process_id)
    except NotFound:
        abort(404)
    return Response(xml, mimetype="application/xml")


@bp.post("/processi/<process_id>/modeler/verifica")
def modeler_check(process_id: str) -> Response:
    """The service's own validation of the diagram as drawn (shown on its elements)."""
    try:
        problems = process_drafts.check(runtime(), actor(), process_id, _xml())
    except NotFound:
        abort(404)
    return jsonify(problemi=_problems(problems))


@bp.post("/processi/<process_id>/bozze")
def modeler_save(process_id: str) -> tuple[Response, int]:
    """Save the diagram as a draft with its version note (not deployed)."""
    body = request.get_json(silent=True) or {}
    try:
        draft_id = process_drafts.save(runtime(), actor(), process_id, _xml(), str(body.get("nota") or ""))
    except NotFound:
        abort(404)
    except InputRefused as exc:
        return jsonify(messaggio="Scrivere una nota di versione.", campi=exc.errors), 400
    return jsonify(id=draft_id), 201


@bp.post(f"/processi/<process_id>/bozze/<{ID}:draft_id>/scenari")
def modeler_scenarios(process_id: str, draft_id: int) -> Response:
    """Run the scenario files on the draft."""
    try:
        result = process_drafts.run_scenarios(runtime(), actor(), process_id, draft_id, bootstrap)
    except NotFound:
        abort(404)
    details = {f["name"]: f["text"] for f in result["failures"]}
    outcomes = [{"nome": r["name"], "superato": r["passed"], "dettaglio": details.get(r["name"])}
                for r in result["results"]]
    return jsonify(superati=result["passed"], falliti=result["failed"], errore=result["error"], esiti=outcomes)


@bp.get(f"/processi/<process_id>/bozze/<{ID}:draft_id>/impatto")
def modeler_impact(process_id: str, draft_id: int) -> Response | tuple[Response, int]:
    """Running cases on each version and how many could migrate to the draft."""
    try:
        found = process_drafts.impact(runtime(), actor(), process_id, draft_id)
    except NotFound:
        abort(404)
    except DeploymentFailed as exc:
        problems = [p for p in exc.problems if isinstance(p, Problem)]
        return jsonify(messaggio="la bozza ha dei problemi", problemi=_problems(problems)), 422
    return jsonify(versioni=[{"versione": v.version, "in_corso": v.running, "migrabili": v.migratable,
                              "controllati": v.checked} for v in found])


@bp.post(f"/processi/<process_id>/bozze/<{ID}:draft_id>/pubblica")
def modeler_publish(process_id: str, draft_id: int) -> tuple[Response, int]:
    """Deploy the draft as a new version."""
    try:
        report = process_drafts.publish(runtime(), actor(), process_id, draft_id)
    except NotFound:
        abort(404)
    except DeploymentFailed as exc:
        problems = [p for p in exc.problems if isinstance(p, Problem)]
        return jsonify(messaggio="la bozza ha dei problemi", problemi=_problems(problems)), 422
    deployed = next((p for p in report.processes if p.process_id == process_id), None)
    return jsonify(versione=deployed.version if deployed else None,
                   nuova=bool(deployed and deployed.changed)), 200


@bp.get("/processi/modulo")
def modeler_form() -> str:
    """A form as operators see it on the task page (no input is sent anywhere)."""
    try:
        name, schema = process_drafts.preview_form(runtime(), actor(), request.args.get("chiave", ""))
    except NotFound:
        return '<p class="text-danger">Il modulo indicato non esiste.</p>'
    return render_template("admin/_form_preview.html", name=name, schema=schema, fields=build_fields(schema))


@bp.get("/processi/<process_id>/versioni")
def versions(process_id: str) -> str:
    """Every version with note, author, date, what changed, scenarios and running cases."""
    try:
        records = version_history.history(runtime(), actor(), process_id)
        entry = process_catalog.process_entry(runtime(), actor(), process_id)
    except NotFound:
        abort(404)
    return render_template("admin/versions.html", entry=entry, records=records)
