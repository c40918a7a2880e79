"""What every use case needs: settings, database, engine, clock and the in-process caches."""

from __future__ import annotations

import json
import threading
import time
import tomllib
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any


from ...clock import Clock
from ...observability.metrics import Metrics
from ...config import Settings
from ...domain.case_facts import CaseDeclaration, declaration_from_dict
from ...domain.errors import NotFound
from ...domain.zones import Zone
from ...engine.parsing import CompiledProcess, TaskScope, compile_from_sources
from ...engine.runner import ProcessEngine, WorkflowHandle
from ...persistence.database import Database
from ...persistence.uow import UnitOfWork
from ..access.lanes import LANES_FILE, LaneMap
from ..access.lanes import parse as parse_lanes
from ..integrations.message_policy import POLICY_FILE, MessagePolicy
from ..integrations.message_policy import parse as parse_policies

FORM_SUFFIX = ".schema.json"
LATEST_TTL = 30.0  # seconds a worker trusts its list of the newest versions (a deploy here clears it at once)
CASE_SUFFIX = ".case.toml"  # a process's case record declaration, deployed with it


def parse_case_declaration(name: str, text: str) -> CaseDeclaration:
    """A case declaration file (CaseDeclarationError when it cannot be used)."""
    from ...domain.case_facts import CaseDeclarationError

    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CaseDeclarationError(f"{name}: {exc}") from None
    return declaration_from_dict(raw, name)


@dataclass
class ProcessVersion:
    """A deployed version, compiled and with its forms."""

    id: int
    process_id: str
    version: int
    compiled: CompiledProcess
    forms: dict[str, dict[str, Any]]
    messages: dict[str, MessagePolicy] = field(default_factory=dict)  # from its messages.toml
    case: CaseDeclaration | None = None  # the facts of its case record, when the process declares them
    lanes: LaneMap | None = None  # the lanes.toml it was deployed with, if any
    # What read models derive from the version, by their name: worked out once, as the version never changes.
    derived: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


class ProcessCache:
    """Compiled versions by id (versions never change, so these never go stale), and the newest
    version id of each process as last seen here (which a deploy elsewhere makes old: its users check it)."""

    def __init__(self) -> None:
        # The case declaration of a version deployed without one (the processes folder's), set at wiring.
        self.fallback: Callable[[str], CaseDeclaration | None] = lambda process_id: None
        self._items: dict[int, ProcessVersion] = {}
        self._latest: dict[str, int] = {}  # process id -> the newest version id this process saw
        self._headers: tuple[float, list[dict[str, Any]]] | None = None  # (read at, newest version headers)
        self._every: tuple[int | None, list[dict[str, Any]]] | None = None  # (highest id, every version's header)
        self._lock = threading.Lock()

    def latest_headers(self, uow: UnitOfWork) -> list[dict[str, Any]]:
        """The newest version of every process, read again at most every LATEST_TTL seconds.

        For what a page shows around its content (the menu's "Nuovo caso"): a deploy in another
        worker shows there within LATEST_TTL; use cases that act read the versions themselves.
        """
        cached = self._headers
        if cached is not None and time.monotonic() - cached[0] < LATEST_TTL:
            return cached[1]
        headers = [dict(row) for row in uow.versions.latest_headers()]
        self._headers = (time.monotonic(), headers)
        return headers

    def version_headers(self, newest: int | None, read: Callable[[], list[dict[str, Any]]]) -> list[dict[str, Any]]:
        """Every deployed version's header as `read` returns them, read again unless the highest id among
        those read before is `newest` (the highest id the caller just saw in the database; None: unknown)."""
        cached = self._every
        if cached is not None and newest is not None and cached[0] == newest:
            return cached[1]
        headers = read()
        self._every = (max((int(h["id"]) for h in headers), default=None), headers)
        return headers

    def remembered_latest(self, process_id: str) -> int | None:
        """The newest version id of a process last seen here (another process may have deployed since)."""
        return self._latest.get(process_id)

    def remember_latest(self, process_id: str, version_id: int) -> None:
        """Note the newest version id of a process."""
        self._latest[process_id] = version_id

    def forget_latest(self, process_id: str) -> None:
        """Ask the database next time."""
        self._latest.pop(process_id, None)
        self._headers = None

    def get(self, uow: UnitOfWork, version_id: int) -> ProcessVersion:
        """The compiled version, parsed from the database on first use."""
        item = self._items.get(version_id)
        if item is not None:
            return item
        row = uow.versions.get(version_id)  # only on a cache miss: versions are immutable
        if row is None:
            raise NotFound(f"process version {version_id} does not exist")
        return self.put(row)

    def for_row(self, row: Mapping[str, Any]) -> ProcessVersion:
        """The compiled version of a row already read (compiled on first use)."""
        return self._items.get(row["id"]) or self.put(row)

    def put(self, row: Mapping[str, Any]) -> ProcessVersion:
        """Compile a version row and keep it."""
        files: dict[str, str] = row["files"]
        sources = {name: text.encode("utf-8") for name, text in files.items()
                   if not name.endswith((FORM_SUFFIX, CASE_SUFFIX)) and name not in (POLICY_FILE, LANES_FILE)}
        forms = {name: json.loads(text) for name, text in files.items() if name.endswith(FORM_SUFFIX)}
        compiled = compile_from_sources(sources, row["process_id"])
        messages = parse_policies(files[POLICY_FILE], forms)[0] if POLICY_FILE in files else {}
        case_file = f"{row['process_id']}{CASE_SUFFIX}"
        case = parse_case_declaration(case_file, files[case_file]) if case_file in files else None
        declared = case or self.fallback(row["process_id"])
        if declared is not None:
            compiled.task_scope = TaskScope(declared.paths_of("zone"), declared.task_item)
        lane_map = parse_lanes(files[LANES_FILE], LANES_FILE)[0] if LANES_FILE in files else None
        item = ProcessVersion(row["id"], row["process_id"], row["version"], compiled, forms, messages, case, lane_map)
        with self._lock:
            self._items.setdefault(row["id"], item)
            return self._items[row["id"]]


@dataclass(frozen=True)
class CachedWorkflow:
    """A live workflow as committed at one row version, with the instance header and the inbox
    rows of its own case that this process committed (header None when not known)."""

    row_version: int
    handle: WorkflowHandle
    header: Mapping[str, Any] | None = None
    inbox: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    facts: Mapping[str, Any] | None = None  # the case record's facts as this process last stored them
    size: int = 0  # characters of its serialised state: what it weighs in the cache (0: not known)


class WorkflowCache:
    """Live workflows of recently used instances, keyed by id and row version.

    A workflow is taken out while a use case works on it and put back only after
    its transaction commits, so two threads never share one, and a failed or
    conflicting use case can never leave a half-run workflow behind. What it says of
    an instance's header and tasks is what this process committed; another process may
    have changed them since, so a use case that trusts it has its writes check it.

    It is bounded twice: at most `size` workflows, and at most `max_bytes` of their
    serialised states together (the least recently used go first), so a worker's memory
    stays bounded however large the cases grow; a workflow heavier than `max_bytes` alone
    is not kept at all.
    """

    def __init__(self, size: int, max_bytes: int | None = None) -> None:
        self._size = size
        self._max_bytes = max_bytes
        self._bytes = 0
        self._items: OrderedDict[str, CachedWorkflow] = OrderedDict()
        self._owners: dict[str, str] = {}  # task id -> instance id, for the inbox rows held
        self._lock = threading.Lock()
        self.on_lookup: Callable[[bool], None] | None = None  # told of every lookup: hit or miss (metrics)

    def take(self, instance_id: str, row_version: int) -> CachedWorkflow | None:
        """Remove and return the cached workflow if it is at this row version."""
        with self._lock:
            entry = self._pop(instance_id)
        hit = entry is not None and entry.row_version == row_version
        if self.on_lookup is not None:
            self.on_lookup(hit)
        return entry if hit else None

    def put(self, instance_id: str, entry: CachedWorkflow) -> None:
        """Keep a workflow that was just committed (or read) at its row version."""
        if self._size <= 0:
            return
        with self._lock:
            self._pop(instance_id)
            if self._max_bytes is not None and entry.size > self._max_bytes:
                return
            self._items[instance_id] = entry
            self._bytes += entry.size
            self._owners.update(dict.fromkeys(entry.inbox, instance_id))
            while len(self._items) > self._size or (self._max_bytes is not None and self._bytes > self._max_bytes):
                self._pop(next(iter(self._items)))

    @property
    def weight(self) -> tuple[int, int]:
        """How many workflows are held and the characters of their serialised states together."""
        with self._lock:
            return len(self._items), self._bytes

    def known_task(self, task_id: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """The inbox row of a task and its instance's header as this process committed them."""
        with self._lock:
            entry = self._items.get(self._owners.get(task_id, ""))
            if entry is None or entry.header is None or task_id not in entry.inbox:
                return None
            return dict(entry.inbox[task_id]), dict(entry.header)

    def note_task(self, task_id: str, **changes: Any) -> None:
        """Record a committed change (a claim, a draft) to the inbox row of a task held here."""
        with self._lock:
            instance_id = self._owners.get(task_id, "")
            entry = self._items.get(instance_id)
            if entry is not None and task_id in entry.inbox:
                inbox = {**entry.inbox, task_id: {**entry.inbox[task_id], **changes}}
                self._items[instance_id] = replace(entry, inbox=inbox)  # same size: the state is unchanged

    def forget(self, instance_id: str) -> None:
        """Drop an instance (e.g. after an administrative change)."""
        with self._lock:
            self._pop(instance_id)

    def clear(self) -> None:
        """Drop everything."""
        with self._lock:
            self._items.clear()
            self._owners.clear()
            self._bytes = 0

    def _pop(self, instance_id: str) -> CachedWorkflow | None:
        entry = self._items.pop(instance_id, None)
        if entry is not None:
            self._bytes -= entry.size
            for task_id in entry.inbox:
                if self._owners.get(task_id) == instance_id:
                    del self._owners[task_id]
        return entry


Connector = Callable[["ServiceCall"], Any]


@dataclass
class ServiceCall:
    """What a service-task connector receives."""

    runtime: "Runtime"
    uow: UnitOfWork
    instance_id: str
    now: datetime
    operation: str
    params: dict[str, Any]
    data: dict[str, Any]


@dataclass
class Runtime:
    """The wired service: passed to every use case."""

    settings: Settings
    db: Database
    engine: ProcessEngine
    clock: Clock
    processes: ProcessCache = field(default_factory=ProcessCache)
    workflows: WorkflowCache = field(default_factory=lambda: WorkflowCache(512))
    connectors: dict[str, Connector] = field(default_factory=dict)
    zones: dict[str, Zone] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)
    wall_clock: Clock | None = None  # real time for sessions and login limits (None: `clock`)
    metrics: Metrics | None = None  # counted when the service serves or schedules (not in one-off CLI runs)

    def uow(self, write: bool = True) -> UnitOfWork:
        """A new unit of work (one transaction)."""
        return UnitOfWork(self.db, write=write)

    def now(self) -> datetime:
        """The current instant by the service clock."""
        return self.clock.now()

    def wall_now(self) -> datetime:
        """Real time, even when a simulated clock moves the cases (sessions must not expire by it)."""
        return (self.wall_clock or self.clock).now()
