"""Is the service healthy and ready: the checks an orchestrator and an operations team read."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from ...persistence import schema
from ...persistence.errors import database_unavailable
from ..workflow.runtime import Runtime

TIMER_GRACE = timedelta(seconds=60)  # a timer due less than this ago is being fired, not late


@dataclass(frozen=True)
class Check:
    """One readiness check: its name, whether it passed and what was found."""

    name: str
    ok: bool
    detail: str
    value: Any = None


@dataclass(frozen=True)
class Readiness:
    """Every check, and whether the service should receive traffic."""

    checks: list[Check] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        """True when every check passed."""
        return all(check.ok for check in self.checks)

    def as_dict(self) -> dict[str, Any]:
        """The JSON body of `/readyz`."""
        return {"status": "ready" if self.ready else "not ready",
                "checks": {c.name: {"ok": c.ok, "detail": c.detail, **({"value": c.value} if c.value is not None
                                                                         else {})} for c in self.checks},
                "failed": [c.name for c in self.checks if not c.ok]}


def backlog(rt: Runtime) -> dict[str, Any]:
    """The current backlogs and liveness figures (one short read transaction)."""
    now = rt.now()
    with rt.uow(write=False) as uow:
        found = uow.health.backlog(now - TIMER_GRACE)
    oldest = found.pop("oldest_timer_due_at")
    found["oldest_timer_lateness_seconds"] = max(0.0, (now - oldest).total_seconds()) if oldest else 0.0
    beat = found.pop("last_heartbeat_at")
    found["heartbeat_age_seconds"] = (rt.wall_now() - beat).total_seconds() if beat else None
    return found


def readiness(rt: Runtime) -> Readiness:
    """Database reachable, schema current, a scheduler alive, backlogs under their thresholds."""
    settings = rt.settings
    try:
        with rt.uow(write=False) as uow:
            uow.health.ping()
    except Exception as exc:
        if not database_unavailable(exc):
            raise
        return Readiness([Check("database", False, "the database does not answer")])
    checks = [Check("database", True, "the database answers")]
    head = rt.extras.get("schema_head")
    if head is None:
        head = rt.extras["schema_head"] = schema.head_revision()  # parsing the migration scripts takes a while
    current = schema.current_revision(rt.db)
    checks.append(Check("schema", current == head,
                        f"schema at {current}" if current == head else
                        f"schema at {current or 'no revision'}, the code needs {head}: run `gol-workflow db upgrade`",
                        current))
    figures = backlog(rt)
    age = figures["heartbeat_age_seconds"]
    fresh = age is not None and age <= settings.ready_heartbeat_seconds
    checks.append(Check("scheduler", fresh,
                        "no scheduler has ever run" if age is None else
                        f"last heartbeat {age:.0f} s ago (limit {settings.ready_heartbeat_seconds:.0f} s)",
                        None if age is None else round(age, 1)))
    waiting = figures["outbox_waiting"]
    checks.append(Check("outbox", waiting <= settings.ready_max_outbox,
                        f"{waiting} e-mail waiting to be sent (limit {settings.ready_max_outbox})", waiting))
    stuck = figures["instances_in_error"] + figures["cutoffs_overdue"]
    checks.append(Check("incidents", stuck <= settings.ready_max_incidents,
                        f"{figures['instances_in_error']} instances in error and {figures['cutoffs_overdue']} meeting "
                        f"cut-offs overdue (limit {settings.ready_max_incidents})", stuck))
    return Readiness(checks)
