"""flask-smorest wired for this API: problem+json errors in the document, 400 for invalid input, bearer auth."""

from __future__ import annotations

import http
import json
from collections.abc import Callable
from typing import Any

import flask_smorest
import flask
import marshmallow as ma
from webargs import core
from webargs.flaskparser import FlaskParser, abort, is_json_request

from .problems import MEDIA_TYPE, TYPES, TYPE_BASE
from .schemas.common import ProblemSchema

TITLE = "gol-workflow API"
VERSION = "1"
SECURITY_SCHEME = "bearerAuth"

# Error responses every authenticated operation may give.
COMMON_ERRORS = (401,)

DESCRIPTION = f"""The GOL Percorso 4 workflow service over HTTP: processes, instances, the caller's task
inbox, task forms and completion, messages, zones and equipe meetings.

**Authentication.** Every operation needs `Authorization: Bearer <token>`; an administrator
issues tokens with `gol-workflow users token USERNAME` (printed once, stored only as a
SHA-256) and revokes them with `gol-workflow users revoke-token`. A token acts as its
account: the same roles, zones and assignments as in the web interface decide what it may
see and do. Cookies are never used, so there is no CSRF token.

**Errors** are `{MEDIA_TYPE}` documents (RFC 9457) with `type`, `title`, `status`,
`detail` and `instance`. Anything wrong with a request — malformed JSON, a missing or
mistyped parameter or field, form data a task refuses — is `400` with `errors`, an object
mapping each field path (`data.beneficiario.codice_fiscale`) to its messages (form
messages are the form's own, in Italian). `401` comes with `WWW-Authenticate: Bearer`.
`403`: the caller's role or zones do not allow the operation. `404`: the object does not
exist or is not visible to the caller (reads never confirm that something exists). `409`:
someone else completed the task first, holds it, or changed the instance at the same
time, or the instance's state does not allow the operation. Problem types:
""" + "\n".join(f"- `{TYPE_BASE}{kind}`: {text}" for kind, text in TYPES.items()) + """

**Datetimes** are ISO 8601 with the offset of the service time zone (Europe/Rome).
**Lists** take `page` (from 1) and `page_size` (1-100) and answer `{"items": [...], "total": N}`.
"""


class ProblemParser(FlaskParser):
    """webargs parser answering invalid input with 400 (the API uses 400 for every invalid request)."""

    DEFAULT_VALIDATION_STATUS = 400

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._schemas: dict[type[ma.Schema], ma.Schema] = {}

    def _get_schema(self, argmap: Any, req: flask.Request) -> ma.Schema:
        """One instance per schema class, not one per request (a schema keeps no state between loads)."""
        if isinstance(argmap, type) and issubclass(argmap, ma.Schema):
            schema = self._schemas.get(argmap)
            if schema is None:
                schema = self._schemas.setdefault(argmap, argmap())
            return schema
        return super()._get_schema(argmap, req)

    def _raw_load_json(self, req: flask.Request) -> Any:
        """The JSON body; a body of another media type, or nested beyond reason, is refused."""
        body = req.get_data(cache=True)
        if not is_json_request(req):
            if body:
                abort(400, messages={"json": ["The body must be JSON, sent as Content-Type: application/json."]})
            return core.missing
        try:
            return core.parse_json(body)
        except RecursionError:
            abort(400, messages={"json": ["The JSON body is nested too deeply."]})
        except json.JSONDecodeError:
            raise  # webargs answers it
        except ValueError:  # a number of more digits than Python converts (int_max_str_digits)
            abort(400, messages={"json": ["The JSON body holds a number too long to read."]})


class Blueprint(flask_smorest.Blueprint):
    """A flask-smorest blueprint using the 400 parser."""

    ARGUMENTS_PARSER = ProblemParser()

    def problems(self, *codes: int) -> Callable[[Any], Any]:
        """Document the problem responses an operation may give (401 is always added)."""
        def decorator(func: Any) -> Any:
            for code in sorted(set(codes) | set(COMMON_ERRORS), reverse=True):
                func = self.alt_response(code, response=http.HTTPStatus(code).name)(func)
            return func
        return decorator


class Api(flask_smorest.Api):
    """The API with problem+json responses in the document and no JSON error handler of its own."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self) -> None:
        """Errors are handled by `problems.init_app` (problem+json for every status)."""

    def _register_responses(self) -> None:
        for status in http.HTTPStatus:
            if status < 400:
                continue
            response: dict[str, Any] = {"description": status.phrase,
                                        "content": {MEDIA_TYPE: {"schema": self.ERROR_SCHEMA}}}
            if status == 401:
                response["headers"] = {"WWW-Authenticate": {
                    "description": "`Bearer realm=\"gol-workflow\"`, with `error=\"invalid_token\"` for a bad token",
                    "schema": {"type": "string"}}}
            self.spec.components.response(status.name, response, lazy=True)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, {
            "description": "Any other error, as a problem document",
            "content": {MEDIA_TYPE: {"schema": self.ERROR_SCHEMA}}}, lazy=True)

    def _register_pagination_header(self) -> None:
        """Lists carry their total in the body: no X-Pagination header."""

    def _register_etag_headers(self) -> None:
        """No ETags."""


def config() -> dict[str, Any]:
    """The Flask config keys flask-smorest reads."""
    return {
        "API_TITLE": TITLE,
        "API_VERSION": VERSION,
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api",
        "OPENAPI_JSON_PATH": "openapi.json",
        "API_SPEC_OPTIONS": {
            "info": {"description": DESCRIPTION},
            "security": [{SECURITY_SCHEME: []}],
            "components": {"securitySchemes": {SECURITY_SCHEME: {
                "type": "http", "scheme": "bearer",
                "description": "A token from `gol-workflow users token USERNAME`."}}},
        },
    }
