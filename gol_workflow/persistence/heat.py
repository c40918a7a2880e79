"""Where the cases of a process version are now, and how long its user tasks took, from the inbox, the
instances and the audit log (read through the indexes migration 0018 adds)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from statistics import quantiles
from typing import Any

from sqlalchemy import (BigInteger, Connection, RowMapping, String, and_, column, func, literal_column, or_, select,
                        values)

from .tables import STEP_ACTIONS, audit_events, instances, process_versions, tasks

OPEN_STATUSES = ("waiting", "error", "suspended")  # an instance without a task waits at its current step
ACTIVE_STATUSES = ("running", *OPEN_STATUSES)  # only these have open tasks


class HeatQueries:
    """Counts and durations per element of one process version."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def other_versions(self, version_id: int) -> Sequence[RowMapping]:
        """Every other deployed version: its id and process."""
        stmt = select(process_versions.c.id, process_versions.c.process_id).where(process_versions.c.id != version_id)
        return self.conn.execute(stmt).mappings().all()

    def has_instances(self, version_id: int, active_only: bool = False) -> bool:
        """Whether a version has any instance (any open one), from the index alone."""
        stmt = select(instances.c.id).where(instances.c.process_version_id == version_id)
        if active_only:
            stmt = stmt.where(instances.c.status.in_(ACTIVE_STATUSES))
        return self.conn.execute(stmt.limit(1)).first() is not None

    def open_tasks(self, version_id: int, process_id: str | None = None) -> Sequence[RowMapping]:
        """Per user-task element: how many open tasks, and since when the oldest waits.

        With `process_id` (when no other version of the process has an open instance) the tasks are
        counted by their process alone, without reading their instances.
        """
        stmt = select(tasks.c.element_id, func.count().label("count"), func.min(tasks.c.created_at).label("oldest"))
        if process_id is not None:
            stmt = stmt.where(tasks.c.process_id == process_id)
        else:
            stmt = (stmt.join(instances, instances.c.id == tasks.c.instance_id)
                    .where(instances.c.process_version_id == version_id, instances.c.status.in_(ACTIVE_STATUSES)))
        return self.conn.execute(stmt.group_by(tasks.c.element_id)).mappings().all()

    def waiting_steps(self, version_id: int) -> Sequence[RowMapping]:
        """Per status (waiting, error, suspended) and current step text: how many instances without a task."""
        stmt = (select(instances.c.status, instances.c.current_step, func.count().label("count"))
                .where(instances.c.process_version_id == version_id, instances.c.status.in_(OPEN_STATUSES))
                .group_by(instances.c.status, instances.c.current_step))
        return self.conn.execute(stmt).mappings().all()

    def completions(self, since: datetime, until: datetime) -> dict[str, int]:
        """Task completions in the period per element id, every process (read from the index alone)."""
        stmt = (select(audit_events.c.element_id, func.count().label("count"))
                .where(audit_events.c.action == "task.completed", audit_events.c.at >= since,
                       audit_events.c.at <= until)
                .group_by(audit_events.c.element_id))
        return {str(e): int(n) for e, n in self.conn.execute(stmt) if e is not None}

    def _visits(self, version_id: int, since: datetime, until: datetime, every: Mapping[str, int],
                check_version: bool = True) -> Any:
        """User tasks completed in the period (of each element, one in `every[element]` by id): the element
        and the moments the task was opened (the step before it) and completed. Without `check_version`
        (no other version, and no other process, could have completed a task of these elements) the
        instances are not read."""
        done = audit_events.alias("done")
        read = (select(done.c.element_id, done.c.at, done.c.instance_id, done.c.id)
                .where(done.c.action == "task.completed", done.c.at >= since, done.c.at <= until))
        if self.conn.dialect.name == "postgresql":
            # Each index entry meets one hash look-up of its element's step, not a chain of conditions; the
            # sample is taken first (materialised), so that the look-ups below run for its rows only.
            steps = values(column("element", String), column("step", BigInteger), name="sampled").data(
                sorted(every.items()))
            read = read.join(steps, steps.c.element == done.c.element_id).where(done.c.id % steps.c.step == 0)
            sample = read.cte("sample").prefix_with("MATERIALIZED")
        else:
            whole = sorted(e for e, k in every.items() if k <= 1)
            picked = [done.c.element_id.in_(whole)] if whole else []
            picked += [and_(done.c.element_id == e, done.c.id % k == 0) for e, k in sorted(every.items()) if k > 1]
            sample = read.where(or_(*picked)).subquery("sample")
        before = audit_events.alias("before")
        entered = (select(before.c.at)
                   .where(before.c.instance_id == sample.c.instance_id, before.c.id < sample.c.id,
                          before.c.action.in_(STEP_ACTIONS))
                   .order_by(before.c.id.desc()).limit(1).correlate(sample).scalar_subquery())
        columns = [sample.c.element_id.label("element_id"), sample.c.at.label("left_at"), entered.label("entered_at")]
        if not check_version:
            return select(*columns)
        # The version of each row read, looked up row by row: a join would read every instance of the version.
        version = (select(instances.c.process_version_id).where(instances.c.id == sample.c.instance_id)
                   .correlate(sample).scalar_subquery())
        checked = select(*columns, version.label("version_id")).subquery()
        return (select(checked.c.element_id, checked.c.left_at, checked.c.entered_at)
                .where(checked.c.version_id == version_id))

    def durations(self, version_id: int, since: datetime, until: datetime, every: Mapping[str, int],
                  check_version: bool = True) -> list[dict[str, Any]]:
        """Per element: completions of the version read (one in `every[element]`), median and 90th percentile
        of the seconds spent in it."""
        if not every:
            return []
        if self.conn.dialect.name == "postgresql":
            # The row-by-row look-ups make the planner's estimate large enough to compile the query
            # (JIT), which costs far more than the query itself; for this transaction only.
            self.conn.exec_driver_sql("SET LOCAL jit = off")
            # Materialised: each row's two look-ups run once, not once per use of their columns.
            visits = self._visits(version_id, since, until, every, check_version).cte("visits").prefix_with("MATERIALIZED")
            seconds = func.extract("epoch", visits.c.left_at - visits.c.entered_at)
            stmt = (select(visits.c.element_id, func.count().label("count"),
                           func.percentile_cont(0.5).within_group(seconds).label("p50"),
                           func.percentile_cont(0.9).within_group(seconds).label("p90"))
                    .where(visits.c.entered_at.is_not(None)).group_by(visits.c.element_id))
            return [dict(r) for r in self.conn.execute(stmt).mappings()]
        # SQLite has no percentile aggregate: the (small) set is summarised here.
        visits = self._visits(version_id, since, until, every, check_version).subquery()
        spent: dict[str, list[float]] = defaultdict(list)
        for row in self.conn.execute(select(visits)).mappings():
            if row["entered_at"] is not None:
                spent[row["element_id"]].append((row["left_at"] - row["entered_at"]).total_seconds())
        return [{"element_id": e, "count": len(v), "p50": _percentile(v, 0.5), "p90": _percentile(v, 0.9)}
                for e, v in spent.items()]

    def cases_at(self, version_id: int, element_id: str, waiting_prefix: str, name: str, error_step: str,
                 limit: int) -> Sequence[RowMapping]:
        """The instances at an element now (an open task of it, a wait naming it, an error on it), oldest first."""
        with_task = (select(instances.c.id, instances.c.beneficiary_name, instances.c.zone, instances.c.status,
                            tasks.c.created_at.label("since"), tasks.c.assignee)
                     .join(tasks, tasks.c.instance_id == instances.c.id)
                     .where(instances.c.process_version_id == version_id, tasks.c.element_id == element_id))
        step = instances.c.current_step
        waiting = (select(instances.c.id, instances.c.beneficiary_name, instances.c.zone, instances.c.status,
                          instances.c.updated_at.label("since"), literal_column("NULL").label("assignee"))
                   .where(instances.c.process_version_id == version_id, instances.c.status.in_(OPEN_STATUSES),
                          or_(step == error_step,
                              step.startswith(waiting_prefix, autoescape=True) & step.contains(name, autoescape=True))))
        both = with_task.union_all(waiting).subquery()
        return self.conn.execute(select(both).order_by(both.c.since).limit(limit)).mappings().all()


def _percentile(values: list[float], q: float) -> float:
    """The q-quantile by linear interpolation (PostgreSQL's percentile_cont)."""
    if len(values) == 1:
        return values[0]
    cuts = quantiles(values, n=100, method="inclusive")
    return cuts[round(q * 100) - 1]
