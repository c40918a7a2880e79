"""The case record: the typed facts of a case, kept by the step that changes them, in its transaction.

Which data feed which fact is the process's declaration (`<process>.case.toml`, deployed with
its version); this module only applies it. A step computes the facts from the case's data,
compares them with what the same process last wrote (when it still holds the workflow) and
writes the row only when something differs; without that memory it sends a conditional
upsert that leaves an unchanged row untouched.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ...domain.case_facts import COUNT_FACTS, CaseDeclaration, CaseDeclarationError
from ...persistence.uow import UnitOfWork
from ..workflow.runtime import CASE_SUFFIX, ProcessVersion, Runtime, parse_case_declaration

FOLDER_KEY = "case_declarations"
# Compared to decide whether the row changes; updated_at follows the others.
NOT_COMPARED = frozenset({"updated_at", *COUNT_FACTS})


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def folder_declarations(rt: Runtime) -> dict[str, CaseDeclaration]:
    """Declarations in the processes folder, by process id: for versions deployed without one."""
    found = rt.extras.get(FOLDER_KEY)
    if found is None:
        found = {}
        folder = Path(rt.settings.processes_dir)
        if folder.is_dir():
            for path in sorted(folder.glob(f"*{CASE_SUFFIX}")):
                try:
                    declaration = parse_case_declaration(path.name, path.read_text(encoding="utf-8"))
                except (CaseDeclarationError, OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
                    continue  # `deploy` and `validate` report it; a step never fails for it
                found[declaration.process_id] = declaration
        rt.extras[FOLDER_KEY] = found
    return found  # type: ignore[no-any-return]


def declaration(rt: Runtime, version: ProcessVersion) -> CaseDeclaration | None:
    """The case declaration a version runs with: its own, else the processes folder's."""
    if version.case is not None:
        return version.case
    return folder_declarations(rt).get(version.process_id)


def _header_facts(header: Mapping[str, Any]) -> dict[str, Any]:
    """The facts every case has, from its instance row."""
    return {
        "status": header["status"],
        "current_step": header.get("current_step"),
        "ended_at": header.get("ended_at"),
    }


# Instance columns (what lists, inbox scopes and authorisation read) fed by the same facts.
HEADER_COLUMNS = ("zone", "beneficiary_name", "codice_fiscale", "case_manager", "specialist_services")


def declared_facts(rt: Runtime, version: ProcessVersion, data: Mapping[str, Any]) -> dict[str, Any] | None:
    """The declared facts the case's data hold now; None for a process without a case record."""
    declared = declaration(rt, version)
    if declared is None:
        return None
    return declared.facts_from(data, _zone(rt.settings.timezone))


def start_zone(rt: Runtime, version: ProcessVersion, data: Mapping[str, Any]) -> tuple[str | None, bool]:
    """The zone a start form's data give, and whether the process declares a zone at all."""
    declared = declaration(rt, version)
    if declared is None or not any(fact.name == "zone" for fact in declared.facts):
        return None, False
    return declared.facts_from(data, _zone(rt.settings.timezone)).get("zone"), True


TASK_FIELDS = ("beneficiary_name", "codice_fiscale")  # what an inbox row shows of the case


def task_fields(rt: Runtime, version: ProcessVersion, data: Mapping[str, Any]) -> dict[str, Any]:
    """The case fields an inbox row shows, from a task's data (or the declared item about another case)."""
    declared = declaration(rt, version)
    if declared is None:
        return dict.fromkeys(TASK_FIELDS)
    item = data.get(declared.task_item) if declared.task_item else None
    facts = declared.facts_from(item if isinstance(item, Mapping) else data, _zone(rt.settings.timezone))
    return {name: facts.get(name) for name in TASK_FIELDS}


def header_columns(facts: Mapping[str, Any]) -> dict[str, Any]:
    """The instance columns the facts give (a fact the data do not hold leaves its column as it is)."""
    return {name: facts[name] for name in HEADER_COLUMNS if name in facts}


def on_step(
    rt: Runtime,
    uow: UnitOfWork,
    version: ProcessVersion,
    header: Mapping[str, Any],
    declared_now: Mapping[str, Any] | None,
    now: datetime,
    completed: tuple[str, Mapping[str, Any]] | None,
    previous: Mapping[str, Any] | None,
) -> Mapping[str, Any] | None:
    """Bring the case's record up to date inside the step's transaction; returns the facts now stored.

    `declared_now` are the declared facts of the case's data (`declared_facts`); `completed` the
    user task the step completed and its form data; `previous` the facts this process stored
    last time (None when unknown). Nothing is written when nothing changed.
    """
    declared = declaration(rt, version)
    if declared is None or declared_now is None or not declared.record:
        return None
    tz = _zone(rt.settings.timezone)
    facts = {**_header_facts(header), **declared_now}
    counts: dict[str, int] = {}
    if completed is not None:
        counts, set_by_completion = declared.completed(completed[0], completed[1], now, tz)
        facts.update(set_by_completion)
    if previous is not None and not any(counts.values()) and all(
        key in previous and previous[key] == value for key, value in facts.items()
    ):
        return previous
    values = {"id": str(header["id"]), "process_id": header["process_id"], "opened_at": header["started_at"],
              "updated_at": now, **facts, **{name: counts.get(name, 0) for name in COUNT_FACTS}}
    uow.case_records.upsert(values)
    return {**(previous or {}), **{k: v for k, v in facts.items() if k not in NOT_COMPARED}}


def on_status(uow: UnitOfWork, case_id: str, status: str, now: datetime) -> None:
    """Mirror a status set without a workflow step (a suspension)."""
    uow.case_records.set_status(case_id, status, now)


@dataclass
class RebuildReport:
    """What `rebuild` did."""

    rebuilt: int = 0
    skipped: int = 0  # instances of processes that declare no case record


def rebuild(
    rt: Runtime,
    read_data: Callable[[UnitOfWork, Mapping[str, Any], ProcessVersion], Mapping[str, Any]],
    batch: int = 200,
    progress: Callable[[int], None] | None = None,
) -> RebuildReport:
    """(Re)build every case record from its instance's data and its audited task completions.

    `read_data` gives the case's current data (loading the workflow). Counts and the values
    taken at a completion come from the audit log's `task.completed` events, which hold the
    form data exactly as the step saw it. Works in batches, one transaction each.
    """
    report = RebuildReport()
    after = ""
    tz = _zone(rt.settings.timezone)
    while True:
        with rt.uow() as uow:
            rows = uow.instances.headers_after(after, batch)
            if not rows:
                break
            anonymised = uow.retention.anonymised_among([str(r["id"]) for r in rows])
            for header in rows:
                if header["id"] in anonymised:  # its record is all that is left of it: never rebuilt from nothing
                    report.skipped += 1
                    continue
                version = rt.processes.get(uow, int(header["process_version_id"]))
                declared = declaration(rt, version)
                if declared is None or not declared.record:
                    report.skipped += 1
                    continue
                record = _rebuilt(uow, declared, header, read_data(uow, header, version), tz)
                uow.case_records.replace(record)
                report.rebuilt += 1
            uow.commit()
            after = rows[-1]["id"]
        if progress is not None:
            progress(report.rebuilt)
    return report


def _rebuilt(
    uow: UnitOfWork, declared: CaseDeclaration, header: Mapping[str, Any], data: Mapping[str, Any], tz: ZoneInfo
) -> dict[str, Any]:
    facts: dict[str, Any] = {**_header_facts(header), **declared.facts_from(data, tz)}
    counts = dict.fromkeys(COUNT_FACTS, 0)
    tasks = declared.counted_tasks()
    if tasks:
        for row in uow.audit.completions_of(header["id"], sorted(tasks)):
            form = (row["data"] or {}).get("data") if isinstance(row["data"], Mapping) else None
            added, set_by_completion = declared.completed(row["element_id"], form or {}, row["at"], tz)
            for name, n in added.items():
                counts[name] += n
            facts.update(set_by_completion)
    return {"id": header["id"], "process_id": header["process_id"], "opened_at": header["started_at"],
            "updated_at": header["updated_at"], **facts, **counts}


def after_move(
    rt: Runtime, uow: UnitOfWork, version: ProcessVersion, header: Mapping[str, Any], data: Mapping[str, Any]
) -> dict[str, Any]:
    """Rebuild a case's record after an administrator moved it; returns the facts it cleared (old values).

    A fact the case's data no longer hold (set by a step the move undid) is cleared, not kept:
    the record tells where the case is now. Counts and values taken at a completion come from
    the completions no move undid. The old values go into the move's audit record.
    """
    declared = declaration(rt, version)
    if declared is None or not declared.record:
        return {}
    tz = _zone(rt.settings.timezone)
    before = uow.case_records.get(str(header["id"]))
    facts: dict[str, Any] = {fact.name: None for fact in declared.facts}
    facts.update(declared.facts_from(data, tz))
    taken: dict[str, Any] = {}
    counts = dict.fromkeys(COUNT_FACTS, 0)
    tasks = declared.counted_tasks()
    for row in uow.audit.standing_completions(str(header["id"])):
        if row["element_id"] not in tasks:
            continue
        form = (row["data"] or {}).get("data") if isinstance(row["data"], Mapping) else None
        added, set_by_completion = declared.completed(row["element_id"], form or {}, row["at"], tz)
        for name, n in added.items():
            counts[name] += n
        taken.update(set_by_completion)
    facts.update(taken)
    for rule in declared.completions:  # a value taken at a completion the move undid is cleared too
        for name in (rule.time, rule.last[0] if rule.last else None):
            if name:
                facts.setdefault(name, None)
    record = {"id": header["id"], "process_id": header["process_id"], "opened_at": header["started_at"],
              "updated_at": header["updated_at"], **_header_facts(header), **facts, **counts}
    uow.case_records.replace(record)
    if before is None:
        return {}
    return {name: before[name] for name in (*facts, *counts)
            if name in before and before[name] is not None and before[name] != record.get(name)}
