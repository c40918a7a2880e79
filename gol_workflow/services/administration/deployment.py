"""Validating and deploying process files as immutable, numbered versions."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...domain.case_facts import CaseDeclarationError
from ...domain.errors import DeploymentFailed, NotFound
from ...domain.model import Actor, Problem
from ...engine.parsing import compile_process, process_dependencies
from ...engine.rules import RuleContext
from ...engine.validation import validate_sources
from ...forms.form_files import check_form_file, referenced_forms
from ..access import authorization, lanes, roles
from ..access.lanes import LANES_FILE, LaneMap
from ..access.lanes import parse as parse_lanes
from ..integrations import message_policy
from ..integrations.message_policy import POLICY_FILE
from ..workflow.runtime import CASE_SUFFIX, FORM_SUFFIX, Runtime, parse_case_declaration

SOURCE_SUFFIXES = (".bpmn", ".dmn")
SINGLE_FILE_SUFFIXES = (*SOURCE_SUFFIXES, ".xml")


@dataclass(frozen=True)
class Sources:
    """Process files and forms read from disk or an upload, by file name."""

    processes: dict[str, bytes]
    forms: dict[str, bytes]
    locations: dict[str, str] = field(default_factory=dict)  # file name -> path to show in messages
    messages: bytes | None = None  # messages.toml: who may send which message from outside
    cases: dict[str, bytes] = field(default_factory=dict)  # <process id>.case.toml: the case record's facts
    lanes: bytes | None = None  # lanes.toml: which roles work each lane and start each process

    def where(self, name: str) -> str:
        """The path to show for a file name."""
        return self.locations.get(name, name)


@dataclass
class Validation:
    """What validating a set of sources found."""

    problems: list[Problem]
    process_ids: list[str]
    files: int
    forms: int
    parser: Any = None  # the loaded parser, for deploying
    warnings: list[Problem] = field(default_factory=list)  # deployed anyway

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not self.problems

    def shown(self, sources: Sources) -> list[Problem]:
        """The problems, then the warnings, with file names replaced by the paths the user gave."""
        return [Problem(sources.where(p.file), p.line, p.element, p.message, p.warning)
                for p in self.problems + self.warnings]


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
    warnings: list[Problem] = field(default_factory=list)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise NotFound(f"{path}: cannot be read ({exc.strerror or exc})") from None


def _process_files(path: Path) -> list[Path]:
    if path.is_file():
        if path.suffix.lower() not in SINGLE_FILE_SUFFIXES:
            raise NotFound(f"{path}: not a .bpmn or .dmn file")
        return [path]
    if not path.is_dir():
        raise NotFound(f"{path}: no such file or folder")
    return sorted(p for p in path.iterdir() if p.suffix.lower() in SOURCE_SUFFIXES and p.is_file())


def read_sources(processes_dir: Path, forms_dir: Path | None) -> Sources:
    """Read every .bpmn/.dmn of a folder (or one file) and every form; NotFound when there is nothing to read."""
    files = _process_files(processes_dir)
    if not files:
        raise NotFound(f"{processes_dir}: no .bpmn or .dmn files")
    locations = {p.name: str(p) for p in files}
    forms: dict[str, bytes] = {}
    if forms_dir is not None and forms_dir.is_dir():
        for form in sorted(forms_dir.glob(f"*{FORM_SUFFIX}")):
            forms[form.name] = _read(form)
            locations[form.name] = str(form)
    policy = processes_dir / POLICY_FILE if processes_dir.is_dir() else None
    messages = _read(policy) if policy is not None and policy.is_file() else None
    if policy is not None and messages is not None:
        locations[POLICY_FILE] = str(policy)
    cases: dict[str, bytes] = {}
    folder = processes_dir if processes_dir.is_dir() else processes_dir.parent
    lane_file = folder / LANES_FILE
    lane_text = _read(lane_file) if lane_file.is_file() else None
    if lane_text is not None:
        locations[LANES_FILE] = str(lane_file)
    for declaration in sorted(folder.glob(f"*{CASE_SUFFIX}")):
        cases[declaration.name] = _read(declaration)
        locations[declaration.name] = str(declaration)
    return Sources({p.name: _read(p) for p in files}, forms, locations, messages=messages, cases=cases,
                   lanes=lane_text)


def _one_line(problem: Problem) -> Problem:
    """Each problem prints as one line, whatever names or values it quotes."""
    element = " ".join(problem.element.split()) if problem.element else problem.element
    return Problem(problem.file, problem.line, element or None, " ".join(problem.message.split()), problem.warning)


def _check_forms(forms: Mapping[str, bytes]) -> list[Problem]:
    problems: list[Problem] = []
    for name, content in sorted(forms.items()):
        problems.extend(check_form_file(name, content, frozenset(forms))[1])
    return problems


def _parsed_forms(forms: Mapping[str, bytes]) -> dict[str, Any]:
    parsed: dict[str, Any] = {}
    for name, content in forms.items():
        try:
            parsed[name] = json.loads(content.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError):
            continue  # reported by the form checks
    return parsed


def _caught(parser: Any, process_ids: Collection[str]) -> set[str] | None:
    if parser is None:
        return None
    names: set[str] = set()
    for process_id in process_ids:
        names |= compile_process(parser, process_id).caught_messages
    return names


def _check_messages(sources: Sources, parser: Any, process_ids: Collection[str]) -> list[Problem]:
    if sources.messages is None:
        return []
    try:
        text = sources.messages.decode("utf-8")
    except UnicodeDecodeError:
        return [Problem(POLICY_FILE, 1, None, "not UTF-8 text")]
    return message_policy.parse(text, _parsed_forms(sources.forms), POLICY_FILE, _caught(parser, process_ids))[1]


def _with_referenced(names: set[str], forms: Mapping[str, bytes]) -> set[str]:
    """The forms named and every form they refer to, so a version holds each form it validates with."""
    found, waiting = set(), sorted(names)
    while waiting:
        name = waiting.pop()
        if name in found or name not in forms:
            continue
        found.add(name)
        schema = check_form_file(name, forms[name], frozenset(forms))[0]
        waiting.extend(referenced_forms(schema) - found)
    return found


def _check_cases(cases: Mapping[str, bytes]) -> list[Problem]:
    problems: list[Problem] = []
    for name, content in sorted(cases.items()):
        try:
            parse_case_declaration(name, content.decode("utf-8"))
        except (CaseDeclarationError, UnicodeDecodeError) as exc:
            message = str(getattr(exc, "message", exc))
            problems.append(Problem(name, None, None, message.removeprefix(f"{name}: ")))
    return problems

def _lane_map(sources: Sources) -> tuple[LaneMap | None, list[Problem]]:
    """The sources' lanes.toml, checked against the role file (file:line: lane: message)."""
    if sources.lanes is None:
        return None, []
    try:
        text = sources.lanes.decode("utf-8")
    except UnicodeDecodeError:
        return None, [Problem(LANES_FILE, 1, None, "not UTF-8 text")]
    return parse_lanes(text, LANES_FILE, roles.current().names())


def validate(
    sources: Sources,
    operators: Collection[str] | None = None,
    lanes: Collection[str] | None = None,
    check_forms: bool = True,
) -> Validation:
    """Every problem in the sources, validated together; with the loaded parser when they load."""
    form_names = frozenset(sources.forms) if check_forms else None
    lane_map, lane_problems = _lane_map(sources)
    if lane_map is not None:
        lanes = frozenset(lane_map.lanes)
    context = RuleContext(form_names, operators, lanes, roles=roles.current().names())
    report = validate_sources(sources.processes, context)
    found = [_one_line(p) for p in report.problems + lane_problems + _check_forms(sources.forms)
             + _check_cases(sources.cases) + _check_messages(sources, report.parser, report.process_ids)]
    problems = [p for p in found if not p.warning]
    return Validation(problems, report.process_ids, len(sources.processes), len(sources.forms), report.parser,
                      [p for p in found if p.warning])


def validate_path(
    path: Path,
    forms_dir: Path | None,
    operators: Collection[str] | None = None,
    lanes: Collection[str] | None = None,
) -> tuple[Sources, Validation]:
    """Read and validate a file (alone) or a folder (its files together); NotFound on nothing to read."""
    sources = read_sources(path, forms_dir)
    return sources, validate(sources, operators, lanes, check_forms=forms_dir is not None and forms_dir.is_dir())


def service_vocabulary(rt: Runtime) -> tuple[frozenset[str], frozenset[str]]:
    """The service-task operators registered in this runtime and the lanes operators can work."""
    return frozenset(rt.connectors), frozenset(lanes.current().lanes)


def _bundle(parser: Any, process_id: str, sources: Sources) -> tuple[str, dict[str, str]]:
    compiled = compile_process(parser, process_id)
    names = process_dependencies(parser, process_id)
    files = {name: sources.processes[name].decode("utf-8") for name in sorted(names)}
    forms = {meta.form for meta in compiled.tasks.values() if meta.form}
    if compiled.start_form:
        forms.add(compiled.start_form)
    if sources.messages is not None:
        text = sources.messages.decode("utf-8")
        declared = message_policy.parse(text, {})[0]
        if compiled.caught_messages & set(declared):
            files[POLICY_FILE] = text
            forms |= message_policy.referenced_forms(text, compiled.caught_messages)
    for form in sorted(_with_referenced(forms, sources.forms)):
        if form in sources.forms:
            files[form] = sources.forms[form].decode("utf-8-sig")
    if sources.lanes is not None:
        files[LANES_FILE] = sources.lanes.decode("utf-8")
    case_file = f"{process_id}{CASE_SUFFIX}"
    if case_file in sources.cases:
        files[case_file] = sources.cases[case_file].decode("utf-8")
    digest = hashlib.sha256()
    for name, text in sorted(files.items()):
        digest.update(name.encode() + b"\0" + text.encode() + b"\0")
    return digest.hexdigest(), files


def check(rt: Runtime, sources: Sources) -> Validation:
    """Validate sources against what this runtime can run (its connectors and lanes)."""
    operators, lanes = service_vocabulary(rt)
    return validate(sources, operators, lanes)


def deploy(rt: Runtime, sources: Sources, actor: Actor, check_only: bool = False, note: str | None = None,
           scenarios: Mapping[str, Any] | None = None) -> DeployReport:
    """Validate, then store a new version of every process whose files changed (one transaction).

    `note` says what the version changes; `scenarios` is the scenario run on these sources, if one was made.
    """
    authorization.require_deployer(actor)
    validation = check(rt, sources)
    report = DeployReport(problems=validation.problems, warnings=validation.warnings)
    if validation.problems:
        raise DeploymentFailed(f"{len(validation.problems)} problem(s) found: nothing was deployed", validation.problems)
    if check_only or validation.parser is None:
        return report
    parser = validation.parser
    now = rt.now()
    with rt.uow() as uow:
        for process_id in validation.process_ids:
            content_hash, files = _bundle(parser, process_id, sources)
            latest = uow.versions.latest(process_id)
            if latest is not None and latest["content_hash"] == content_hash:
                report.processes.append(DeployedProcess(process_id, latest["version"], False))
                continue
            number = (latest["version"] if latest else 0) + 1
            uow.versions.add(
                {
                    "process_id": process_id,
                    "version": number,
                    "name": parser.get_spec(process_id).description or process_id,
                    "content_hash": content_hash,
                    "main_file": parser.get_process_parser(process_id).filename,
                    "files": files,
                    "deployed_by": actor.username,
                    "deployed_at": now,
                    "note": (note or "").strip() or None,
                    "scenarios": dict(scenarios) if scenarios is not None else None,
                }
            )
            uow.audit.record(now, actor.username, "process.deployed", data={"process": process_id, "version": number})
            uow.after_commit(lambda process_id=process_id: rt.processes.forget_latest(process_id))
            report.processes.append(DeployedProcess(process_id, number, True))
        uow.commit()
    return report
