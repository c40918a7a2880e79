"""Process definitions: versions with their use, the diff between two versions, deploy by upload."""

from __future__ import annotations

import json

from flask import Response, abort, flash, render_template, request

from ...domain.errors import InputRefused, NotFound, ValidationFailed
from ...services.administration import process_catalog
from ..context import actor, runtime
from .blueprint import ID, bp
from .texts import attributes, kind

MAX_FILE_BYTES = 5 * 1024 * 1024
UPLOAD_ERRORS = {
    "no-files": "Scegliere almeno un file .bpmn, .dmn o .schema.json.",
    "too-many-files": f"Al massimo {process_catalog.MAX_FILES} file alla volta.",
    "no-process-file": "Serve almeno un file .bpmn o .dmn.",
    "unsupported-file": "Sono ammessi solo file .bpmn, .dmn e .schema.json",
}


@bp.get("/processi")
def definitions() -> str:
    """Every process with its versions and instance counts."""
    return render_template("admin/definitions.html", entries=process_catalog.catalog(runtime(), actor()))


@bp.get("/processi/<process_id>")
def definition(process_id: str) -> str:
    """One process: its versions, and the form to compare two of them."""
    try:
        entry = process_catalog.process_entry(runtime(), actor(), process_id)
    except NotFound:
        abort(404)
    return render_template("admin/definition.html", entry=entry)


@bp.get("/processi/<process_id>/confronto")
def diff(process_id: str) -> str | tuple[str, int]:
    """Elements added, removed and changed between two versions."""
    old, new = request.args.get("da", type=int), request.args.get("a", type=int)
    if old is None or new is None or old == new:
        flash("Scegliere due versioni diverse da confrontare.", "error")
        return definition(process_id), 400
    try:
        result = process_catalog.diff_versions(runtime(), actor(), process_id, old, new)
    except NotFound:
        abort(404)
    return render_template("admin/diff.html", diff=result, kind=kind, attributes=attributes,
                           old_marks=json.dumps(_classes(result, ("removed", "changed"))),
                           new_marks=json.dumps(_classes(result, ("added", "changed"))))


def _classes(diff: process_catalog.VersionDiff, changes: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """Diagram markers for one side of a comparison: element id -> CSS class."""
    names = {"added": "gol-aggiunto", "removed": "gol-rimosso", "changed": "gol-modificato"}
    return {"classes": {c.element_id: names[c.change] for c in diff.elements if c.change in changes}}


@bp.get(f"/processi/versioni/<{ID}:version_id>/diagramma.bpmn")
def version_diagram(version_id: int) -> Response:
    """The main BPMN file of a version (for the diagram viewer)."""
    try:
        main, files = process_catalog.version_files(runtime(), actor(), version_id)
    except NotFound:
        abort(404)
    return Response(files.get(main, ""), mimetype="application/xml")


@bp.route("/processi/pubblica", methods=["GET", "POST"])
def deploy() -> str | tuple[str, int]:
    """Upload BPMN, DMN and form files: validate them and deploy a new version of what changed."""
    if request.method == "GET":
        return render_template("admin/deploy.html", report=None, error=None)
    files: dict[str, bytes] = {}
    for sent in request.files.getlist("file"):
        if sent and sent.filename:
            content = sent.read(MAX_FILE_BYTES + 1)
            if len(content) > MAX_FILE_BYTES:
                return render_template("admin/deploy.html", report=None,
                                       error=f"{sent.filename}: il file supera 5 MB."), 400
            files[sent.filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]] = content
    try:
        report = process_catalog.deploy_upload(runtime(), actor(), files)
    except ValidationFailed as exc:
        reason, detail = (exc.reason, exc.subject) if isinstance(exc, InputRefused) else ("", None)
        error = UPLOAD_ERRORS.get(reason, "Caricamento non valido.") + (f": {detail}." if detail else "")
        return render_template("admin/deploy.html", report=None, error=error), 400
    return render_template("admin/deploy.html", report=report, error=None), 400 if report.problems else 200
