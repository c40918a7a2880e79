"""What analysts and administrators see of deployed processes: versions, their use, diffs, and deploy by upload."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from ...domain.errors import DeploymentFailed, InputRefused, NotFound, ValidationFailed
from ...domain.model import ACTIVE_STATUSES, Actor, Problem
from ...engine.migration import ElementChange, compare_versions
from ..access import authorization
from . import deployment
from ..integrations.message_policy import POLICY_FILE
from ..workflow.runtime import FORM_SUFFIX, Runtime

UPLOAD_SUFFIXES = (".bpmn", ".dmn", FORM_SUFFIX)
MAX_FILES = 50


@dataclass(frozen=True)
class VersionInfo:
    """One deployed version and how many instances run on it."""

    id: int
    process_id: str
    version: int
    name: str
    content_hash: str
    main_file: str
    deployed_by: str
    deployed_at: datetime
    counts: dict[str, int]

    @property
    def total(self) -> int:
        """Every instance ever started on this version."""
        return sum(self.counts.values())

    @property
    def active(self) -> int:
        """Instances not ended yet."""
        return sum(n for status, n in self.counts.items() if status in ACTIVE_STATUSES)


@dataclass(frozen=True)
class ProcessEntry:
    """A process with its versions, newest first."""

    process_id: str
    name: str
    versions: list[VersionInfo]


@dataclass
class VersionDiff:
    """What changed between two versions of a process."""

    process_id: str
    old: VersionInfo
    new: VersionInfo
    elements: list[ElementChange]
    files_added: list[str] = field(default_factory=list)
    files_removed: list[str] = field(default_factory=list)
    files_changed: list[str] = field(default_factory=list)


@dataclass
class UploadReport:
    """The outcome of deploying uploaded files."""

    problems: list[Problem] = field(default_factory=list)
    deployed: list[deployment.DeployedProcess] = field(default_factory=list)
    supplied: list[str] = field(default_factory=list)  # files taken from the deployed versions


def catalog(rt: Runtime, actor: Actor) -> list[ProcessEntry]:
    """Every process with every version and its instance counts."""
    authorization.require_deployer(actor)
    with rt.uow(write=False) as uow:
        rows = uow.versions.list_all()
        counts = uow.instance_search.counts_by_version()
    per_version: dict[int, dict[str, int]] = defaultdict(dict)
    for (version_id, status), n in counts.items():
        per_version[version_id][status] = n
    grouped: dict[str, list[VersionInfo]] = defaultdict(list)
    for row in rows:
        grouped[row["process_id"]].append(VersionInfo(
            int(row["id"]), row["process_id"], int(row["version"]), row["name"], row["content_hash"],
            row["main_file"], row["deployed_by"], row["deployed_at"], per_version.get(int(row["id"]), {})))
    return [ProcessEntry(pid, versions[0].name, sorted(versions, key=lambda v: -v.version))
            for pid, versions in sorted(grouped.items())]


def process_entry(rt: Runtime, actor: Actor, process_id: str) -> ProcessEntry:
    """One process with its versions; NotFound when it was never deployed."""
    for entry in catalog(rt, actor):
        if entry.process_id == process_id:
            return entry
    raise NotFound(f"process {process_id!r} is not deployed")


def version_files(rt: Runtime, actor: Actor, version_id: int) -> tuple[str, dict[str, str]]:
    """The main file's name and every file of one version by name (BPMN, DMN and forms)."""
    authorization.require_deployer(actor)
    with rt.uow(write=False) as uow:
        row = uow.versions.get(version_id)
    if row is None:
        raise NotFound(f"process version {version_id} does not exist")
    return str(row["main_file"]), dict(row["files"])


def diff_versions(rt: Runtime, actor: Actor, process_id: str, old: int, new: int) -> VersionDiff:
    """Elements added, removed and changed (and files) between two version numbers of a process."""
    entry = process_entry(rt, actor, process_id)
    by_number = {v.version: v for v in entry.versions}
    if old not in by_number or new not in by_number:
        raise NotFound(f"{process_id} has no version {old if old not in by_number else new}")
    with rt.uow(write=False) as uow:
        before_row, after_row = uow.versions.get(by_number[old].id), uow.versions.get(by_number[new].id)
        before, after = rt.processes.get(uow, by_number[old].id), rt.processes.get(uow, by_number[new].id)
    assert before_row is not None and after_row is not None
    changes = compare_versions(rt.engine, before.compiled, after.compiled)
    files_before, files_after = dict(before_row["files"]), dict(after_row["files"])
    return VersionDiff(
        process_id, by_number[old], by_number[new], changes,
        files_added=sorted(set(files_after) - set(files_before)),
        files_removed=sorted(set(files_before) - set(files_after)),
        files_changed=sorted(n for n in set(files_before) & set(files_after) if files_before[n] != files_after[n]),
    )


def _sorted_upload(files: Mapping[str, bytes]) -> tuple[dict[str, bytes], dict[str, bytes], bytes | None]:
    if not files:
        raise InputRefused("no-files", "no files", {"file": ["choose at least one .bpmn, .dmn or .schema.json file"]})
    if len(files) > MAX_FILES:
        raise InputRefused("too-many-files", "too many files", {"file": [f"at most {MAX_FILES} files at once"]})
    processes: dict[str, bytes] = {}
    forms: dict[str, bytes] = {}
    messages: bytes | None = None
    for name, content in files.items():
        lowered = name.lower()
        if lowered == POLICY_FILE:
            messages = content
        elif lowered.endswith(FORM_SUFFIX):
            forms[name] = content
        elif lowered.endswith(deployment.SINGLE_FILE_SUFFIXES):  # BPMN exported as .bpmn20.xml or .xml too
            processes[name] = content
        else:
            raise InputRefused("unsupported-file", "unsupported file",
                               {"file": [f"{name}: only .bpmn, .dmn, .xml, .schema.json and messages.toml files"]},
                               subject=name)
    if not processes:
        raise InputRefused("no-process-file", "no process file",
                           {"file": ["the upload needs at least one .bpmn or .dmn file"]})
    return processes, forms, messages


def deploy_upload(rt: Runtime, actor: Actor, files: Mapping[str, bytes]) -> UploadReport:
    """Validate and deploy uploaded files; forms and decision tables not uploaded come from the deployed versions."""
    authorization.require_deployer(actor)
    processes, forms, messages = _sorted_upload(files)
    report = UploadReport()
    with rt.uow(write=False) as uow:
        for row in uow.versions.latest_headers():
            full = uow.versions.get(int(row["id"]))
            for name, text in (full["files"] if full else {}).items():
                if name == POLICY_FILE and messages is None:
                    messages = text.encode("utf-8")
                    report.supplied.append(name)
                elif name.endswith(FORM_SUFFIX) and name not in forms:
                    forms[name] = text.encode("utf-8")
                    report.supplied.append(name)
                elif name.lower().endswith(".dmn") and name not in processes:
                    processes[name] = text.encode("utf-8")
                    report.supplied.append(name)
    report.supplied = sorted(set(report.supplied))
    try:
        result = deployment.deploy(rt, deployment.Sources(processes, forms, messages=messages), actor)
    except DeploymentFailed as exc:
        report.problems = [p for p in exc.problems if isinstance(p, Problem)]
        return report
    report.deployed = result.processes
    return report
