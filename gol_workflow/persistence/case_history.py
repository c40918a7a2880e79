"""What the case file reads of a case's audit trail: its events, the repeated ones counted per person."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from functools import cache
from typing import Any

from sqlalchemy import BigInteger, CompoundSelect, Connection, Select, bindparam, cast, func, null, select, union_all

from .archive import every_audit_row
from .sealing import SubjectKeys, opened
from .tables import instances


@cache
def _events_and_repeated_stmt(collapsed: tuple[str, ...], limit: int) -> CompoundSelect:
    """A case's events without the `collapsed` actions, and those counted per person and action (built once)."""
    audit_events = every_audit_row()  # the same relation whether or not the case is archived
    case_id = bindparam("b_case_id", type_=audit_events.c.instance_id.type)
    # The first SELECT gives the union its column types: the counted columns' own, not NULL's.
    kept = (select(*audit_events.c, cast(null(), BigInteger).label("times"),
                   cast(null(), audit_events.c.at.type).label("last_at"))
            .where(audit_events.c.instance_id == case_id, audit_events.c.action.not_in(collapsed))
            .order_by(audit_events.c.id).limit(limit))
    last = func.max(audit_events.c.at)
    counted = (select(*[null().label(c.name) if c.name not in ("actor", "action") else c for c in audit_events.c],
                      func.count().label("times"), last.label("last_at"))
               .where(audit_events.c.instance_id == case_id, audit_events.c.action.in_(collapsed))
               .group_by(audit_events.c.actor, audit_events.c.action))
    return union_all(kept.subquery().select(), counted)


@cache
def _completions_on_stmt() -> Select[Any]:
    """The task completions of some instances with their instances' versions, oldest first (built once)."""
    audit_events = every_audit_row()
    return (select(audit_events, instances.c.process_version_id)
            .outerjoin(instances, instances.c.id == audit_events.c.instance_id)
            .where(audit_events.c.instance_id.in_(bindparam("b_ids", expanding=True)),
                   audit_events.c.action == "task.completed")
            .order_by(audit_events.c.id))


class CaseHistory:
    """Reads of the audit log shaped for the case file (indexed on instance and id; archived rows included)."""

    def __init__(self, conn: Connection, keys: SubjectKeys | None = None) -> None:
        self.conn = conn
        self.keys = keys if keys is not None else SubjectKeys(conn)

    def events(self, case_id: str, leave_out: Collection[str], limit: int) -> Sequence[Mapping[str, Any]]:
        """The case's events oldest first, without the actions in `leave_out` (counted apart)."""
        audit_events = every_audit_row()
        stmt = (select(audit_events).where(audit_events.c.instance_id == case_id)
                .order_by(audit_events.c.id).limit(limit))
        if leave_out:
            stmt = stmt.where(audit_events.c.action.not_in(sorted(leave_out)))
        return opened(self.conn, self.conn.execute(stmt).mappings().all(), self.keys)

    def events_and_repeated(
        self, case_id: str, collapsed: Collection[str], limit: int
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """`events` without the `collapsed` actions and `repeated` of those, in one round trip."""
        if not collapsed:
            return list(self.events(case_id, (), limit)), []
        events: list[Mapping[str, Any]] = []
        repeated: list[dict[str, Any]] = []
        stmt = _events_and_repeated_stmt(tuple(sorted(collapsed)), limit)
        for row in self.conn.execute(stmt, {"b_case_id": case_id}).mappings():
            if row["times"] is None:
                events.append(row)
            else:
                repeated.append({"actor": row["actor"], "action": row["action"], "times": int(row["times"]),
                                 "last_at": row["last_at"]})
        events = sorted(events, key=lambda r: r["id"])
        repeated.sort(key=lambda r: r["actor"])
        repeated.sort(key=lambda r: r["last_at"], reverse=True)
        return opened(self.conn, events, self.keys), repeated

    def completions_on(self, instance_ids: Collection[str]) -> Sequence[Mapping[str, Any]]:
        """Task completions of other instances (the meetings that discussed the case), oldest first,
        each with its instance's `process_version_id` (None when the instance is gone)."""
        if not instance_ids:
            return []
        rows = self.conn.execute(_completions_on_stmt(), {"b_ids": sorted(instance_ids)}).mappings().all()
        return opened(self.conn, rows, self.keys)
