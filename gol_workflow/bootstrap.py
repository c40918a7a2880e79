"""The one place that wires settings, database, engine, clock and connectors into a runtime."""

from __future__ import annotations

from .clock import Clock, SystemClock
from .config import ConfigurationError, Settings
from .engine.runner import ProcessEngine
from .observability.metrics import Metrics
from .persistence import committed
from .persistence.database import create_db_engine
from .services.access import lanes, roles
from .services.administration import doctor
from .services.cases import case_records
from .services.workflow.clock import DatabaseClock
from .services.integrations.connectors import register_connectors
from .services.workflow.runtime import Runtime, WorkflowCache
from .services.meetings.zones import load_zones


def bootstrap(settings: Settings, clock: Clock | None = None, metrics: bool = False,
              probe_provider: bool = False) -> Runtime:
    """Build a runtime for these settings (nothing is built at import time); `metrics` counts its work.

    The role file and single sign-on are checked first, every problem reported at once
    (ConfigurationError); `probe_provider` also asks the identity provider (the web needs it).
    """
    problems = doctor.startup_problems(settings, probe_provider)
    if problems:
        raise ConfigurationError("; ".join(problems), problems)
    db = create_db_engine(settings.database_url, settings.database_pool_size,
                          transaction_pooler=settings.database_pooler == "transaction")
    if clock is None:
        clock = DatabaseClock(db) if settings.clock == "simulated" else SystemClock()
    wall_clock = SystemClock() if isinstance(clock, DatabaseClock) else clock
    runtime = Runtime(
        settings=settings,
        db=db,
        engine=ProcessEngine(settings.timezone, settings.script_time_limit, settings.script_memory_limit),
        clock=clock,
        wall_clock=wall_clock,
        workflows=WorkflowCache(settings.workflow_cache_size, int(settings.workflow_cache_mb * 1024 * 1024)),
        zones=load_zones(settings.zones_dir),
    )
    register_connectors(runtime)
    runtime.processes.fallback = lambda process_id: case_records.folder_declarations(runtime).get(process_id)
    roles.install(roles.load(settings.roles_file))
    lanes.install(lanes.load(settings.processes_dir, roles.current().names()))
    if metrics:
        enable_metrics(runtime)
    return runtime


def enable_metrics(runtime: Runtime) -> Metrics:
    """Count the runtime's requests, committed work and cache lookups (once; later calls return the same)."""
    if runtime.metrics is None:
        counting = Metrics()
        runtime.metrics = counting
        runtime.workflows.on_lookup = counting.observe_cache
        committed.observe(runtime.db, counting.observe_committed)
    return runtime.metrics
