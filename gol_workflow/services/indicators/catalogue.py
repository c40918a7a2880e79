"""The indicator catalogue (`indicators.toml` beside the process files): labels, sources, queries, targets."""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ...domain.errors import GolError
from ...persistence.indicators import WORK_KINDS, Bounds, Count, IndicatorQueries

FILE_NAME = "indicators.toml"
UNITS = frozenset({"persone", "inserimenti", "incontri", "colloqui", "%"})


class CatalogueError(GolError):
    """The indicator catalogue cannot be used."""

    code = "catalogue-invalid"


@dataclass(frozen=True)
class Indicator:
    """One indicator of the catalogue."""

    id: str
    label: str
    source: str
    definition: str
    query: str
    unit: str
    target: float | None = None
    target_text: str | None = None


@dataclass(frozen=True)
class Measured:
    """What one named query gives: value, numerator and denominator, and the people they are about."""

    numerator: int
    denominator: int | None
    people: int | None  # the smallest group of people the value is about (None: not about people)


def _count(found: Count) -> Measured:
    return Measured(found.value, None, found.people)


def _year_before(p: Bounds) -> Bounds:
    def back(d):  # type: ignore[no-untyped-def]
        return d.replace(year=d.year - 1, day=min(d.day, 28)) if (d.month, d.day) == (2, 29) else d.replace(
            year=d.year - 1)
    return Bounds(back(p.first), back(p.last), back(p.start), back(p.end))


def _year_on_year(q: IndicatorQueries, zones: Sequence[str], p: Bounds) -> Measured:
    now, before = q.taken_in_charge(zones, p), q.taken_in_charge(zones, _year_before(p))
    return Measured(now.value, before.value, min(now.value, before.value))


# The named queries the catalogue may use: each computes one indicator from the case record.
QUERIES: dict[str, Callable[[IndicatorQueries, Sequence[str], Bounds], Measured]] = {
    "taken_in_charge": lambda q, z, p: _count(q.taken_in_charge(z, p)),
    "discussed": lambda q, z, p: _count(q.discussed(z, p)),
    "paths_started": lambda q, z, p: _count(q.paths_started(z, p)),
    "people_in_work": lambda q, z, p: _count(q.people_placed(z, p, WORK_KINDS)),
    "work_placements": lambda q, z, p: _count(q.placements(z, p, WORK_KINDS)),
    "social_placements": lambda q, z, p: _count(q.placements(z, p, ("inclusione_sociale",))),
    "sheltered_placements": lambda q, z, p: _count(q.placements(z, p, ("laboratorio_protetto",))),
    "at_risk_social_path": lambda q, z, p: _count(q.at_risk_with_path(z, p, "social")),
    "at_risk_work_path": lambda q, z, p: _count(q.at_risk_with_path(z, p, "work")),
    "taken_in_charge_year_on_year": _year_on_year,
    "operator_meetings": lambda q, z, p: _count(q.operator_meetings(z, p)),
    "joint_interviews": lambda q, z, p: _count(q.joint_interviews(z, p)),
}


def parse(text: str, source: str = FILE_NAME) -> tuple[Indicator, ...]:
    """The indicators of a catalogue file, checked (known query and unit, unique ids)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"{source}: {exc}") from None
    found: list[Indicator] = []
    for n, entry in enumerate(raw.get("indicator") or [], start=1):
        missing = [k for k in ("id", "label", "source", "definition", "query", "unit") if not entry.get(k)]
        if missing:
            raise CatalogueError(f"{source}: indicator {n} lacks {', '.join(missing)}")
        if entry["query"] not in QUERIES:
            raise CatalogueError(f"{source}: indicator {entry['id']!r}: unknown query {entry['query']!r} "
                                 f"(known: {', '.join(sorted(QUERIES))})")
        if entry["unit"] not in UNITS:
            raise CatalogueError(f"{source}: indicator {entry['id']!r}: unknown unit {entry['unit']!r}")
        if any(i.id == entry["id"] for i in found):
            raise CatalogueError(f"{source}: indicator id {entry['id']!r} appears twice")
        target = entry.get("target")
        found.append(Indicator(str(entry["id"]), str(entry["label"]), str(entry["source"]),
                               str(entry["definition"]), str(entry["query"]), str(entry["unit"]),
                               None if target is None else float(target), entry.get("target_text")))
    if not found:
        raise CatalogueError(f"{source}: no [[indicator]]")
    return tuple(found)


def load(processes_dir: str | Path) -> tuple[Indicator, ...]:
    """The catalogue beside the process files."""
    path = Path(processes_dir) / FILE_NAME
    try:
        return parse(path.read_text(encoding="utf-8"), path.name)
    except OSError as exc:
        raise CatalogueError(f"{path.name}: {exc.strerror}") from None
