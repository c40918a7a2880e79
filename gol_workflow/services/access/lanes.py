"""Which roles work each lane and which roles start each process: `lanes.toml` beside the BPMN files.

    [lanes]                       # lane name as drawn = the roles that work its tasks
    "Sportello" = ["sportello"]
    [starters]                    # process id = the roles that may start it
    accoglienza = ["sportello"]

The file is deployed with each process version (so a version keeps the mapping it was deployed
with); the processes folder's file serves versions deployed without one.
"""

from __future__ import annotations

import re
import threading
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...domain.model import Problem

LANES_FILE = "lanes.toml"
TABLES = ("lanes", "starters")


@dataclass(frozen=True)
class LaneMap:
    """Lane name -> roles, and process id -> starter roles."""

    lanes: Mapping[str, frozenset[str]] = field(default_factory=dict)
    starters: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def roles_of(self, lane: str | None) -> frozenset[str]:
        """The roles that work a lane's tasks (none for an unknown lane)."""
        return self.lanes.get(lane or "", frozenset())

    def lanes_for(self, role: str) -> tuple[str, ...]:
        """The lanes whose tasks a role works."""
        return tuple(sorted(lane for lane, roles in self.lanes.items() if role in roles))


def _line(text: str, key: str, table: str) -> int:
    inside = False
    quoted = re.compile(r'^\s*("' + re.escape(key) + r'"|' + re.escape(key) + r")\s*=")
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("["):
            inside = stripped.strip("[] ") == table
        elif inside and quoted.match(line):
            return number
    return 1


def parse(text: str, source: str = LANES_FILE, roles: Collection[str] | None = None) -> tuple[LaneMap, list[Problem]]:
    """The mapping of a lane file and its problems (`roles`: the known roles, to refuse others)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return LaneMap(), [Problem(source, getattr(exc, "lineno", None) or 1, None, f"not valid TOML: {exc}")]
    problems: list[Problem] = []
    for key in raw:
        if key not in TABLES:
            problems.append(Problem(source, 1, key, f"unknown table; known: {', '.join(TABLES)}"))
    tables: dict[str, dict[str, frozenset[str]]] = {"lanes": {}, "starters": {}}
    for table in TABLES:
        entries: Any = raw.get(table, {})
        if not isinstance(entries, dict):
            problems.append(Problem(source, 1, table, "must be a table of name = [roles]"))
            continue
        for name, value in entries.items():
            line = _line(text, name, table)
            if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
                problems.append(Problem(source, line, name, "the roles are a list of role names"))
                continue
            for role in value:
                if roles is not None and role not in roles:
                    problems.append(Problem(source, line, name, f"unknown role {role!r} (known: {', '.join(roles)})"))
            tables[table][name] = frozenset(value)
    return LaneMap(tables["lanes"], tables["starters"]), problems


def load(folder: Path, roles: Collection[str] | None = None) -> LaneMap:
    """The processes folder's lane file (an empty mapping when there is none or it is unusable)."""
    path = folder / LANES_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return LaneMap()
    found, problems = parse(text, str(path), roles)
    return found if not problems else LaneMap()  # `validate` and `deploy` report the problems


_lock = threading.Lock()
_installed: dict[str, LaneMap] = {}


def install(mapping: LaneMap) -> None:
    """Make this the mapping of the processes folder (done when a runtime is built)."""
    with _lock:
        _installed["lanes"] = mapping


def current() -> LaneMap:
    """The processes folder's mapping: for tasks and versions that carry none of their own."""
    found = _installed.get("lanes")
    if found is None:
        from ...config import load_settings

        found = load(load_settings().processes_dir)
        install(found)
    return found
