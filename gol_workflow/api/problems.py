"""Errors as RFC 9457 problem details (`application/problem+json`), whatever raised them."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, json, request
from werkzeug.exceptions import HTTPException

from ..domain.errors import (ConfirmationNeeded, Conflict, Forbidden, GolError, InvalidState, NotFound, TaskNoLongerOpen,
                             ValidationFailed)
from ..persistence.errors import RETRY_AFTER_SECONDS, database_unavailable, input_out_of_range
from . import reconnect

log = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "urn:gol-workflow:problem:"

# The problem types the API returns besides plain HTTP statuses ("about:blank").
TYPES = {
    "invalid-request": "The request's parameters or body do not match the API's schema.",
    "validation-failed": "The submitted data does not satisfy the form; `errors` says why, field by field.",
    "unauthenticated": "No valid bearer token was sent.",
    "forbidden": "The caller's role, zones or assignments do not allow this operation.",
    "not-found": "The object does not exist, or is not visible to the caller.",
    "already-completed": "The task was completed by someone else first.",
    "conflict": "Someone else changed the same object at the same time, or holds it.",
    "invalid-state": "The operation does not apply to the object in its current state.",
    "open-case-exists": "The person already has an open case of this process; `open_case_id` and `open_case_url` "
                        "name it.",
    "move-refused": "The case cannot be moved this way; `code` says why, `element` where.",
    "unexpected": "The service failed unexpectedly; the failure was logged.",
    "request-too-large": "The request body is larger than the service accepts (GOL_MAX_REQUEST_BYTES).",
    "unavailable": "The database could not be reached for a moment; try again after `Retry-After` seconds.",
}


class Problem(Exception):
    """An API error with its status, problem type and optional per-field errors and headers."""

    def __init__(self, status: int, kind: str, title: str, detail: str | None = None,
                 errors: Mapping[str, list[str]] | None = None, headers: Mapping[str, str] | None = None,
                 extra: Mapping[str, Any] | None = None, code: str | None = None) -> None:
        super().__init__(detail or title)
        self.code = code
        self.status = status
        self.kind = kind
        self.title = title
        self.detail = detail
        self.errors = dict(errors) if errors else None
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})  # extension members of this problem type


def problem_response(problem: Problem) -> Response:
    """The HTTP response for a problem."""
    body: dict[str, Any] = {
        "type": TYPE_BASE + problem.kind if problem.kind in TYPES else "about:blank",
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail or problem.title,
        "instance": request.path,
    }
    if problem.code is not None:
        body["code"] = problem.code
    rid = request.environ.get("gol.request_id")
    if rid:
        body["request_id"] = rid  # quoted in a complaint, it finds the log lines of this request
    if problem.errors is not None:
        body["errors"] = problem.errors
    body.update({key: value for key, value in problem.extra.items() if key not in body})
    response = Response(json.dumps(body), status=problem.status, mimetype=MEDIA_TYPE)
    for name, value in problem.headers.items():
        response.headers[name] = value
    return response


def from_domain(error: GolError) -> Problem:
    """The problem for an expected service failure: its type by kind, and the failure's own `code`."""
    code = error.code
    if isinstance(error, ConfirmationNeeded):
        return Problem(400, "validation-failed", "Validation failed",
                       "The data needs a confirmation (" + ", ".join(error.confirmations) + "): send it again with "
                       "confirm_codice_fiscale: true if it is correct.", error.errors, code=code)
    if isinstance(error, ValidationFailed):
        return Problem(400, "validation-failed", "Validation failed",
                       "The submitted data does not satisfy the form.", error.errors, code=code)
    if isinstance(error, NotFound):
        return Problem(404, "not-found", "Not found", error.message, code=code)
    if isinstance(error, Forbidden):
        return Problem(403, "forbidden", "Forbidden", error.message, code=code)
    if isinstance(error, TaskNoLongerOpen):
        return Problem(409, "already-completed", "Task already completed", error.message, code=code)
    if isinstance(error, Conflict):
        return Problem(409, "conflict", "Conflict", error.message, code=code)
    if isinstance(error, InvalidState):
        return Problem(409, "invalid-state", "Invalid state", error.message, code=code)
    return Problem(400, "invalid-request", "Invalid request", error.message, code=code)


def flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Nested marshmallow/webargs messages as {"field.path": [messages]} (the location is dropped)."""
    if isinstance(messages, Mapping):
        found: dict[str, list[str]] = {}
        for key, value in messages.items():
            path = str(key) if not prefix else f"{prefix}.{key}"
            found.update(flatten(value, path))
        return found
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return {prefix or "_request": list(messages)}
    if isinstance(messages, list):
        found = {}
        for index, value in enumerate(messages):
            found.update(flatten(value, f"{prefix}.{index}" if prefix else str(index)))
        return found
    return {prefix or "_request": [str(messages)]}


_LOCATIONS = ("json", "query", "querystring", "view_args", "headers", "form")


def from_http(error: HTTPException) -> Problem:
    """The problem for a werkzeug HTTP error (routing, webargs validation, size limits...)."""
    code = error.code or 500
    data = getattr(error, "data", None) or {}
    if "messages" in data:
        messages = data["messages"]
        if isinstance(messages, Mapping) and set(messages) <= set(_LOCATIONS):
            merged: dict[str, list[str]] = {}
            for part in messages.values():
                merged.update(flatten(part))
            messages = merged
        return Problem(400, "invalid-request", "Invalid request",
                       "The request's parameters or body are not valid; `errors` says why.", flatten(messages))
    if code == 413:
        limit = request.max_content_length
        return Problem(413, "request-too-large", "Request too large",
                       f"The request body is larger than the {limit} bytes the service accepts." if limit
                       else "The request body is larger than the service accepts.")
    headers = dict(error.get_headers()) if code in (405, 401) else {}
    headers.pop("Content-Type", None)
    return Problem(code, "about:blank", error.name, error.description, headers=headers)


def init_app(app: Flask) -> None:
    """Every error the API raises answers as problem+json."""

    @app.errorhandler(Problem)
    def _problem(error: Problem) -> Response:
        return problem_response(error)

    @app.errorhandler(GolError)
    def _domain(error: GolError) -> Response:
        return problem_response(from_domain(error))

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Response | HTTPException:
        if error.code is not None and error.code < 400:
            return error
        return problem_response(from_http(error))

    reconnect.install(app)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        reconnect.run_again_if_safe(error)
        if input_out_of_range(error):
            return problem_response(Problem(400, "invalid-request", "Invalid request",
                                            "A value in the request is out of the range the service accepts."))
        if database_unavailable(error):
            log.warning("database unavailable on %s %s: %s", request.method, request.path, error)
            return problem_response(Problem(503, "unavailable", "Service unavailable",
                                            "The database could not be reached; try again shortly.",
                                            headers={"Retry-After": str(RETRY_AFTER_SECONDS)}))
        log.exception("unexpected API error on %s %s", request.method, request.path)
        return problem_response(Problem(500, "unexpected", "Internal server error",
                                        "The service failed unexpectedly; the failure was logged."))
