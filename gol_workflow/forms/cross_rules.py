"""Rules between fields that JSON Schema cannot state, declared in a form under `x-rules`.

Any object schema of a form (the form itself, a fieldset, the rows of a repeating group)
may declare rules on its own properties:

    "x-rules": [{"rule": "date-order", "fields": ["data_inizio", "data_fine"],
                 "message": "La fine non può precedere l'inizio."}]

| rule | fields | refuses |
|---|---|---|
| `date-order` | two dates | the second before the first |
| `disjoint` | two lists of choices | a choice ticked in both |
| `only-if` | a field, another field; `values` | the first answered while the second holds none of `values` |
| `codice-fiscale-anagrafica` | codice fiscale, cognome, nome, data di nascita | a code that does not match the person: a warning the operator may confirm |
| `covers-or-explains` | rows, explained rows; `key`, `values` | one of `values` found in the `key` of no row of either list, or in both |
| `covers-listed` | a list of choices, rows, explained rows; `key` | a listed choice found in the `key` of no row of either list, or in both |

`message` is optional (each rule has an Italian default). Unknown rules and fields are
reported by `validate`/`deploy` on their line; at submission the messages are given on
the field concerned (the second field; the codice fiscale).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from . import codice_fiscale, conditions

CF_RULE = "codice-fiscale-anagrafica"
CONFIRMABLE = frozenset({CF_RULE})
CONFIRM_LABELS = {CF_RULE: "Confermo: codice fiscale corretto (omocodia o dati anagrafici diversi)"}


@dataclass(frozen=True)
class Finding:
    """One rule's message on one field path; `confirmable` names a warning the operator may accept."""

    path: str
    message: str
    confirmable: str | None = None


def _iso_date(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _title(prop: Mapping[str, Any], name: str) -> str:
    return str(prop.get("title") or name)


def _date_order(values: Sequence[Any], props: Sequence[Mapping[str, Any]], rule: Mapping[str, Any]) -> str | None:
    start, end = (_iso_date(v) for v in values)
    if start and end and end < start:
        first, second = (_title(p, f) for p, f in zip(props, rule["fields"], strict=True))
        return f"«{second}» non può precedere «{first}» ({start:%d/%m/%Y})."
    return None


def _disjoint(values: Sequence[Any], props: Sequence[Mapping[str, Any]], rule: Mapping[str, Any]) -> str | None:
    first, second = (v if isinstance(v, list) else [] for v in values)
    if set(map(str, first)) & set(map(str, second)):
        first, second = (_title(p, f) for p, f in zip(props, rule["fields"], strict=True))
        return f"Una stessa voce non può essere indicata sia in «{first}» sia in «{second}»."
    return None


def _only_if(values: Sequence[Any], props: Sequence[Mapping[str, Any]], rule: Mapping[str, Any]) -> str | None:
    answer, other = values
    allowed = rule.get("values") or []
    if answer in (None, "", []) or other in allowed:
        return None
    first, second = (_title(p, f) for p, f in zip(props, rule["fields"], strict=True))
    labels = " o ".join(f"«{conditions.label_of_value(props[1], v)}»" for v in allowed)
    return f"«{first}» si indica solo se «{second}» è {labels}."


def _cf_matches(values: Sequence[Any], props: Sequence[Mapping[str, Any]], rule: Mapping[str, Any]) -> str | None:
    code, surname, name, born = values
    if not isinstance(code, str) or not codice_fiscale.is_valid(code):
        return None
    differences = codice_fiscale.differences(code, surname, name, _iso_date(born))
    if not differences:
        return None
    return ("Il codice fiscale non corrisponde ai dati anagrafici indicati (" + "; ".join(differences) + "). "
            "Controllare cognome, nome e data di nascita; se il codice è corretto (omocodia o dati "
            "anagrafici registrati diversamente) confermarlo.")


def _keys(rows: Any, key: str) -> set[str]:
    return {str(r.get(key)) for r in rows if isinstance(r, Mapping) and r.get(key) not in (None, "")} \
        if isinstance(rows, list) else set()


def _coverage(wanted: Sequence[Any], covered: set[str], explained: set[str], choices: Mapping[str, Any],
              props: Sequence[Mapping[str, Any]], fields: Sequence[str]) -> str | None:
    labels = {str(v): conditions.label_of_value(choices, v) for v in wanted}
    missing = [labels[str(v)] for v in wanted if str(v) not in covered | explained]
    both = [labels[str(v)] for v in wanted if str(v) in covered & explained]
    first, second = (_title(p, f) for p, f in zip(props[-2:], fields[-2:], strict=True))
    if missing:
        return (f"Manca {', '.join(f'«{m}»' for m in missing)}: va coperto in «{first}» "
                f"oppure spiegato in «{second}».")
    if both:
        return f"{', '.join(f'«{b}»' for b in both)} è sia in «{first}» sia in «{second}»: tenerlo in uno solo."
    return None


def _row_choices(prop: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    items = prop.get("items") if isinstance(prop.get("items"), Mapping) else {}
    choice = (items.get("properties") or {}).get(key)
    return choice if isinstance(choice, Mapping) else {}


def _covers_or_explains(values: Sequence[Any], props: Sequence[Mapping[str, Any]], rule: Mapping[str, Any]) -> str | None:
    rows, explained = values
    key = str(rule.get("key") or "")
    return _coverage(list(rule.get("values") or []), _keys(rows, key), _keys(explained, key),
                     _row_choices(props[0], key), props, rule["fields"])


def _covers_listed(values: Sequence[Any], props: Sequence[Mapping[str, Any]], rule: Mapping[str, Any]) -> str | None:
    listed, rows, explained = values
    key = str(rule.get("key") or "")
    wanted = list(dict.fromkeys(listed)) if isinstance(listed, list) else []
    return _coverage(wanted, _keys(rows, key), _keys(explained, key), _row_choices(props[1], key), props, rule["fields"])


@dataclass(frozen=True)
class RuleKind:
    """What one rule name checks: how many fields, and the check returning an Italian default message."""

    arity: int
    check: Callable[[Sequence[Any], Sequence[Mapping[str, Any]], Mapping[str, Any]], str | None]
    target: int  # the field (by position) the message is given on


RULES: dict[str, RuleKind] = {
    "date-order": RuleKind(2, _date_order, 1),
    "disjoint": RuleKind(2, _disjoint, 1),
    "only-if": RuleKind(2, _only_if, 0),
    CF_RULE: RuleKind(4, _cf_matches, 0),
    "covers-or-explains": RuleKind(2, _covers_or_explains, 0),
    "covers-listed": RuleKind(3, _covers_listed, 1),
}


def _objects(schema: Mapping[str, Any], path: list[Any]) -> Iterable[tuple[list[Any], Mapping[str, Any]]]:
    """Every object schema of a form with its JSON path inside the file."""
    yield path, schema
    for name, prop in (schema.get("properties") or {}).items():
        if not isinstance(prop, Mapping):
            continue
        if isinstance(prop.get("properties"), Mapping):
            yield from _objects(prop, path + ["properties", name])
        items = prop.get("items")
        if isinstance(items, Mapping) and isinstance(items.get("properties"), Mapping):
            yield from _objects(items, path + ["properties", name, "items"])


def declaration_problems(schema: Mapping[str, Any]) -> list[tuple[list[Any], str]]:
    """(JSON path, message) for every malformed `x-rules` entry of a form."""
    found: list[tuple[list[Any], str]] = []
    for path, obj in _objects(schema, []):
        rules = obj.get("x-rules")
        if rules is None:
            continue
        if not isinstance(rules, list):
            found.append((path + ["x-rules"], "x-rules must be a list of rules"))
            continue
        properties = obj.get("properties") or {}
        for index, rule in enumerate(rules):
            where = path + ["x-rules", index]
            if not isinstance(rule, Mapping) or not isinstance(rule.get("rule"), str):
                found.append((where, 'each x-rules entry is {"rule": ..., "fields": [...]}'))
                continue
            kind = RULES.get(rule["rule"])
            where = where + ["rule"]
            if kind is None:
                found.append((where, f"unknown rule {rule['rule']!r}; known rules: {', '.join(sorted(RULES))}"))
                continue
            fields = rule.get("fields")
            if not isinstance(fields, list) or len(fields) != kind.arity:
                found.append((where, f"rule {rule['rule']!r} takes {kind.arity} fields"))
                continue
            missing = [f for f in fields if f not in properties]
            if missing:
                found.append((where, f"rule {rule['rule']!r} names fields that are not properties here: {', '.join(map(str, missing))}"))
            if rule["rule"] == "only-if" and not (isinstance(rule.get("values"), list) and rule["values"]):
                found.append((where, "rule 'only-if' takes the allowed answers of its second field in \"values\""))
            if rule["rule"] in ("covers-or-explains", "covers-listed") and not isinstance(rule.get("key"), str):
                found.append((where, f"rule {rule['rule']!r} takes the rows' field to compare in \"key\""))
            if rule["rule"] == "covers-or-explains" and not (isinstance(rule.get("values"), list) and rule["values"]):
                found.append((where, "rule 'covers-or-explains' takes the values to cover in \"values\""))
            if "message" in rule and not isinstance(rule["message"], str):
                found.append((where, "a rule's message is a string"))
    return found


def findings(schema: Mapping[str, Any], data: Mapping[str, Any]) -> list[Finding]:
    """The rules of a form that the submitted data breaks."""
    return list(_check(schema, data, ""))


def _check(schema: Mapping[str, Any], data: Mapping[str, Any], prefix: str) -> Iterable[Finding]:
    for rule in schema.get("x-rules") or []:
        kind = RULES.get(rule.get("rule")) if isinstance(rule, Mapping) else None
        fields = rule.get("fields") if kind else None
        if kind is None or not isinstance(fields, list) or len(fields) != kind.arity:
            continue
        properties = schema.get("properties") or {}
        props = [p if isinstance(p := properties.get(f), Mapping) else {} for f in fields]
        default = kind.check([data.get(f) for f in fields], props, rule)
        if default is None:
            continue
        target = fields[kind.target]
        confirmable = rule["rule"] if rule["rule"] in CONFIRMABLE else None
        yield Finding(prefix + target, str(rule.get("message") or default), confirmable)
    for name, prop in (schema.get("properties") or {}).items():
        value = data.get(name)
        if not isinstance(prop, Mapping):
            continue
        if isinstance(value, Mapping) and isinstance(prop.get("properties"), Mapping):
            yield from _check(prop, value, f"{prefix}{name}.")
        items = prop.get("items")
        if isinstance(value, list) and isinstance(items, Mapping) and isinstance(items.get("properties"), Mapping):
            for index, row in enumerate(value):
                if isinstance(row, Mapping):
                    yield from _check(items, row, f"{prefix}{name}.{index}.")
