"""The analysts' modeler: drafts of a process diagram, checked, compared, tried on the scenarios, then deployed.

A draft is the main BPMN file of a process as drawn in the browser; the other files it is
validated and deployed with (called processes, DMN tables, forms, messages, case facts) are
those of the deployed versions, with the forms folder's newer forms.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...clock import Clock
from ...config import Settings
from ...domain.errors import DeploymentFailed, InputRefused, NotFound
from ...domain.model import ACTIVE_STATUSES, Actor, Problem
from ...engine.camunda import form_from_key
from ...engine.migration import plan_and_migrate
from ...engine.parsing import compile_from_sources
from ...persistence.uow import UnitOfWork
from ..access import authorization
from ..scenarios.suite import run_suite
from ..workflow.runtime import FORM_SUFFIX, Runtime
from ..access.lanes import LANES_FILE
from . import deployment

MAX_NOTE = 2000
MIGRATION_SAMPLE = 500  # running cases checked one by one for "can migrate"; beyond that the count says so


@dataclass(frozen=True)
class VersionImpact:
    """Running cases on one version and how many of them could move to the draft."""

    version: int
    running: int
    migratable: int
    checked: int


def _deployed_files(uow: UnitOfWork) -> dict[str, str]:
    files: dict[str, str] = {}
    for row in uow.versions.latest_headers():
        full = uow.versions.get(int(row["id"]))
        files.update(dict(full["files"]) if full else {})
    return files


def _main_file(uow: UnitOfWork, process_id: str) -> tuple[str, int]:
    row = uow.versions.latest(process_id)
    if row is None:
        raise NotFound(f"process {process_id!r} is not deployed")
    return str(row["main_file"]), int(row["version"])


def sources_with(rt: Runtime, uow: UnitOfWork, process_id: str, xml: str) -> deployment.Sources:
    """The deployed files with the process's main file replaced by `xml`, and the forms folder's forms."""
    main, _ = _main_file(uow, process_id)
    files = _deployed_files(uow)
    files[main] = xml
    forms = {n: t.encode("utf-8") for n, t in files.items() if n.endswith(FORM_SUFFIX)}
    if rt.settings.forms_dir.is_dir():
        forms.update({p.name: p.read_bytes() for p in rt.settings.forms_dir.glob(f"*{FORM_SUFFIX}")})
    processes = {n: t.encode("utf-8") for n, t in files.items() if n.lower().endswith((".bpmn", ".dmn"))}
    messages = files.get(deployment.POLICY_FILE)
    cases = {n: t.encode("utf-8") for n, t in files.items() if n.endswith(deployment.CASE_SUFFIX)}
    lane_text = files.get(LANES_FILE)
    return deployment.Sources(processes, forms, messages=messages.encode("utf-8") if messages else None, cases=cases,
                              lanes=lane_text.encode("utf-8") if lane_text else None)


def check(rt: Runtime, actor: Actor, process_id: str, xml: str) -> list[Problem]:
    """The service's validation of a diagram as drawn, with the files it deploys with: problems, then warnings."""
    authorization.require_deployer(actor)
    with rt.uow(write=False) as uow:
        sources = sources_with(rt, uow, process_id, xml)
    found = deployment.check(rt, sources)
    return [*found.problems, *found.warnings]


def current_diagram(rt: Runtime, actor: Actor, process_id: str) -> tuple[str, dict[str, Any] | None]:
    """The newest draft of a process if any (with its row), else the deployed main file."""
    authorization.require_deployer(actor)
    with rt.uow(write=False) as uow:
        draft = uow.drafts.latest(process_id)
        main, _ = _main_file(uow, process_id)
        if draft is not None:
            return str(draft["content"]), dict(draft)
        row = uow.versions.latest(process_id)
    assert row is not None
    return str(dict(row["files"])[main]), None


def save(rt: Runtime, actor: Actor, process_id: str, xml: str, note: str) -> int:
    """Keep a diagram as a draft with its version note (nothing is deployed)."""
    authorization.require_deployer(actor)
    note = (note or "").strip()
    if not note or len(note) > MAX_NOTE:
        raise InputRefused("note", "a version note is needed", {"nota": ["Scrivere una nota di versione."]})
    if not xml.strip():
        raise InputRefused("diagram", "the diagram is empty", {"xml": ["Il diagramma è vuoto."]})
    with rt.uow() as uow:
        main, base = _main_file(uow, process_id)
        draft_id = uow.drafts.add({"process_id": process_id, "main_file": main, "content": xml, "note": note,
                                   "base_version": base, "author": actor.username, "saved_at": rt.now()})
        uow.audit.record(rt.now(), actor.username, "process.draft_saved", data={"process": process_id, "draft": draft_id})
        uow.commit()
    return draft_id


def _draft(uow: UnitOfWork, process_id: str, draft_id: int) -> Mapping[str, Any]:
    row = uow.drafts.get(draft_id)
    if row is None or row["process_id"] != process_id:
        raise NotFound(f"draft {draft_id} of {process_id} does not exist")
    return row


def _write(sources: deployment.Sources, folder: Path, scenarios: Path) -> tuple[Path, Path]:
    processes, forms = folder / "processes", folder / "forms"
    processes.mkdir(parents=True)
    forms.mkdir()
    for name, content in sources.processes.items():
        (processes / name).write_bytes(content)
    for name, content in {**sources.cases, **({deployment.POLICY_FILE: sources.messages} if sources.messages else {})}.items():
        (processes / name).write_bytes(content)
    for name, content in sources.forms.items():
        (forms / name).write_bytes(content)
    if sources.lanes is not None:
        (processes / LANES_FILE).write_bytes(sources.lanes)
    if scenarios.is_dir():
        shutil.copytree(scenarios, processes / "scenarios")
    return processes, forms


def run_scenarios(rt: Runtime, actor: Actor, process_id: str, draft_id: int,
                  build: Callable[[Settings, Clock], Runtime]) -> dict[str, Any]:
    """Run the scenario files (GOL_PROCESSES_DIR/scenarios) on the draft; the result is kept with the draft."""
    authorization.require_deployer(actor)
    with rt.uow(write=False) as uow:
        draft = _draft(uow, process_id, draft_id)
        sources = sources_with(rt, uow, process_id, str(draft["content"]))
    folder = Path(tempfile.mkdtemp(prefix="gol-draft-"))
    try:
        processes, forms = _write(sources, folder, rt.settings.processes_dir / "scenarios")
        suite = run_suite(build, processes, forms, rt.settings.zones_dir, deployment.read_sources(processes, forms))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    summary = suite.summary(rt.now())
    summary["results"] = [{"name": r.name, "passed": r.passed} for r in suite.results]
    with rt.uow() as uow:
        uow.drafts.set_scenarios(draft_id, summary)
        uow.commit()
    return summary


def impact(rt: Runtime, actor: Actor, process_id: str, draft_id: int) -> list[VersionImpact]:
    """Per deployed version, its running cases and how many could migrate to the draft."""
    authorization.require_deployer(actor)
    with rt.uow(write=False) as uow:
        draft = _draft(uow, process_id, draft_id)
        sources = sources_with(rt, uow, process_id, str(draft["content"]))
        problems = deployment.check(rt, sources).problems
        if problems:
            raise DeploymentFailed(f"{len(problems)} problem(s) found in the draft", problems)
        new = compile_from_sources({n: c for n, c in sources.processes.items()}, process_id)
        counts = uow.instance_search.counts_by_version()
        versions = {int(v.id): v for v in _versions(uow, process_id)}
        found: list[VersionImpact] = []
        for version_id, row in sorted(versions.items(), key=lambda item: -item[1].version):
            running = sum(n for (vid, status), n in counts.items() if vid == version_id and status in ACTIVE_STATUSES)
            migratable = checked = 0
            if running:
                old = rt.processes.get(uow, version_id).compiled
                for instance_id in uow.instances.active_ids_of_version(version_id, MIGRATION_SAMPLE):
                    checked += 1
                    try:
                        outcome = plan_and_migrate(rt.engine, old, uow.instances.state(instance_id) or "", new)
                    except Exception:  # noqa: BLE001 - a case that cannot be planned cannot migrate
                        continue
                    migratable += outcome.ok
            found.append(VersionImpact(row.version, running, migratable, checked))
    return found


@dataclass(frozen=True)
class _Version:
    id: int
    version: int


def _versions(uow: UnitOfWork, process_id: str) -> list[_Version]:
    return [_Version(int(r["id"]), int(r["version"])) for r in uow.versions.list_all() if r["process_id"] == process_id]


def publish(rt: Runtime, actor: Actor, process_id: str, draft_id: int) -> deployment.DeployReport:
    """Deploy a draft with its note and its last scenario result (DeploymentFailed with the problems)."""
    authorization.require_deployer(actor)
    with rt.uow(write=False) as uow:
        draft = _draft(uow, process_id, draft_id)
        sources = sources_with(rt, uow, process_id, str(draft["content"]))
    return deployment.deploy(rt, sources, actor, note=str(draft["note"]), scenarios=draft["scenarios"])


def preview_form(rt: Runtime, actor: Actor, key: str) -> tuple[str, dict[str, Any]]:
    """The form a camunda:formKey (or form file name) names, read from the forms folder or the deployed versions."""
    authorization.require_deployer(actor)
    name = form_from_key(key) or ""
    path = rt.settings.forms_dir / name
    if name and path.is_file():
        return name, json.loads(path.read_text(encoding="utf-8"))
    with rt.uow(write=False) as uow:
        text = _deployed_files(uow).get(name)
    if not text:
        raise NotFound(f"form {name or key!r} does not exist")
    return name, json.loads(text)
