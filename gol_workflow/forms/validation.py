"""Server-side validation of form data against its JSON Schema, with messages in Italian."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError, ValidationError
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource, Unresolvable
from referencing.jsonschema import DRAFT202012

from . import codice_fiscale, conditions
from .rendering import is_multiline

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

FieldErrors = dict[str, list[str]]

# A repeating group (an array of objects) whose form sets no maxItems takes at most this many rows.
DEFAULT_MAX_ROWS = 50
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_BUT_LINES = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # a textarea keeps \n and \t
_NAMED_SCHEMAS = ("properties", "$defs", "definitions", "patternProperties", "dependentSchemas")
_ONE_SCHEMA = ("items", "additionalProperties", "propertyNames", "unevaluatedItems", "unevaluatedProperties",
               "contains")
_COMBINATORS = ("allOf", "anyOf", "oneOf", "prefixItems")
_CONDITIONALS = ("not", "if", "then", "else")


def _checker() -> FormatChecker:
    checker = FormatChecker(formats=())

    @checker.checks("date", raises=ValueError)
    def _date(value: object) -> bool:
        if not isinstance(value, str):
            return True
        if not _DATE.match(value):
            return False
        date.fromisoformat(value)
        return True

    @checker.checks("date-time", raises=ValueError)
    def _datetime(value: object) -> bool:
        if not isinstance(value, str):
            return True
        if not _DATETIME.match(value):
            return False
        datetime.fromisoformat(value.replace("Z", "+00:00"))
        return True

    @checker.checks("email")
    def _email(value: object) -> bool:
        return not isinstance(value, str) or bool(_EMAIL.match(value))

    @checker.checks("codice-fiscale")
    def _cf(value: object) -> bool:
        return not isinstance(value, str) or codice_fiscale.is_valid(value)

    return checker


FORMAT_CHECKER = _checker()


def schema_problems(schema: Any) -> list[str]:
    """Why a form schema is unusable (empty when it is fine)."""
    if not isinstance(schema, dict):
        return ["a form must be a JSON object"]
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        return [f"invalid JSON Schema: {exc.message}"]
    if schema.get("type") != "object" or not isinstance(schema.get("properties"), dict):
        return ['a form must be {"type": "object", "properties": {...}}']
    return []


def _refuse(uri: str) -> Resource:
    """Nothing outside the deployed forms is ever fetched: no URL, no file."""
    raise NoSuchResource(ref=uri)


def form_registry(forms: Mapping[str, Any] | None) -> Registry:
    """The forms of one deployed version by file name, and nothing that could be fetched."""
    resources = [(name, DRAFT202012.create_resource(form)) for name, form in (forms or {}).items()
                 if isinstance(form, Mapping)]
    return Registry(retrieve=_refuse).with_resources(resources)  # type: ignore[call-arg]


def adapted(node: Any, draft: bool = False) -> Any:
    """The schema as the service enforces it: repeating groups get DEFAULT_MAX_ROWS when they set no maxItems;
    for a draft, no field is required (outside combinators, where `required` may pick the branch)."""
    if isinstance(node, list):
        return [adapted(item, draft) for item in node]
    if not isinstance(node, dict):
        return node
    result: dict[str, Any] = {}
    for key, value in node.items():
        if draft and key in ("required", "dependentRequired"):
            continue
        if key in _NAMED_SCHEMAS and isinstance(value, dict):
            result[key] = {name: adapted(sub, draft) for name, sub in value.items()}
        elif key in _ONE_SCHEMA:
            result[key] = adapted(value, draft)
        elif key in _COMBINATORS or key in _CONDITIONALS:
            result[key] = adapted(value, False)
        else:
            result[key] = value  # data (const, enum, default...) and plain keywords
    items = result.get("items")
    if result.get("type") == "array" and isinstance(items, dict) and items.get("type") == "object":
        result.setdefault("maxItems", DEFAULT_MAX_ROWS)
    return result


_NO_FORMS: Mapping[str, Any] = {}
_VALIDATORS: dict[tuple[int, int, bool], tuple[Mapping[str, Any], Mapping[str, Any], Draft202012Validator]] = {}


def _validator(schema: Mapping[str, Any], forms: Mapping[str, Any], draft: bool) -> Draft202012Validator:
    """A validator per schema object, version's forms and kind (forms live as long as their process version)."""
    key = (id(schema), id(forms), draft)
    cached = _VALIDATORS.get(key)
    if cached is not None and cached[0] is schema and cached[1] is forms:
        return cached[2]
    registry = form_registry({name: adapted(form, draft) for name, form in forms.items()})
    validator = Draft202012Validator(adapted(schema, draft), format_checker=FORMAT_CHECKER, registry=registry)
    if len(_VALIDATORS) > 1024:
        _VALIDATORS.clear()
    _VALIDATORS[key] = (schema, forms, validator)
    return validator


def _type_message(expected: Any) -> str:
    names = expected if isinstance(expected, list) else [expected]
    if "boolean" in names:
        return "Scegliere sì o no."
    if "integer" in names:
        return "Inserire un numero intero."
    if "number" in names:
        return "Inserire un numero."
    if "array" in names:
        return "Selezionare una o più voci."
    if "object" in names:
        return "Dati del gruppo non validi."
    return "Valore non valido."


def _message(error: ValidationError, subschema: Mapping[str, Any]) -> str:
    custom = subschema.get("x-messaggio-errore") if isinstance(subschema, Mapping) else None
    keyword = error.validator
    value = error.validator_value
    if keyword == "required":
        return "Campo obbligatorio."
    if custom:
        return str(custom)
    if keyword == "format":
        if value == "codice-fiscale" and isinstance(error.instance, str):
            return codice_fiscale.problem(error.instance) or "Codice fiscale non valido."
        return {
            "date": "Inserire una data valida (gg/mm/aaaa).",
            "date-time": "Inserire data e ora valide.",
            "email": "Inserire un indirizzo e-mail valido.",
        }.get(str(value), "Formato non valido.")
    if keyword == "type":
        return _type_message(value)
    if keyword in {"enum", "const", "oneOf", "anyOf"}:
        return "Scegliere uno dei valori proposti."
    if keyword == "minLength":
        return "Campo obbligatorio." if value == 1 else f"Inserire almeno {value} caratteri."
    if keyword == "maxLength":
        return f"Inserire al massimo {value} caratteri."
    if keyword in {"minimum", "exclusiveMinimum"}:
        return f"Il valore deve essere almeno {value}."
    if keyword in {"maximum", "exclusiveMaximum"}:
        return f"Il valore deve essere al massimo {value}."
    if keyword == "minItems":
        return "Selezionare almeno una voce." if value == 1 else f"Selezionare almeno {value} voci."
    if keyword == "maxItems":
        items = subschema.get("items") if isinstance(subschema, Mapping) else None
        if isinstance(items, Mapping) and items.get("type") == "object":
            return f"Inserire al massimo {value} righe."
        return f"Selezionare al massimo {value} voci."
    if keyword == "uniqueItems":
        return "Le voci non possono ripetersi."
    if keyword == "pattern":
        return "Formato non valido."
    if keyword == "additionalProperties":
        return "Campo non previsto dal modulo."
    return "Valore non valido."


def _subschema_at(schema: Mapping[str, Any], path: Iterable[Any]) -> Mapping[str, Any]:
    node: Any = schema
    for part in path:
        if not isinstance(node, Mapping):
            return {}
        if isinstance(part, int) or (isinstance(part, str) and part.isdigit()):
            node = node.get("items", {})
        else:
            node = (node.get("properties") or {}).get(part, {})
    return node if isinstance(node, Mapping) else {}


def validate(
    schema: Mapping[str, Any],
    data: Mapping[str, Any],
    options: Mapping[str, Iterable[str]] | None = None,
    forms: Mapping[str, Any] | None = None,
    draft: bool = False,
) -> FieldErrors:
    """Validate data; returns {field path: [Italian messages]} (empty when valid).

    `forms` are the other forms of the same version, by file name: the only ones a `$ref`
    may reach. A reference to anything else is an error of the form, never a fetch.
    A `draft` is held to every limit of the form (types, lengths, rows, choices) but may
    leave required fields empty. Text outside textareas may not hold line breaks or other
    control characters; textareas only line breaks and tabs.
    """
    errors: FieldErrors = {}
    properties = schema.get("properties") or {}
    for key in data:
        if key not in properties:
            errors.setdefault(key, []).append("Campo non previsto dal modulo.")
    validator = _validator(schema, _NO_FORMS if forms is None else forms, draft)
    try:
        found = list(validator.iter_errors(dict(data)))
    except Unresolvable:
        errors.setdefault("_form", []).append(
            "Il modulo rimanda a una definizione non disponibile: segnalarlo all'amministratore.")
        return errors
    reported: set[tuple[Any, ...]] = set()
    for error in found:
        path = list(error.absolute_path)
        if error.validator in ("required", "dependentRequired"):
            # One message per missing field, named from the instance (never read out of the library's text).
            seen = (tuple(path), tuple(error.absolute_schema_path))
            if seen in reported:
                continue
            reported.add(seen)
            present = error.instance if isinstance(error.instance, Mapping) else {}
            why = conditions.why_required(schema, error) or "Campo obbligatorio."
            for name in _required_names(error.validator, error.validator_value, present):
                key = ".".join(str(p) for p in path + [name])
                if why not in errors.get(key, []):
                    errors.setdefault(key, []).append(why)
            continue
        key = ".".join(str(p) for p in path) or "_form"
        message = conditions.why_required(schema, error) or _message(error, _subschema_at(schema, path))
        if message not in errors.get(key, []):
            errors.setdefault(key, []).append(message)
    for key, message in _option_errors(properties, data, options or {}, ""):
        errors.setdefault(key, []).append(message)
    for key, message in _control_errors(properties, data, ""):
        if message not in errors.get(key, []):
            errors.setdefault(key, []).append(message)
    return errors


def _control_errors(properties: Mapping[str, Any], data: Mapping[str, Any], prefix: str) -> Iterable[tuple[str, str]]:
    """Line breaks in single-line text (they would forge lines in e-mails and documents), control characters anywhere."""
    for name, prop in properties.items():
        if not isinstance(prop, Mapping) or name not in data:
            continue
        value, path = data[name], prefix + name
        if isinstance(value, str):
            if (_CONTROL_BUT_LINES if is_multiline(prop) else _CONTROL).search(value):
                yield path, ("Il testo contiene caratteri di controllo non ammessi." if is_multiline(prop)
                             else "Il testo deve stare su una riga, senza a capo né caratteri di controllo.")
        elif isinstance(value, Mapping):
            yield from _control_errors(prop.get("properties") or {}, value, path + ".")
        elif isinstance(value, list):
            items = prop.get("items") if isinstance(prop.get("items"), Mapping) else {}
            for index, item in enumerate(value):
                if isinstance(item, Mapping):
                    yield from _control_errors(items.get("properties") or {}, item, f"{path}.{index}.")
                elif isinstance(item, str) and _CONTROL.search(item):
                    yield f"{path}", "Il testo deve stare su una riga, senza a capo né caratteri di controllo."


def _option_errors(
    properties: Mapping[str, Any], data: Mapping[str, Any], options: Mapping[str, Iterable[str]], prefix: str
) -> Iterable[tuple[str, str]]:
    for name, prop in properties.items():
        if not isinstance(prop, Mapping) or name not in data:
            continue
        value = data[name]
        source = prop.get("x-options") or (prop.get("items") or {}).get("x-options")
        if source and source in options and value not in (None, ""):
            allowed = set(options[source])
            values = value if isinstance(value, list) else [value]
            if any(str(v) not in allowed for v in values):
                yield prefix + name, "Scegliere uno dei valori proposti."
        if prop.get("type") == "object" and isinstance(value, Mapping):
            yield from _option_errors(prop.get("properties") or {}, value, options, f"{prefix}{name}.")


def _required_names(kind: str, value: Any, present: Mapping[str, Any]) -> list[str]:
    """The fields a `required` or `dependentRequired` keyword finds missing in `present`."""
    if kind == "required":
        return [name for name in value if name not in present]
    return [dep for owner, deps in value.items() if owner in present for dep in deps if dep not in present]
