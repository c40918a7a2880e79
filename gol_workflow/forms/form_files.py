"""Checking form files: valid JSON, valid JSON Schema 2020-12, and the shape the service expects."""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterator
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from ..domain.model import Problem
from .form_keywords import keyword_problems

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
_META = Draft202012Validator(Draft202012Validator.META_SCHEMA)


class _DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def line_of_path(text: str, path: list[Any]) -> int:
    """The line of the last key of a JSON path (found in order), or 1."""
    position = 0
    repeat = 1
    for part in path:
        if isinstance(part, int):
            repeat = part + 1  # the next key of the (part+1)-th item, when each item has it once
            continue
        pattern = re.compile(r'"' + re.escape(str(part)) + r'"\s*:')
        match = None
        for _ in range(repeat):
            match = pattern.search(text, position if match is None else match.end())
            if match is None:
                break
        repeat = 1
        if match is None:
            break
        position = match.start()
    return text.count("\n", 0, position) + 1


_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"\s*:?|[{}\[\]]')


def _duplicate_line(text: str) -> int:
    """The line of the first key repeated inside one object."""
    stack: list[set[str]] = []
    for token in _TOKEN.finditer(text):
        value = token.group()
        if value in "{[":
            stack.append(set())
        elif value in "}]":
            if stack:
                stack.pop()
        elif value.endswith(":") and stack:
            key = value.rstrip(": \t\r\n")
            if key in stack[-1]:
                return text.count("\n", 0, token.start()) + 1
            stack[-1].add(key)
    return 1


def _load(name: str, content: bytes) -> tuple[Any, str, Problem | None]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        return None, "", Problem(name, line, None, "the form is not UTF-8 encoded: save it as UTF-8")
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates), text, None
    except _DuplicateKey as exc:
        key = str(exc)
        return None, text, Problem(name, _duplicate_line(text), key, f'key "{key}" appears twice in the same object')
    except json.JSONDecodeError as exc:
        return None, text, Problem(name, exc.lineno, None, f"not valid JSON: {exc.msg} (column {exc.colno})")
    except RecursionError:
        return None, text, Problem(name, 1, None, "not valid JSON: nested too deeply")


def _shape_problems(name: str, schema: dict[str, Any], text: str) -> list[Problem]:
    problems: list[Problem] = []
    declared = schema.get("$schema")
    if declared is not None and str(declared).rstrip("#") != DRAFT_2020_12:
        line = line_of_path(text, ["$schema"])
        problems.append(Problem(name, line, "$schema", f"forms are JSON Schema 2020-12: write \"$schema\": \"{DRAFT_2020_12}\""))
    if schema.get("type") != "object" or not isinstance(schema.get("properties"), dict):
        message = 'a form must be {"type": "object", "properties": {...}}'
        problems.append(Problem(name, line_of_path(text, ["type"]), None, message))
    return problems


# Keywords whose values are data, not schemas: a "$ref" inside them is not a reference.
_DATA_KEYWORDS = frozenset({"const", "enum", "default", "examples"})
_REFERENCES = ("$ref", "$dynamicRef")


def _references(node: Any, path: list[Any]) -> Iterator[tuple[list[Any], str, Any]]:
    """Every reference keyword of a schema with its path, keyword and value; and every `$id`."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _REFERENCES or key == "$id":
                yield path + [key], key, value
            elif key not in _DATA_KEYWORDS:
                yield from _references(value, path + [key])
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _references(value, path + [index])


def reference_target(ref: str) -> str:
    """The file a reference points to ("" for a reference inside the same form)."""
    return ref.partition("#")[0]


def referenced_forms(schema: Any) -> set[str]:
    """The other forms a form refers to, by file name."""
    return {reference_target(value) for _, key, value in _references(schema, [])
            if key in _REFERENCES and isinstance(value, str) and reference_target(value)}


def reference_problems(name: str, schema: Any, text: str, form_names: Collection[str]) -> list[Problem]:
    """References that would leave the deployed forms: only `#...` and other forms by file name are allowed.

    Validation never fetches anything, so a URL or a file path could only fail later;
    refusing it at deploy tells the analyst now.
    """
    problems: list[Problem] = []
    for path, key, value in _references(schema, []):
        line = line_of_path(text, path)
        element = ".".join(str(p) for p in path)
        if key == "$id":
            problems.append(Problem(name, line, element, "forms may not set $id: a form is known by its file name"))
            continue
        target = reference_target(value) if isinstance(value, str) else None
        if target is None or (target and target not in form_names):
            message = (f'{key} "{value}" is not allowed: refer to this form ("#/...") '
                       "or to another form by its file name (e.g. \"other.schema.json#/$defs/x\"); "
                       "URLs and files are never fetched")
            problems.append(Problem(name, line, element, message))
    return problems


def check_form_file(
    name: str, content: bytes, form_names: Collection[str] | None = None
) -> tuple[dict[str, Any] | None, list[Problem]]:
    """The parsed schema (None when unusable) and every problem of one form file.

    `form_names` are the forms deployed together, the only ones a reference may name.
    """
    schema, text, problem = _load(name, content)
    if problem is not None:
        return None, [problem]
    if not isinstance(schema, dict):
        return None, [Problem(name, 1, None, "a form must be a JSON object (a JSON Schema)")]
    errors = list(_META.iter_errors(schema))
    if errors:
        error = best_match(errors)
        path = list(error.absolute_path)
        element = ".".join(str(p) for p in path) or None
        message = f"invalid JSON Schema 2020-12: {error.message}"
        return None, [Problem(name, line_of_path(text, path), element, message)]
    problems = _shape_problems(name, schema, text)
    for path, message in keyword_problems(schema):
        problems.append(Problem(name, line_of_path(text, path), ".".join(map(str, path)), message))
    problems += reference_problems(name, schema, text, form_names if form_names is not None else ())
    return (schema if not problems else None), problems
