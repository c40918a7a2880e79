"""`/api/docs`: the API document as a readable page (Swagger UI, from the npm packages installed at set-up)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, current_app, send_from_directory

from .problems import Problem

bp = Blueprint("api_docs", __name__, url_prefix="/api/docs")

NODE_MODULES_KEY = "NODE_MODULES"
PACKAGE = "swagger-ui-dist"
ASSETS = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png"})
ONE_WEEK = 7 * 24 * 3600
# Swagger UI sets style attributes from script, hence 'unsafe-inline' for styles on this page only.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>gol-workflow API</title>
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <link rel="icon" type="image/png" href="/api/docs/assets/favicon-32x32.png">
  <link rel="stylesheet" href="/api/docs/assets/swagger-ui.css">
</head>
<body>
  <main id="swagger-ui" data-url="/api/openapi.json"></main>
  <script src="/api/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/api/docs/start.js"></script>
</body>
</html>
"""

START = """window.addEventListener("load", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({url: root.dataset.url, dom_id: "#swagger-ui", deepLinking: true,
                               validatorUrl: null, persistAuthorization: false});
});
"""


def _folder() -> Path:
    folder = Path(current_app.config[NODE_MODULES_KEY]) / PACKAGE
    if not folder.is_dir():
        raise Problem(404, "not-found", "Not found",
                      "The documentation page needs the front-end packages: run `npm install` (or `make run`).")
    return folder


@bp.get("")
def page() -> Response:
    """The readable API document."""
    _folder()
    return Response(PAGE, mimetype="text/html", headers={"Content-Security-Policy": CSP,
                                                         "Cache-Control": "no-cache"})


@bp.get("/start.js")
def start() -> Response:
    """Starts Swagger UI on the page (a file, not an inline script, for the CSP)."""
    return Response(START, mimetype="text/javascript", headers={"Cache-Control": "no-cache"})


@bp.get("/assets/<name>")
def asset(name: str) -> Response:
    """A Swagger UI file from node_modules (only the ones the page uses)."""
    if name not in ASSETS:
        raise Problem(404, "not-found", "Not found", "No such file.")
    response = send_from_directory(_folder(), name, max_age=ONE_WEEK)
    response.headers["Cache-Control"] = f"public, max-age={ONE_WEEK}"
    return response
