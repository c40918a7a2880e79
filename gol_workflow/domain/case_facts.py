"""The case record's facts: which process data feed which typed fact, as a process declares it.

A process declares its facts beside its BPMN files (`processes/<process>.case.toml`); this
module knows the declaration's shape and turns a workflow's data into facts, knowing nothing
of any process's own variable names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from .errors import GolError

# Every fact a case record has a column for, with its type. Declarations map data onto these.
FACT_TYPES: dict[str, str] = {
    "zone": "text",
    "beneficiary_name": "text",
    "codice_fiscale": "code",
    "birth_date": "date",
    "complex_needs": "bool",
    "percorso": "int",
    "known_to_social_services": "bool",
    "particular_needs": "bool",
    "specialist_services": "list",
    "equipe_at": "datetime",
    "decision": "text",
    "measures": "list",
    "equipe_participants": "list",
    "equipe_confirmed_by": "list",
    "first_appointment_at": "datetime",
    "first_appointment_place": "text",
    "case_manager": "text",
    "path_start_date": "date",
    "path_end_at": "datetime",
    "last_monitoring_date": "date",
    "last_substantial_change_date": "date",
    "last_substantial_change": "text",
    "final_monitoring_date": "date",
    "outcome": "text",
    "profiled_at": "datetime",
    "poverty_condition": "text",
    "social_inclusion_path": "flag",
    "work_path": "flag",
    "joint_interview": "bool",
    "interview_participants": "list",
}

# Facts that count completions of a task.
COUNT_FACTS = ("monitorings", "substantial_changes")

TEXT_LIMITS = {"zone": 64, "codice_fiscale": 16, "outcome": 64, "decision": 64, "poverty_condition": 32}


class CaseDeclarationError(GolError):
    """A case declaration file that cannot be used."""


@dataclass(frozen=True)
class Fact:
    """One fact read from the workflow's data: the first path holding a value, or several joined by spaces."""

    name: str
    paths: tuple[str, ...]
    kind: str
    join: bool = False  # text from every path, joined by a space (a name from first and last name)
    only_if: str | None = None  # kept only when this path holds a true value (else empty)


@dataclass(frozen=True)
class Completion:
    """What completing one user task records: a count, the moment, a value taken from its form."""

    task: str
    count: str | None = None
    when: str | None = None  # counted only when this form field is true
    time: str | None = None  # fact set to the moment of completion
    last: tuple[str, str] | None = None  # (fact, form field): the field's value at the latest completion


@dataclass(frozen=True)
class CaseDeclaration:
    """The facts of one process's case record."""

    process_id: str
    facts: tuple[Fact, ...]
    completions: tuple[Completion, ...] = field(default_factory=tuple)
    record: bool = True  # False: the facts feed the instance's header (zone, people) but no case record
    task_item: str | None = None  # a multi-instance item about another case (its case_id and facts)

    def paths_of(self, name: str) -> tuple[str, ...]:
        """The data paths a fact is read from (none when the fact is not declared)."""
        return next((fact.paths for fact in self.facts if fact.name == name), ())

    def declares(self, name: str) -> bool:
        """Whether the process declares this fact."""
        return any(fact.name == name for fact in self.facts)

    def facts_from(self, data: Mapping[str, Any], timezone: Any) -> dict[str, Any]:
        """The declared facts the data holds (a fact whose path is absent is left out, not cleared)."""
        found: dict[str, Any] = {}
        for fact in self.facts:
            if fact.only_if is not None:
                flag = lookup(data, fact.only_if)
                if flag is _MISSING:
                    continue
                if not flag:
                    found[fact.name] = [] if fact.kind == "list" else None
                    continue
            if fact.join:
                parts = [lookup(data, p) for p in fact.paths]
                if all(p is _MISSING for p in parts):
                    continue
                raw: Any = " ".join(str(p).strip() for p in parts if p not in (_MISSING, None) and str(p).strip())
            else:
                raw = next((v for v in (lookup(data, p) for p in fact.paths) if v is not _MISSING), _MISSING)
                if raw is _MISSING:
                    continue
            found[fact.name] = typed(fact.name, fact.kind, raw, timezone)
        return found

    def completed(
        self, element_id: str, form: Mapping[str, Any], at: datetime, timezone: Any
    ) -> tuple[dict[str, int], dict[str, Any]]:
        """What completing `element_id` with `form` adds: (count increments, facts set)."""
        counts: dict[str, int] = {}
        facts: dict[str, Any] = {}
        for rule in self.completions:
            if rule.task != element_id:
                continue
            if rule.when is not None and lookup(form, rule.when) is not True:
                continue
            if rule.count:
                counts[rule.count] = counts.get(rule.count, 0) + 1
            if rule.time:
                facts[rule.time] = at
            if rule.last:
                value = lookup(form, rule.last[1])
                facts[rule.last[0]] = None if value is _MISSING else typed(
                    rule.last[0], FACT_TYPES[rule.last[0]], value, timezone)
        return counts, facts

    def counted_tasks(self) -> frozenset[str]:
        """The user tasks whose completion changes a fact."""
        return frozenset(rule.task for rule in self.completions)


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING: Any = _Missing()


def lookup(data: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path, or the missing marker."""
    value: Any = data
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return _MISSING
        value = value[part]
    return value


def is_missing(value: Any) -> bool:
    """Whether `lookup` found nothing."""
    return value is _MISSING


def typed(name: str, kind: str, value: Any, timezone: Any) -> Any:
    """A data value as the fact's type; a value that does not fit becomes None (the record never fails a step)."""
    if value is None or value == "":
        return [] if kind == "list" else None
    try:
        if kind == "text":
            return str(value).strip()[: TEXT_LIMITS.get(name, 255)] or None
        if kind == "code":
            return str(value).strip().upper()[: TEXT_LIMITS.get(name, 16)] or None
        if kind == "bool":
            return value if isinstance(value, bool) else None
        if kind == "flag":  # whether the data hold something (a goal written in the scheda)
            return bool(value) if isinstance(value, bool) else bool(str(value).strip())
        if kind == "int":
            return int(value) if not isinstance(value, bool) else None
        if kind == "list":
            return [str(v) for v in value] if isinstance(value, (list, tuple)) else [str(value)]
        if kind == "date":
            if isinstance(value, datetime):
                return value.astimezone(timezone).date() if value.tzinfo else value.date()
            if isinstance(value, date):
                return value
            text = str(value)
            if len(text) > 10:
                moment = datetime.fromisoformat(text)
                return moment.astimezone(timezone).date() if moment.tzinfo else moment.date()
            return date.fromisoformat(text)
        if kind == "datetime":
            moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=timezone)
            return moment.astimezone(UTC)
    except (TypeError, ValueError):
        return None
    raise CaseDeclarationError(f"unknown fact type {kind!r}")


def declaration_from_dict(raw: Mapping[str, Any], source: str) -> CaseDeclaration:
    """Check and build a declaration from a parsed TOML document."""
    process_id = raw.get("process")
    if not isinstance(process_id, str) or not process_id:
        raise CaseDeclarationError(f"{source}: 'process' (the process id) is required")
    facts: list[Fact] = []
    for name, spec in (raw.get("facts") or {}).items():
        if name not in FACT_TYPES:
            raise CaseDeclarationError(f"{source}: unknown fact {name!r}; known: {', '.join(FACT_TYPES)}")
        if isinstance(spec, str):
            spec = {"path": spec}
        paths = spec.get("path")
        if isinstance(paths, str):
            paths = [paths]
        if not paths or not all(isinstance(p, str) and p for p in paths):
            raise CaseDeclarationError(f"{source}: fact {name!r} needs a 'path' (a data path or a list of them)")
        kind = spec.get("type", FACT_TYPES[name])
        if kind != FACT_TYPES[name]:
            raise CaseDeclarationError(f"{source}: fact {name!r} is of type {FACT_TYPES[name]!r}, not {kind!r}")
        facts.append(Fact(name, tuple(paths), kind, bool(spec.get("join", False)), spec.get("only_if")))
    completions: list[Completion] = []
    for spec in raw.get("completions") or []:
        task = spec.get("task")
        if not isinstance(task, str) or not task:
            raise CaseDeclarationError(f"{source}: every [[completions]] needs a 'task' (a user task id)")
        count = spec.get("count")
        if count is not None and count not in COUNT_FACTS:
            raise CaseDeclarationError(f"{source}: unknown count {count!r}; known: {', '.join(COUNT_FACTS)}")
        time = spec.get("time")
        if time is not None and FACT_TYPES.get(time) != "datetime":
            raise CaseDeclarationError(f"{source}: 'time' must name a datetime fact, not {time!r}")
        last = spec.get("last")
        pair: tuple[str, str] | None = None
        if last is not None:
            if not isinstance(last, Mapping) or last.get("fact") not in FACT_TYPES or not last.get("path"):
                raise CaseDeclarationError(f"{source}: 'last' is {{fact = <fact>, path = <form field>}}")
            pair = (str(last["fact"]), str(last["path"]))
        completions.append(Completion(task, count, spec.get("when"), time, pair))
    record = raw.get("record", True)
    if not isinstance(record, bool):
        raise CaseDeclarationError(f"{source}: 'record' is true or false")
    tasks = raw.get("tasks") or {}
    item = tasks.get("item") if isinstance(tasks, Mapping) else None
    if item is not None and (not isinstance(item, str) or not item):
        raise CaseDeclarationError(f"{source}: [tasks] item is the data key of a multi-instance item")
    return CaseDeclaration(process_id, tuple(facts), tuple(completions), record, item)
