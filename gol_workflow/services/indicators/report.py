"""The indicators of a zone (or of the whole service) over a period, with small numbers suppressed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ...domain.errors import Forbidden, NotFound, ValidationFailed
from ...domain.model import Actor
from ...persistence.indicators import WAITS, Bounds
from ..access import authorization
from ..workflow.runtime import Runtime
from . import catalogue

MIN_PEOPLE = 5  # an aggregate about fewer people is not shown: a person could be recognised
MAX_DAYS = 3 * 366 + 1
FIRST_YEAR, LAST_YEAR = 2000, 2100
WAIT_LABELS = {
    "profiling": "Dall'accesso alla profilazione",
    "equipe": "Dall'accesso all'equipe",
    "first_appointment": "Dall'accesso al primo appuntamento",
    "path_start": "Dall'accesso all'avvio del percorso",
}
OUTCOME_LABELS = {
    "occupato": "Occupato/a",
    "in_formazione": "In formazione",
    "inclusione_sociale": "Inclusione sociale",
    "ritirato": "Ritirato/a",
    "altro": "Altro",
}


@dataclass(frozen=True)
class Value:
    """One indicator's figures for the period (None where suppressed or not computable)."""

    id: str
    label: str
    source: str
    definition: str
    unit: str
    value: float | None
    numerator: int | None
    denominator: int | None
    target: float | None
    target_text: str | None
    suppressed: bool

    @property
    def reached(self) -> bool | None:
        """Whether the source's target is reached (None without a target or a value)."""
        return None if self.target is None or self.value is None else self.value >= self.target

    def as_dict(self) -> dict[str, Any]:
        """The API and export shape."""
        return {"id": self.id, "label": self.label, "source": self.source, "definition": self.definition,
                "value": self.value, "numerator": self.numerator, "denominator": self.denominator,
                "target": self.target, "target_text": self.target_text, "unit": self.unit,
                "suppressed": self.suppressed, "reached": self.reached}


@dataclass
class Report:
    """Indicators, waiting times and flow of one zone or of the whole service (`zone` None) for a period."""

    zone: str | None
    zones: list[str]
    first: date
    last: date
    items: list[Value] = field(default_factory=list)
    waiting: list[dict[str, Any]] = field(default_factory=list)
    flow: dict[str, Any] = field(default_factory=dict)


def bounds(first: date, last: date, tz: ZoneInfo) -> Bounds:
    """A period of local days as UTC instants."""
    return Bounds(first, last, datetime.combine(first, time(), tz),
                  datetime.combine(last + timedelta(days=1), time(), tz))


def check_period(first: date, last: date) -> None:
    """A period must run forwards, span at most three years and lie in this era of the service."""
    if first.year < FIRST_YEAR or last.year > LAST_YEAR:
        raise ValidationFailed("the period is out of range", {"from": [f"Anni dal {FIRST_YEAR} al {LAST_YEAR}."]})
    if last < first:
        raise ValidationFailed("the period ends before it starts", {"to": ["La data finale precede quella iniziale."]})
    if (last - first).days > MAX_DAYS:
        raise ValidationFailed("the period is too long", {"to": ["Il periodo può durare al massimo tre anni."]})


def scope(rt: Runtime, actor: Actor, zone: str | None) -> list[str]:
    """The zones the report covers; refuses a zone or the whole service the person may not read."""
    if zone is not None and zone not in rt.zones:
        raise NotFound(f"zone {zone!r} is not configured")
    readable = authorization.indicator_zones(actor, sorted(rt.zones))
    if zone is None:
        if not authorization.can_read_service_indicators(actor):
            raise Forbidden("the whole service's indicators are reserved to administrators; choose one of your zones")
        return readable
    if zone not in readable:
        raise Forbidden(f"you may not read the indicators of zone {zone!r}")
    return [zone]


def _small(people: int | None) -> bool:
    return people is not None and 0 < people < MIN_PEOPLE


def _value(ind: catalogue.Indicator, found: catalogue.Measured) -> Value:
    if _small(found.people) or (found.denominator is not None and _small(found.denominator)):
        return Value(ind.id, ind.label, ind.source, ind.definition, ind.unit, None, None, None, ind.target,
                     ind.target_text, True)
    value: float | None
    if found.denominator is None:
        value = float(found.numerator)
    elif found.denominator == 0:
        value = None
    else:
        value = round(100.0 * found.numerator / found.denominator, 1) if ind.unit == "%" else round(
            found.numerator / found.denominator, 2)
    return Value(ind.id, ind.label, ind.source, ind.definition, ind.unit, value, found.numerator, found.denominator,
                 ind.target, ind.target_text, False)


def _suppress_waits(row: dict[str, Any]) -> dict[str, Any]:
    out = {"zone": row["zone"], "month": row["month"]}
    for name in WAITS:
        figures = row[name]
        small = _small(figures["n"])
        out[name] = {"n": None if small else figures["n"], "p50": None if small else _days(figures["p50"]),
                     "p90": None if small else _days(figures["p90"]), "suppressed": small}
    return out


def _days(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _share(made: int, total: int) -> dict[str, Any]:
    if _small(total):
        return {"made": None, "total": None, "share": None, "suppressed": True}
    return {"made": made, "total": total, "share": round(100.0 * made / total, 1) if total else None,
            "suppressed": False}


def _flow(rt: Runtime, uow: Any, zones: list[str], p: Bounds) -> dict[str, Any]:
    q = uow.indicators
    made = total = 0
    # The rule: the agenda closes `notice_days` before the meeting; a case profiled just after
    # a cut-off waits at most one cadence more, so the first meeting it could join falls within this.
    # Zones with the same calendar rule are counted together (one query, not one per zone).
    by_rule: dict[int, list[str]] = {}
    for zone_id in zones:
        zone = rt.zones[zone_id]
        by_rule.setdefault(zone.notice_days + 7 * zone.cadence_weeks, []).append(zone_id)
    for within, same in sorted(by_rule.items()):
        m, t = q.agenda_rule(same, p, within)
        made, total = made + m, total + t
    n_meetings, n_cases = q.meetings_held(zones, p)
    loads = q.case_manager_loads(zones, p.last)
    outcomes = q.outcomes(zones, p)
    closed = sum(outcomes.values())
    return {
        "agenda_rule": _share(made, total),
        "cases_per_meeting": {"meetings": n_meetings, "cases": None if _small(n_cases) else n_cases,
                              "mean": None if _small(n_cases) or not n_meetings else round(n_cases / n_meetings, 2),
                              "suppressed": _small(n_cases)},
        "case_manager_load": {"case_managers": len(loads), "cases": None if _small(sum(loads)) else sum(loads),
                              "mean": None if _small(sum(loads)) or not loads else round(sum(loads) / len(loads), 2),
                              "max": None if _small(sum(loads)) or not loads else max(loads),
                              "suppressed": _small(sum(loads))},
        "outcomes": {"closed": None if _small(closed) else closed, "suppressed": _small(closed),
                     "by_outcome": [{"outcome": k, "label": OUTCOME_LABELS.get(k, k),
                                     "count": None if _small(v) or _small(closed) else v,
                                     "share": None if _small(v) or _small(closed) else round(100.0 * v / closed, 1)}
                                    for k, v in sorted(outcomes.items())]},
    }


def compute(rt: Runtime, actor: Actor, zone: str | None, first: date, last: date) -> Report:
    """Every indicator of the catalogue, the waiting times per zone and month, and the flow figures."""
    check_period(first, last)
    zones = scope(rt, actor, zone)
    indicators = catalogue.load(rt.settings.processes_dir)
    tz = ZoneInfo(rt.settings.timezone)
    p = bounds(first, last, tz)
    report = Report(zone, zones, first, last)
    with rt.uow(write=False) as uow:
        for ind in indicators:
            report.items.append(_value(ind, catalogue.QUERIES[ind.query](uow.indicators, zones, p)))
        rows = uow.indicators.waiting_times(zones, p, tz) if zones else []
        wanted = [r for r in rows if (r["zone"] is None) == (zone is None) or zone is None]
        report.waiting = [_suppress_waits(r) for r in wanted]
        report.flow = _flow(rt, uow, zones, p) if zones else {}
    return report
