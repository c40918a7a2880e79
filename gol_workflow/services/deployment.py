"""Validating and deploying process files as immutable, numbered versions."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..domain.errors import DeploymentFailed
from ..domain.model import Actor, Problem
from ..engine.parsing import compile_process, process_dependencies
from ..engine.rules import check_project_rules
from ..engine.validation import validate_sources
from ..forms.validation import schema_problems
from . import authorization
from .runtime import FORM_SUFFIX, Runtime

SOURCE_SUFFIXES = (".bpmn", ".dmn")


@dataclass(frozen=True)
class Sources:
    """Process files and forms read from disk or an upload."""

    processes: dict[str, bytes]
    forms: dict[str, bytes]


@dataclass
class DeployedProcess:
    """Outcome for one process id."""

    process_id: str
    version: int
    changed: bool


@dataclass
class DeployReport:
    """What validation found and, unless checking only, what was deployed."""

    problems: list[Problem] = field(default_factory=list)
    processes: list[DeployedProcess] = field(default_factory=list)


def read_sources(processes_dir: Path, forms_dir: Path | None) -> Sources:
    """Read every .bpmn/.dmn of a folder (or one file) and every form."""
    if processes_dir.is_file():
        files = [processes_dir]
    else:
        files = sorted(p for p in processes_dir.iterdir() if p.suffix in SOURCE_SUFFIXES and p.is_file())
    forms: dict[str, bytes] = {}
    if forms_dir is not None and forms_dir.is_dir():
        forms = {p.name: p.read_bytes() for p in sorted(forms_dir.glob(f"*{FORM_SUFFIX}"))}
    return Sources({p.name: p.read_bytes() for p in files}, forms)


def _parse_forms(forms: Mapping[str, bytes]) -> tuple[dict[str, dict], list[Problem]]:
    parsed: dict[str, dict] = {}
    problems: list[Problem] = []
    for name, content in sorted(forms.items()):
        try:
            schema = json.loads(content)
        except (ValueError, UnicodeDecodeError) as exc:
            problems.append(Problem(name, getattr(exc, "lineno", None), None, f"not valid JSON: {exc}"))
            continue
        for message in schema_problems(schema):
            problems.append(Problem(name, None, None, message))
        if isinstance(schema, dict):
            parsed[name] = schema
    return parsed, problems


def validate(sources: Sources, with_forms: bool = True) -> tuple[list[Problem], object | None, list[str]]:
    """Every problem in the sources; also the loaded parser and process ids when parsing worked."""
    report = validate_sources(sources.processes)
    forms, problems = _parse_forms(sources.forms)
    problems = report.problems + problems
    if report.parser is not None:
        problems += check_project_rules(report.parser, sources.processes, forms if with_forms else None)
    return problems, report.parser, report.process_ids


def _bundle(parser: object, process_id: str, sources: Sources) -> tuple[str, dict[str, str]]:
    compiled = compile_process(parser, process_id)  # type: ignore[arg-type]
    names = process_dependencies(parser, process_id)  # type: ignore[arg-type]
    files = {name: sources.processes[name].decode("utf-8") for name in sorted(names)}
    forms = {meta.form for meta in compiled.tasks.values() if meta.form}
    if compiled.start_form:
        forms.add(compiled.start_form)
    for form in sorted(forms):
        if form in sources.forms:
            files[form] = sources.forms[form].decode("utf-8")
    digest = hashlib.sha256()
    for name, text in sorted(files.items()):
        digest.update(name.encode() + b"\0" + text.encode() + b"\0")
    return digest.hexdigest(), files


def deploy(rt: Runtime, sources: Sources, actor: Actor, check_only: bool = False) -> DeployReport:
    """Validate, then store a new version of every process whose files changed (one transaction)."""
    authorization.require_deployer(actor)
    problems, parser, process_ids = validate(sources)
    report = DeployReport(problems=problems)
    if problems:
        raise DeploymentFailed(f"{len(problems)} problem(s) found: nothing was deployed", problems)
    if check_only or parser is None:
        return report
    now = rt.now()
    with rt.uow() as uow:
        for process_id in process_ids:
            content_hash, files = _bundle(parser, process_id, sources)
            latest = uow.versions.latest(process_id)
            if latest is not None and latest["content_hash"] == content_hash:
                report.processes.append(DeployedProcess(process_id, latest["version"], False))
                continue
            number = (latest["version"] if latest else 0) + 1
            main = parser.get_process_parser(process_id).filename  # type: ignore[attr-defined]
            name = parser.get_spec(process_id).description or process_id  # type: ignore[attr-defined]
            uow.versions.add(
                {
                    "process_id": process_id,
                    "version": number,
                    "name": name,
                    "content_hash": content_hash,
                    "main_file": main,
                    "files": files,
                    "deployed_by": actor.username,
                    "deployed_at": now,
                }
            )
            uow.audit.record(now, actor.username, "process.deployed", data={"process": process_id, "version": number})
            report.processes.append(DeployedProcess(process_id, number, True))
        uow.commit()
    return report
