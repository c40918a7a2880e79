"""Reading scenario files (YAML written by analysts) into checked steps, with file:line in every error."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ...domain.durations import parse_duration
from ...domain.model import InstanceStatus


class ScenarioFileError(Exception):
    """A scenario file that cannot be read or does not follow the format; the text names file and line."""


class _Lines(dict):  # type: ignore[type-arg]
    """A mapping that remembers the line it was written on."""

    line: int = 0


class _Loader(yaml.SafeLoader):
    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        mapping = _Lines(super().construct_mapping(node, deep=True))
        mapping.line = node.start_mark.line + 1
        return mapping


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _Loader.construct_mapping)  # type: ignore[arg-type]
# Dates and times stay text: the runner reads them in the service's time zone.
_Loader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

_STATES = tuple(status.value for status in InstanceStatus)
STEP_KINDS = ("complete", "advance", "advance_to", "message", "request_monitoring", "expect")
EXPECT_KEYS = ("path", "reached", "not_reached", "open_tasks", "state", "data", "outbox", "agenda", "letters")
_TOP_KEYS = ("name", "process", "start_at", "start", "steps", "expect", "description")
_STEP_KEYS = {
    "complete": {"complete", "as", "answers"},
    "advance": {"advance"},
    "advance_to": {"advance_to"},
    "message": {"message", "as", "correlation", "payload"},
    "request_monitoring": {"request_monitoring", "as"},
    "expect": {"expect"},
}


@dataclass(frozen=True)
class Step:
    """One step of a scenario: its kind, its keys as written and where it is written."""

    kind: str
    values: dict[str, Any]
    line: int

    def describe(self) -> str:
        """The step as an analyst wrote it, in one line."""
        head = self.values.get(self.kind)
        who = f" as {self.values['as']}" if "as" in self.values else ""
        if self.kind == "expect":
            return "expect " + ", ".join(sorted(head)) if isinstance(head, dict) else "expect"
        return f"{self.kind}: {head}{who}"


@dataclass
class Scenario:
    """A scenario file: how the case starts, the steps, and what must hold at the end."""

    path: Path
    name: str
    process: str
    start_as: str
    start_data: dict[str, Any]
    start_at: str | None = None
    steps: list[Step] = field(default_factory=list)
    start_zone: str | None = None  # `start: zone:`, put where the process declares its zone

    def where(self, line: int) -> str:
        """file:line of a place in this file."""
        return f"{self.path}:{line}"


def _fail(path: Path, line: int, message: str) -> ScenarioFileError:
    return ScenarioFileError(f"{path}:{line}: {message}")


def _check_expect(path: Path, expect: Any, line: int) -> None:
    if not isinstance(expect, dict) or not expect:
        raise _fail(path, line, f"'expect' takes a mapping with any of: {', '.join(EXPECT_KEYS)}")
    at = getattr(expect, "line", line)
    unknown = sorted(set(expect) - set(EXPECT_KEYS))
    if unknown:
        raise _fail(path, at, f"unknown expectation {unknown[0]!r}; known: {', '.join(EXPECT_KEYS)}")
    for key in ("path", "reached", "not_reached", "open_tasks"):
        if key in expect and not (isinstance(expect[key], list) and all(isinstance(v, str) for v in expect[key])):
            raise _fail(path, at, f"'{key}' takes a list of element ids or names")
    if "data" in expect and not isinstance(expect["data"], dict):
        raise _fail(path, at, "'data' takes a mapping of data paths (a.b.0.c) to expected values")
    if "state" in expect and expect["state"] not in _STATES:
        raise _fail(path, at, f"'state' takes one of {', '.join(_STATES)} (got {expect['state']!r})")
    if "outbox" in expect:
        rows = expect["outbox"]
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise _fail(path, at, "'outbox' takes a list of {subject_contains, recipient_contains, count}")
        for row in rows:
            extra = sorted(set(row) - {"subject_contains", "recipient_contains", "count"})
            if extra or not row:
                raise _fail(path, getattr(row, "line", at),
                            f"an outbox expectation takes subject_contains, recipient_contains, count (got {extra})")
    if "letters" in expect:
        letters = expect["letters"]
        if not isinstance(letters, list) or not all(isinstance(r, dict) and r and not set(r) - {"kind", "count", "emailed"}
                                                    for r in letters):
            raise _fail(path, at, "'letters' takes a list of {kind, count, emailed}")
    if "agenda" in expect:
        agenda = expect["agenda"]
        if not isinstance(agenda, dict) or set(agenda) - {"meeting_date", "zone", "reason", "count"}:
            raise _fail(path, at, "'agenda' takes meeting_date (YYYY-MM-DD), zone, reason, count")


_WHO = ("as", "user", "role", "by")


def _who(path: Path, raw: dict[str, Any], line: int, where: str) -> dict[str, Any]:
    """`user:`, `role:` and `by:` are other names of `as:` (a username or a role)."""
    given = [k for k in _WHO if k in raw]
    if len(given) > 1:
        raise _fail(path, line, f"{where}: give only one of {', '.join(given)}")
    values = {k: v for k, v in raw.items() if k not in _WHO[1:]}
    if given:
        values["as"] = raw[given[0]]
    return values


def _check_step(path: Path, raw: Any, index: int, parent_line: int) -> Step:
    line = getattr(raw, "line", parent_line)
    if not isinstance(raw, dict):
        raise _fail(path, line, f"step {index} must be a mapping such as 'complete: profilazione'")
    raw = _who(path, raw, line, f"step {index}")
    if "complete" in raw and "data" in raw and "answers" not in raw:
        raw["answers"] = raw.pop("data")
    kinds = [k for k in STEP_KINDS if k in raw]
    if len(kinds) != 1:
        raise _fail(path, line, f"step {index} must have exactly one of: {', '.join(STEP_KINDS)} (got {sorted(raw)})")
    kind = kinds[0]
    unknown = sorted(set(raw) - _STEP_KEYS[kind])
    if unknown:
        raise _fail(path, line, f"step {index} ({kind}): unknown key {unknown[0]!r}; "
                                f"allowed: {', '.join(sorted(_STEP_KEYS[kind]))}")
    value = raw[kind]
    if kind == "complete":
        if not isinstance(value, str) or not value:
            raise _fail(path, line, f"step {index}: 'complete' takes a user task id or name")
        if not isinstance(raw.get("as"), str):
            raise _fail(path, line, f"step {index}: 'complete' needs 'as' (a username or a role)")
        if not isinstance(raw.get("answers", {}), dict):
            raise _fail(path, line, f"step {index}: 'answers' takes a mapping of form fields")
    elif kind == "advance":
        try:
            parse_duration(str(value))
        except ValueError as exc:
            raise _fail(path, line, f"step {index}: 'advance' takes an ISO 8601 duration such as P3M or PT2H ({exc})"
                        ) from None
    elif kind == "advance_to":
        if isinstance(value, dict):
            extra = sorted(set(value) - {"data", "meeting", "due", "plus"})
            if extra or not (set(value) & {"data", "meeting", "due"}):
                raise _fail(path, line, f"step {index}: 'advance_to' takes a date-time, 'meeting', 'due', "
                                        "or {data: PATH | meeting: true | due: true, plus: DURATION}")
        elif not isinstance(value, str):
            raise _fail(path, line, f"step {index}: 'advance_to' takes an ISO date-time such as 2026-03-02T09:00")
    elif kind == "message":
        if not isinstance(value, str):
            raise _fail(path, line, f"step {index}: 'message' takes a message name")
    elif kind == "request_monitoring":
        if not isinstance(value, str) or not value.strip() or not isinstance(raw.get("as"), str):
            raise _fail(path, line, f"step {index}: 'request_monitoring' takes the reason (motivo) and needs 'as' "
                                    "(the username or role asking)")
    elif kind == "expect":
        _check_expect(path, value, line)
    return Step(kind, dict(raw), line)


def parse_scenario(path: Path) -> Scenario:
    """Read and check one scenario file."""
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506 - a safe loader
    except OSError as exc:
        raise ScenarioFileError(f"{path}: cannot be read ({exc.strerror})") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else 1
        raise _fail(path, line, f"not valid YAML: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise ScenarioFileError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(document, dict):
        raise _fail(path, 1, "a scenario file is a mapping with name, process, start, steps")
    unknown = sorted(set(document) - set(_TOP_KEYS))
    if unknown:
        raise _fail(path, document.line, f"unknown key {unknown[0]!r}; allowed: {', '.join(_TOP_KEYS)}")
    if "process" not in document and isinstance(document.get("start"), dict) and "process" in document["start"]:
        document["process"] = document["start"]["process"]
    document.setdefault("name", path.stem)
    for key in ("process", "start"):
        if key not in document:
            raise _fail(path, document.line, f"missing '{key}'")
    start = document["start"]
    start_line = getattr(start, "line", document.line)
    if isinstance(start, dict):
        start = _who(path, start, start_line, "start")
    if (not isinstance(start, dict) or not isinstance(start.get("as"), str)
            or not isinstance(start.get("data", {}), dict) or set(start) - {"as", "zone", "data", "process"}):
        raise _fail(path, start_line, "'start' takes 'as' (the starter's username or role), optionally 'zone', "
                                      "and 'data' (the start form's answers)")
    data = dict(start.get("data") or {})
    steps_raw = document.get("steps", [])
    if not isinstance(steps_raw, list):
        raise _fail(path, document.line, "'steps' takes a list of steps")
    start_at = str(document["start_at"]) if "start_at" in document else None
    scenario = Scenario(path, str(document["name"]), str(document["process"]), start["as"], data, start_at,
                        start_zone=str(start["zone"]) if "zone" in start else None)
    scenario.steps = [_check_step(path, raw, i, document.line) for i, raw in enumerate(steps_raw, start=1)]
    if "expect" in document:
        _check_expect(path, document["expect"], document.line)
        scenario.steps.append(Step("expect", {"expect": document["expect"]},
                                   getattr(document["expect"], "line", document.line)))
    return scenario


def scenario_files(folder: Path) -> list[Path]:
    """The scenario files of a folder: DIR/scenarios/*.yaml when it exists, else DIR/*.yaml (accounts.yaml aside)."""
    inner = folder / "scenarios"
    base = inner if inner.is_dir() else folder
    return sorted(p for p in [*base.glob("*.yaml"), *base.glob("*.yml")] if p.name != ACCOUNTS_FILE)


ACCOUNTS_FILE = "accounts.yaml"
_ACCOUNT_KEYS = {"username", "role", "zones", "name"}
_OPTIONAL_ACCOUNT_KEYS = {"services"}  # a specialist referent's services (ids of the zone files)


@dataclass(frozen=True)
class Account:
    """An operator scenarios act as (declared beside them, so that the code names no zone or person)."""

    username: str
    role: str
    zones: tuple[str, ...]
    name: str
    services: tuple[str, ...] = ()


def scenario_accounts(folder: Path) -> list[Account]:
    """The operators declared in the folder's accounts.yaml: a list of {username, role, zones, name[, services]}."""
    path = folder / ACCOUNTS_FILE
    if not path.is_file():
        raise ScenarioFileError(f"{path}: missing: declare there the operators scenarios act as "
                                "(a list of username, role, zones, name)")
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ScenarioFileError(f"{path}: not readable YAML: {exc}") from None
    if not isinstance(document, list):
        raise ScenarioFileError(f"{path}: expected a list of accounts")
    accounts: list[Account] = []
    for index, item in enumerate(document, start=1):
        if not isinstance(item, dict) or not _ACCOUNT_KEYS <= set(item) <= _ACCOUNT_KEYS | _OPTIONAL_ACCOUNT_KEYS:
            raise ScenarioFileError(f"{path}: account {index}: give exactly {', '.join(sorted(_ACCOUNT_KEYS))}"
                                    f" (and optionally {', '.join(sorted(_OPTIONAL_ACCOUNT_KEYS))})")
        zones = item["zones"] if isinstance(item["zones"], list) else [item["zones"]]
        services = item.get("services") or []
        services = services if isinstance(services, list) else [services]
        accounts.append(Account(str(item["username"]), str(item["role"]), tuple(str(z) for z in zones),
                                str(item["name"]), tuple(str(s) for s in services)))
    return accounts
