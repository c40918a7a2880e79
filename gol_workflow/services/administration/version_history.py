"""The versions of a process as an analyst reads them: note, author, date, what changed, scenarios, running cases."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ...domain.model import Actor
from ...engine.migration import ElementChange, compare_versions
from ..workflow.runtime import Runtime
from . import process_catalog


@dataclass(frozen=True)
class VersionRecord:
    """One version with what changed since the one before it."""

    version: int
    version_id: int
    note: str | None
    author: str
    deployed_at: datetime
    running: int
    total: int
    scenarios: dict[str, Any] | None
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    first: bool = False

    @property
    def scenario_text(self) -> str:
        """The scenario result in a few words (English, for the command line)."""
        if not self.scenarios:
            return "scenarios not run"
        if self.scenarios.get("error"):
            return "scenario files unreadable"
        passed, failed = self.scenarios.get("passed", 0), self.scenarios.get("failed", 0)
        return f"scenarios {passed}/{passed + failed} passed"


def _label(change: ElementChange) -> str:
    name = f"{change.name} ({change.element_id})" if change.name and change.name != change.element_id else change.element_id
    return f"{name}: {', '.join(change.attributes)}" if change.attributes else name


def history(rt: Runtime, actor: Actor, process_id: str) -> list[VersionRecord]:
    """Every version of a process, newest first, each compared with the one before it."""
    entry = process_catalog.process_entry(rt, actor, process_id)
    oldest_first = sorted(entry.versions, key=lambda v: v.version)
    records: list[VersionRecord] = []
    with rt.uow(write=False) as uow:
        rows = {v.id: uow.versions.get(v.id) for v in oldest_first}
        compiled = {v.id: rt.processes.get(uow, v.id).compiled for v in oldest_first}
    previous = None
    for info in oldest_first:
        row = rows[info.id] or {}
        changes = compare_versions(rt.engine, compiled[previous.id], compiled[info.id]) if previous else []
        records.append(VersionRecord(
            info.version, info.id, row.get("note"), info.deployed_by, info.deployed_at, info.active, info.total,
            row.get("scenarios"),
            added=[_label(c) for c in changes if c.change == "added"],
            removed=[_label(c) for c in changes if c.change == "removed"],
            changed=[_label(c) for c in changes if c.change == "changed"],
            first=previous is None,
        ))
        previous = info
    return list(reversed(records))
