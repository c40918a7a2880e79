"""Aggregate queries over the case record, the placements and the meetings: what the indicators count.

Every query takes the zones and the period and returns numbers only, never a person. Dates of
the period are local days (from and to included); instants are compared with the UTC bounds of
those days. Waiting times are whole local days; their median and 90th percentile use
PostgreSQL's `percentile_cont`, and on SQLite the same interpolation in Python over the days.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, distinct, func, select, text
from sqlalchemy.sql.elements import ColumnElement

from .tables import cases, meeting_agenda, meetings, operator_meetings, placements

TAKEN_IN_CHARGE = "presa_in_carico"
WORK_KINDS = ("tirocinio", "assunzione")
AT_RISK = ("adi", "rischio_poverta")
PROCESS = "percorso4"


@dataclass(frozen=True)
class Bounds:
    """A period: local days `first`..`last` (included) and the UTC instants `start` <= t < `end`."""

    first: date
    last: date
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Count:
    """A counted indicator: how many (events or people), and how many distinct people behind them."""

    value: int
    people: int | None  # None: not about people (the operators' meetings)


def percentile_cont(values: Sequence[float], fraction: float) -> float | None:
    """PostgreSQL's percentile_cont: linear interpolation between the sorted values."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return float(ordered[low] + (ordered[high] - ordered[low]) * (position - low))


# The waiting times: from access (the case opened at the CPI) to each step, in local days.
WAITS = ("profiling", "equipe", "first_appointment", "path_start")


class IndicatorQueries:
    """SQL of the indicators: counts per period and zones, waiting times per zone and month."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.dialect = conn.dialect.name
        self._counted: dict[tuple[str, tuple[str, ...], Bounds], dict[str, int]] = {}

    # -- counts -----------------------------------------------------------------------------

    def _by_equipe(self, zones: Sequence[str], p: Bounds) -> dict[str, int]:
        """Every count of cases decided at a meeting in the period, in one index-only read (kept for the report)."""
        key = ("equipe", tuple(zones), p)
        if key not in self._counted:
            taken = cases.c.decision == TAKEN_IN_CHARGE
            at_risk = and_(taken, cases.c.poverty_condition.in_(AT_RISK))
            stmt = select(
                func.count().filter(cases.c.decision.is_not(None)).label("discussed"),
                func.count().filter(taken).label("taken"),
                func.count().filter(and_(at_risk, cases.c.social_inclusion_path.is_(True))).label("at_risk_social"),
                func.count().filter(and_(at_risk, cases.c.work_path.is_(True))).label("at_risk_work"),
            ).where(cases.c.zone.in_(list(zones)), cases.c.process_id == PROCESS, cases.c.equipe_at >= p.start,
                    cases.c.equipe_at < p.end)
            self._counted[key] = {k: int(v or 0) for k, v in self.conn.execute(stmt).one()._mapping.items()}
        return self._counted[key]

    def _by_path_start(self, zones: Sequence[str], p: Bounds) -> dict[str, int]:
        """Every count of cases whose path started in the period, in one index-only read (kept for the report)."""
        key = ("path", tuple(zones), p)
        if key not in self._counted:
            stmt = select(func.count().label("started"),
                          func.count().filter(cases.c.joint_interview.is_(True)).label("joint")).where(
                cases.c.zone.in_(list(zones)), cases.c.process_id == PROCESS, cases.c.path_start_date >= p.first,
                cases.c.path_start_date <= p.last)
            self._counted[key] = {k: int(v or 0) for k, v in self.conn.execute(stmt).one()._mapping.items()}
        return self._counted[key]

    @staticmethod
    def _people(n: int) -> Count:
        return Count(n, n)

    def taken_in_charge(self, zones: Sequence[str], p: Bounds) -> Count:
        """Cases the equipe took in charge at a meeting in the period."""
        return self._people(self._by_equipe(zones, p)["taken"])

    def discussed(self, zones: Sequence[str], p: Bounds) -> Count:
        """People the equipe decided on (any decision) at a meeting in the period."""
        return self._people(self._by_equipe(zones, p)["discussed"])

    def paths_started(self, zones: Sequence[str], p: Bounds) -> Count:
        """Cases whose 12-month path (and individual project) started in the period."""
        return self._people(self._by_path_start(zones, p)["started"])

    def joint_interviews(self, zones: Sequence[str], p: Bounds) -> Count:
        """First interviews held jointly (labour and social operators with the person) in the period."""
        return self._people(self._by_path_start(zones, p)["joint"])

    def at_risk_with_path(self, zones: Sequence[str], p: Bounds, kind: str) -> Count:
        """People at risk of poverty (ADI or not) taken in charge in the period with a path of this kind."""
        return self._people(self._by_equipe(zones, p)["at_risk_social" if kind == "social" else "at_risk_work"])

    def placements(self, zones: Sequence[str], p: Bounds, kinds: Sequence[str]) -> Count:
        """Placements of these kinds started in the period, and the people placed."""
        stmt = select(func.count(), func.count(distinct(placements.c.case_id))).where(
            placements.c.zone.in_(list(zones)), placements.c.kind.in_(list(kinds)),
            placements.c.start_date >= p.first, placements.c.start_date <= p.last)
        n, people = self.conn.execute(stmt).one()
        return Count(int(n), int(people))

    def people_placed(self, zones: Sequence[str], p: Bounds, kinds: Sequence[str]) -> Count:
        """People with at least one placement of these kinds started in the period."""
        found = self.placements(zones, p, kinds)
        return Count(found.people or 0, found.people)

    def operator_meetings(self, zones: Sequence[str], p: Bounds) -> Count:
        """Coordination and training meetings of the operators held in the period."""
        stmt = select(func.count()).select_from(operator_meetings).where(
            operator_meetings.c.zone.in_(list(zones)), operator_meetings.c.held_on >= p.first,
            operator_meetings.c.held_on <= p.last)
        return Count(int(self.conn.execute(stmt).scalar_one()), None)

    def outcomes(self, zones: Sequence[str], p: Bounds) -> dict[str, int]:
        """Outcomes recorded at the final monitoring in the period, by outcome."""
        stmt = select(cases.c.outcome, func.count()).where(
            cases.c.zone.in_(list(zones)), cases.c.process_id == PROCESS, cases.c.outcome.is_not(None),
            cases.c.final_monitoring_date >= p.first, cases.c.final_monitoring_date <= p.last,
        ).group_by(cases.c.outcome)
        return {str(k): int(v) for k, v in self.conn.execute(stmt)}

    def agenda_rule(self, zones: Sequence[str], p: Bounds, within_days: int) -> tuple[int, int]:
        """(cases discussed within `within_days` of profiling, cases profiled in the period and discussed)."""
        where = (cases.c.zone.in_(list(zones)), cases.c.process_id == PROCESS, cases.c.decision.is_not(None),
                 cases.c.substantial_changes == 0, cases.c.profiled_at >= p.start, cases.c.profiled_at < p.end,
                 cases.c.equipe_at.is_not(None))
        if self.dialect == "postgresql":
            within = cases.c.equipe_at <= cases.c.profiled_at + text(f"interval '{int(within_days)} days'")
            total, made = self.conn.execute(select(func.count(), func.count().filter(within)).where(*where)).one()
            return int(made), int(total)
        pairs = list(self.conn.execute(select(cases.c.profiled_at, cases.c.equipe_at).where(*where)))
        made = sum(1 for profiled, equipe in pairs if (equipe - profiled).total_seconds() <= within_days * 86400)
        return made, len(pairs)

    def meetings_held(self, zones: Sequence[str], p: Bounds) -> tuple[int, int]:
        """(equipe meetings convened in the period, cases on their agendas)."""
        held = select(meetings.c.id).where(meetings.c.zone.in_(list(zones)), meetings.c.status == "convened",
                                           meetings.c.scheduled_at >= p.start, meetings.c.scheduled_at < p.end)
        n_meetings = int(self.conn.execute(select(func.count()).select_from(held.subquery())).scalar_one())
        n_cases = int(self.conn.execute(select(func.count()).select_from(meeting_agenda).where(
            meeting_agenda.c.meeting_id.in_(held))).scalar_one())
        return n_meetings, n_cases

    def case_manager_loads(self, zones: Sequence[str], on: date) -> list[int]:
        """Cases in their 12-month path on a day, per case manager (counts only, no names)."""
        stmt = select(func.count()).where(
            cases.c.zone.in_(list(zones)), cases.c.process_id == PROCESS, cases.c.case_manager.is_not(None),
            cases.c.path_start_date <= on,
            and_(cases.c.final_monitoring_date.is_(None) | (cases.c.final_monitoring_date > on)),
            cases.c.status.in_(("running", "waiting", "error", "suspended", "completed")),
        ).group_by(cases.c.case_manager)
        return sorted(int(n) for (n,) in self.conn.execute(stmt))

    def active_paths(self, zone: str, on: datetime) -> list[tuple[str, datetime]]:
        """(case manager, end of the path) of the zone's paths running at an instant: the forecast's starting load."""
        stmt = select(cases.c.case_manager, cases.c.path_end_at).where(
            cases.c.zone == zone, cases.c.process_id == PROCESS, cases.c.case_manager.is_not(None),
            cases.c.path_end_at > on, cases.c.status.in_(("running", "waiting", "error", "suspended")))
        return [(str(m), end) for m, end in self.conn.execute(stmt)]

    def arrivals(self, zone: str, p: Bounds) -> int:
        """Cases of percorso 4 (complex needs) profiled in the period: the arrivals the forecast starts from."""
        stmt = select(func.count()).select_from(cases).where(
            cases.c.zone == zone, cases.c.process_id == PROCESS, cases.c.percorso == 4,
            cases.c.profiled_at >= p.start, cases.c.profiled_at < p.end)
        return int(self.conn.execute(stmt).scalar_one())

    # -- waiting times ----------------------------------------------------------------------

    def waiting_times(self, zones: Sequence[str], p: Bounds, tz: ZoneInfo) -> list[dict[str, Any]]:
        """Per zone and month of access (and per month for all the zones: zone None): count, median, p90 per wait."""
        if self.dialect == "postgresql":
            return self._waiting_sql(zones, p, tz)
        return self._waiting_portable(zones, p, tz)

    def _waiting_sql(self, zones: Sequence[str], p: Bounds, tz: ZoneInfo) -> list[dict[str, Any]]:
        local = "(({0}) AT TIME ZONE :tz)::date"
        opened = local.format("opened_at")
        days = {
            "profiling": f"{local.format('profiled_at')} - {opened}",
            "equipe": f"CASE WHEN decision IS NOT NULL AND substantial_changes = 0 THEN "
                      f"{local.format('equipe_at')} - {opened} END",
            "first_appointment": f"{local.format('first_appointment_at')} - {opened}",
            "path_start": f"path_start_date - {opened}",
        }
        inner = ", ".join(f"{expr} AS {name}" for name, expr in days.items())
        # Both percentiles from one ordered-set aggregate: each group's values are sorted once, not twice.
        measures = ", ".join(
            f"count({n}) AS {n}_n, percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY {n}) AS {n}_p"
            for n in WAITS)
        sql = text(
            f"SELECT zone, month, {measures} FROM (SELECT zone, to_char(opened_at AT TIME ZONE :tz, 'YYYY-MM') "
            f"AS month, {inner} FROM cases WHERE process_id = :process AND zone = ANY(:zones) "
            f"AND opened_at >= :start AND opened_at < :end) AS w GROUP BY GROUPING SETS ((zone, month), (month)) "
            f"ORDER BY month, zone NULLS LAST")
        rows = self.conn.execute(sql, {"tz": tz.key, "process": PROCESS, "zones": list(zones),
                                       "start": p.start, "end": p.end}).mappings()
        found = []
        for row in rows:
            entry: dict[str, Any] = {"zone": row["zone"], "month": row["month"]}
            for n in WAITS:
                p50, p90 = row[f"{n}_p"] or (None, None)
                entry[n] = {"n": int(row[f"{n}_n"]), "p50": _float(p50), "p90": _float(p90)}
            found.append(entry)
        return found

    def _waiting_portable(self, zones: Sequence[str], p: Bounds, tz: ZoneInfo) -> list[dict[str, Any]]:
        stmt = select(cases.c.zone, cases.c.opened_at, cases.c.profiled_at, cases.c.equipe_at, cases.c.decision,
                      cases.c.substantial_changes, cases.c.first_appointment_at, cases.c.path_start_date).where(
            cases.c.process_id == PROCESS, cases.c.zone.in_(list(zones)), cases.c.opened_at >= p.start,
            cases.c.opened_at < p.end)
        groups: dict[tuple[str | None, str], dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))

        def day(moment: datetime | None) -> date | None:
            return None if moment is None else moment.astimezone(tz).date()

        for row in self.conn.execute(stmt).mappings():
            opened = day(row["opened_at"])
            assert opened is not None
            month = f"{opened:%Y-%m}"
            equipe = day(row["equipe_at"]) if row["decision"] is not None and not row["substantial_changes"] else None
            values = {"profiling": day(row["profiled_at"]), "equipe": equipe,
                      "first_appointment": day(row["first_appointment_at"]), "path_start": row["path_start_date"]}
            for name, reached in values.items():
                if reached is not None:
                    for key in ((row["zone"], month), (None, month)):
                        groups[key][name].append((reached - opened).days)
        found = []
        for (zone, month), lists in sorted(groups.items(), key=lambda kv: (kv[0][1], kv[0][0] is None, kv[0][0] or "")):
            entry: dict[str, Any] = {"zone": zone, "month": month}
            for n in WAITS:
                values = lists.get(n, [])
                entry[n] = {"n": len(values), "p50": percentile_cont(values, 0.5), "p90": percentile_cont(values, 0.9)}
            found.append(entry)
        return found


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


QueryFunction = Callable[[IndicatorQueries, Sequence[str], Bounds], Count]
