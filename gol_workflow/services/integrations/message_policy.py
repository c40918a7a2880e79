"""Who may send which BPMN message from outside, and what its payload must be (`processes/messages.toml`).

Analysts declare, per message name, the roles allowed to send it through the API and the
JSON Schema its payload must satisfy (inline, or a form of `forms/`). A message nobody
declared may be sent only by administrators and the service itself, with an object payload.
The file is validated at deploy and stored, with the forms it names, in every process
version that waits for one of its messages.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from ...domain.model import Problem
from ..access import authorization

POLICY_FILE = "messages.toml"
KEYS = frozenset({"roles", "schema", "form", "description"})
_TOML_LINE = re.compile(r"at line (\d+)")


@dataclass(frozen=True)
class MessagePolicy:
    """Who may send one message from outside, and the schema of its payload (None: any object)."""

    name: str
    roles: frozenset[str]
    schema: dict[str, Any] | None
    declared: bool = True


def undeclared(name: str) -> MessagePolicy:
    """The default for a message nobody declared: administrators and the service only."""
    return MessagePolicy(name, frozenset(), None, declared=False)


def _header_lines(text: str) -> dict[str, int]:
    """The line of each `[name]` table header."""
    found: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        match = re.match(r"\s*\[\s*(\"[^\"]*\"|'[^']*'|[A-Za-z0-9_-]+)\s*\]", line)
        if match:
            found.setdefault(match.group(1).strip("\"'"), number)
    return found


def parse(
    text: str, forms: Mapping[str, Any], file: str = POLICY_FILE, caught: Collection[str] | None = None
) -> tuple[dict[str, MessagePolicy], list[Problem]]:
    """The declarations of a messages file with forms resolved, and every problem found in it.

    `forms` maps form file names to their parsed schema; `caught`, when given, is every message
    name some process waits for (declaring another one is a mistake).
    """
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = _TOML_LINE.search(str(exc))  # tomllib gives its position only in the text before 3.14
        line = int(match.group(1)) if match else max(1, len(text.splitlines()))
        return {}, [Problem(file, getattr(exc, "lineno", None) or line, None, f"not valid TOML: {exc}")]
    lines = _header_lines(text)
    policies: dict[str, MessagePolicy] = {}
    problems: list[Problem] = []
    for name, entry in document.items():
        line = lines.get(name, 1)

        def problem(message: str, name: str = name, line: int = line) -> None:
            problems.append(Problem(file, line, name, message))

        if not isinstance(entry, dict):
            problem("each message is a table: [message_name] with roles and schema or form")
            continue
        for key in sorted(set(entry) - KEYS):
            problem(f"unknown key {key!r} (expected roles, schema, form, description)")
        roles = entry.get("roles", [])
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            problem("roles must be a list of role names")
            roles = []
        senders = set(authorization.role_names()) - authorization.administrator_roles()  # they always may
        for role in roles:
            if role not in senders:
                problem(f"unknown role {role!r} (one of {', '.join(sorted(senders))}; "
                        "administrators and the service may always send)")
        schema = _schema(entry, forms, problem)
        if caught is not None and name not in caught:
            problem(f"no process waits for the message {name!r}")
        policies[name] = MessagePolicy(name, frozenset(roles), schema)
    return policies, problems


def _schema(entry: Mapping[str, Any], forms: Mapping[str, Any], problem: Any) -> dict[str, Any] | None:
    if "schema" in entry and "form" in entry:
        problem("give either schema or form, not both")
        return None
    if "form" in entry:
        form = entry["form"]
        if not isinstance(form, str) or form not in forms:
            problem(f"form {form!r} does not exist in the forms folder")
            return None
        schema = forms[form]
    elif "schema" in entry:
        schema = entry["schema"]
    else:
        return None
    if not isinstance(schema, dict):
        problem("the payload schema must be a JSON Schema object")
        return None
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        problem(f"invalid JSON Schema: {exc.message}")
        return None
    if schema.get("type") != "object":
        problem('the payload schema must describe an object ("type": "object")')
        return None
    return dict(schema)


def referenced_forms(text: str, names: Collection[str]) -> set[str]:
    """The forms the declarations of the given messages refer to (to store them with a version)."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return set()
    return {str(entry["form"]) for name, entry in document.items()
            if name in names and isinstance(entry, dict) and isinstance(entry.get("form"), str)}
