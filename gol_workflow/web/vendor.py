"""Front-end packages served from node_modules: only the distribution files the pages need."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, abort, current_app, send_from_directory

bp = Blueprint("vendor", __name__)

# URL prefix -> (folder inside node_modules, files or folders under it that may be served)
PACKAGES: dict[str, tuple[str, tuple[str, ...]]] = {
    "bootstrap-italia": (
        "bootstrap-italia/dist",
        ("css/bootstrap-italia.min.css", "js/bootstrap-italia.bundle.min.js", "svg/sprites.svg", "fonts/"),
    ),
    "htmx": ("htmx.org/dist", ("htmx.min.js",)),
    "chart.js": ("chart.js/dist", ("chart.umd.min.js",)),
    "bpmn-js": ("bpmn-js/dist", ("bpmn-navigated-viewer.production.min.js", "bpmn-viewer.production.min.js", "assets/")),
}
ONE_WEEK = 7 * 24 * 3600


# Bundles built at set-up time into web/static/vendor/ (scripts/build-modeler), never committed.
BUNDLES: dict[str, tuple[str, ...]] = {"modeler": ("modeler.js", "modeler.css")}


def allowed(package: str, path: str) -> Path | None:
    """The folder to serve `path` from, or None when it is not exposed."""
    if package in BUNDLES:
        return Path(current_app.static_folder or "web/static") / "vendor" / package if path in BUNDLES[package] else None
    entry = PACKAGES.get(package)
    if entry is None or ".." in Path(path).parts or path.startswith("/"):
        return None
    folder, exposed = entry
    if not any(path == item or (item.endswith("/") and path.startswith(item)) for item in exposed):
        return None
    return Path(current_app.config["NODE_MODULES"]) / folder


@bp.get("/static/vendor/<package>/<path:path>")
def asset(package: str, path: str) -> Response:
    """A whitelisted front-end file, cached for a week."""
    folder = allowed(package, path)
    if folder is None:
        abort(404)
    return send_from_directory(folder, path, max_age=ONE_WEEK)
