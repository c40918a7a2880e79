"""What every use case needs: settings, database, engine, clock and the in-process caches."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from ..clock import Clock
from ..config import Settings
from ..domain.errors import NotFound
from ..domain.zones import Zone
from ..engine.parsing import CompiledProcess, compile_from_sources
from ..engine.runner import ProcessEngine, WorkflowHandle
from ..persistence.uow import UnitOfWork

FORM_SUFFIX = ".schema.json"


@dataclass
class ProcessVersion:
    """A deployed version, compiled and with its forms."""

    id: int
    process_id: str
    version: int
    compiled: CompiledProcess
    forms: dict[str, dict[str, Any]]


class ProcessCache:
    """Compiled versions by id; versions never change, so entries never go stale."""

    def __init__(self) -> None:
        self._items: dict[int, ProcessVersion] = {}
        self._lock = threading.Lock()

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
        sources = {name: text.encode("utf-8") for name, text in files.items() if not name.endswith(FORM_SUFFIX)}
        forms = {name: json.loads(text) for name, text in files.items() if name.endswith(FORM_SUFFIX)}
        compiled = compile_from_sources(sources, row["process_id"])
        item = ProcessVersion(row["id"], row["process_id"], row["version"], compiled, forms)
        with self._lock:
            self._items.setdefault(row["id"], item)
            return self._items[row["id"]]


class WorkflowCache:
    """Live workflows of recently used instances, keyed by id and row version.

    A workflow is taken out while a use case works on it and put back only after
    its transaction commits, so two threads never share one, and a failed or
    conflicting use case can never leave a half-run workflow behind.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[str, tuple[int, WorkflowHandle]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, instance_id: str, row_version: int) -> WorkflowHandle | None:
        """Remove and return the cached workflow if it is at this row version."""
        with self._lock:
            entry = self._items.pop(instance_id, None)
        if entry is None or entry[0] != row_version:
            return None
        return entry[1]

    def put(self, instance_id: str, row_version: int, handle: WorkflowHandle) -> None:
        """Keep a workflow that was just committed at this row version."""
        if self._size <= 0:
            return
        with self._lock:
            self._items[instance_id] = (row_version, handle)
            self._items.move_to_end(instance_id)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def forget(self, instance_id: str) -> None:
        """Drop an instance (e.g. after an administrative change)."""
        with self._lock:
            self._items.pop(instance_id, None)

    def clear(self) -> None:
        """Drop everything."""
        with self._lock:
            self._items.clear()


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
    db: Engine
    engine: ProcessEngine
    clock: Clock
    processes: ProcessCache = field(default_factory=ProcessCache)
    workflows: WorkflowCache = field(default_factory=lambda: WorkflowCache(512))
    connectors: dict[str, Connector] = field(default_factory=dict)
    zones: dict[str, Zone] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)

    def uow(self, write: bool = True) -> UnitOfWork:
        """A new unit of work (one transaction)."""
        return UnitOfWork(self.db, write=write)

    def now(self) -> datetime:
        """The current instant by the service clock."""
        return self.clock.now()
