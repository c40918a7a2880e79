"""The roles of the service, read from the role file an administrator edits (`processes/roles.toml`).

Each role has an Italian label and a scope that decides which cases and tasks its people see:
`zone` (the cases and tasks of their zones), `case` (the cases assigned to them), `invitation`
(the cases of their zones their service is invited to), `all` (administrators) or `none`
(people who only deploy). Nothing is read at import time: the runtime installs the file it was
configured with, and anything asking before that reads the file the settings name.
"""

from __future__ import annotations

import re
import threading
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...domain.errors import GolError
from ...domain.model import Problem

SCOPES = ("zone", "case", "invitation", "all", "none")
ROLE_KEYS = frozenset({"label", "scope", "deploy", "actions", "capabilities", "participants", "participant_services"})
ACTIONS = frozenset({"case.request_monitoring", "case.report_change", "case.attach", "case.record_placement"})
# What a role may do beyond its cases and tasks, in the zones of its people.
READS_AGGREGATES = "reads_aggregates"  # the zones' indicators, aggregates only (never a person's data)
KEEPS_MEETING_REGISTER = "keeps_meeting_register"  # the zones' register of coordination meetings
CAPABILITIES = frozenset({READS_AGGREGATES, KEEPS_MEETING_REGISTER})
_PARTICIPANT = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
SYSTEM = "system"  # the service itself: acts like an administrator, never a person's role


class RoleFileError(GolError):
    """The role file cannot be used; `problems` say where (file:line)."""

    code = "role_file_invalid"

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class Role:
    """One role as the role file declares it."""

    name: str
    label: str
    scope: str
    deploy: bool = False  # may validate and deploy process files
    actions: frozenset[str] = frozenset()  # what it may do to a case outside tasks (on the cases it sees)
    capabilities: frozenset[str] = frozenset()  # CAPABILITIES, in the zones of its people
    participants: tuple[str, ...] = ()  # the multi-instance participants (`partecipante.codice`) it stands for
    participant_services: bool = False  # each of its people's services is their own participant


@dataclass(frozen=True)
class Roles:
    """Every declared role, in file order."""

    items: Mapping[str, Role]

    def names(self) -> tuple[str, ...]:
        """Role names, in file order."""
        return tuple(self.items)

    def get(self, name: str) -> Role | None:
        """The role of this name, if declared."""
        return self.items.get(name)

    def scope(self, name: str) -> str:
        """The scope of a role; an unknown role sees nothing."""
        if name == SYSTEM:
            return "all"
        role = self.items.get(name)
        return role.scope if role is not None else "none"

    def label(self, name: str) -> str:
        """The Italian label of a role (its name when unknown)."""
        role = self.items.get(name)
        return role.label if role is not None else name

    def with_scope(self, *scopes: str) -> frozenset[str]:
        """Names of the roles with one of these scopes."""
        return frozenset(name for name, role in self.items.items() if role.scope in scopes)

    def has(self, name: str, capability: str) -> bool:
        """True when the role declares this capability."""
        role = self.items.get(name)
        return role is not None and capability in role.capabilities

    def stood_for(self) -> frozenset[str]:
        """Every participant a whole role stands for (not a person's own service)."""
        return frozenset(p for role in self.items.values() for p in role.participants)


def line_of(text: str, table: str, key: str | None = None) -> int:
    """The line of `[table]` (or of `key` inside it) in a TOML text; 1 when not found."""
    lines = text.splitlines()
    header = re.compile(r"^\s*\[\s*" + re.escape(table) + r"\s*\]")
    for number, line in enumerate(lines, start=1):
        if header.match(line):
            if key is None:
                return number
            for offset, inner in enumerate(lines[number:], start=number + 1):
                if inner.lstrip().startswith("["):
                    break
                if re.match(r"^\s*" + re.escape(key) + r"\s*=", inner):
                    return offset
            return number
    return 1


def parse(text: str, source: str = "roles.toml") -> tuple[Roles, list[Problem]]:
    """The roles of a role file and the problems found (each with its line)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None) or _decode_line(str(exc))
        return Roles({}), [Problem(source, line, None, f"not valid TOML: {exc}")]
    problems: list[Problem] = []
    items: dict[str, Role] = {}
    for name, table in raw.items():
        line = line_of(text, name)
        if not isinstance(table, dict):
            problems.append(Problem(source, _key_line(text, name), name,
                                    "each role is a table: [name] with label and scope"))
            continue
        if not _NAME.match(name) or name == SYSTEM:
            problems.append(Problem(source, line, name, "a role name is lowercase letters, digits, _ or - "
                                    f"(at most 32) and not {SYSTEM!r}"))
            continue
        unknown = sorted(set(table) - ROLE_KEYS)
        for key in unknown:
            problems.append(Problem(source, line_of(text, name, key), name,
                                    f"unknown key {key!r} (known: {', '.join(sorted(ROLE_KEYS))})"))
        label, scope = table.get("label"), table.get("scope")
        if not isinstance(label, str) or not label.strip():
            problems.append(Problem(source, line_of(text, name, "label"), name, "label (the Italian name) is required"))
        if scope not in SCOPES:
            problems.append(Problem(source, line_of(text, name, "scope"), name,
                                    f"scope must be one of {', '.join(SCOPES)}, not {scope!r}"))
        deploy = table.get("deploy", False)
        if not isinstance(deploy, bool):
            problems.append(Problem(source, line_of(text, name, "deploy"), name, "deploy is true or false"))
        actions = table.get("actions", [])
        if not isinstance(actions, list) or any(a not in ACTIONS for a in actions):
            problems.append(Problem(source, line_of(text, name, "actions"), name,
                                    f"actions is a list of: {', '.join(sorted(ACTIONS))}"))
            actions = []
        capabilities = table.get("capabilities", [])
        if not isinstance(capabilities, list) or any(c not in CAPABILITIES for c in capabilities):
            problems.append(Problem(source, line_of(text, name, "capabilities"), name,
                                    f"capabilities is a list of: {', '.join(sorted(CAPABILITIES))}"))
            capabilities = []
        participants = table.get("participants", [])
        if not isinstance(participants, list) or any(not isinstance(p, str) or not _PARTICIPANT.match(p)
                                                     for p in participants):
            problems.append(Problem(source, line_of(text, name, "participants"), name,
                                    "participants is a list of participant codes (lowercase letters, digits, _)"))
            participants = []
        services = table.get("participant_services", False)
        if not isinstance(services, bool):
            problems.append(Problem(source, line_of(text, name, "participant_services"), name,
                                    "participant_services is true or false"))
        if not problems or all(p.element != name for p in problems):
            items[name] = Role(name, str(label).strip(), str(scope), bool(deploy), frozenset(actions),
                               frozenset(capabilities), tuple(participants), bool(services))
    if not raw:
        problems.append(Problem(source, 1, None, "no role declared"))
    elif not any(role.scope == "all" for role in items.values()) and not problems:
        problems.append(Problem(source, 1, None, "no role with scope = \"all\": nobody could administer the service"))
    return Roles(items), problems


def _key_line(text: str, key: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if re.match(r"^\s*" + re.escape(key) + r"\s*=", line):
            return number
    return 1


def _decode_line(message: str) -> int:
    found = re.search(r"line (\d+)", message)
    return int(found.group(1)) if found else 1


def load(path: Path) -> Roles:
    """The roles of a role file; RoleFileError when it cannot be used."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RoleFileError([Problem(source, 1, None, f"cannot be read ({exc})")]) from None
    roles, problems = parse(text, source)
    if problems:
        raise RoleFileError(problems)
    return roles


_lock = threading.Lock()
_installed: dict[str, Any] = {}


def install(roles: Roles) -> None:
    """Make these the roles every authorisation decision reads (done when a runtime is built)."""
    with _lock:
        _installed["roles"] = roles


def current() -> Roles:
    """The roles in force: those installed, else the role file the environment's settings name."""
    roles = _installed.get("roles")
    if roles is None:
        from ...config import load_settings

        roles = load(load_settings().roles_file)
        install(roles)
    return roles  # type: ignore[no-any-return]
