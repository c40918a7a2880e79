"""The administrators' view of instances: a filtered, keyset-paged list and the detail of one instance.

`list_instances` and `instance_detail` are shared by the admin pages and the REST API.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfo

from ..data_protection.minimisation import without_texts
from ...domain.errors import ValidationFailed
from ...domain.model import Actor, InstanceStatus
from ...forms.codice_fiscale import check_character
from ...persistence.instance_search import (
    CountRequest,
    Counting,
    InstanceCriteria,
    InstanceSearch,
    Keyset,
    NameSearch,
)
from ..access import authorization
from .instance_detail import (
    InstanceDetail,
    TaskRecord,
    VersionRef,
    diagram_of,
    instance_detail,
    reveal_task_data,
    reveal_value,
)
from .instance_summary import InstanceSummary, find_summary, summary_of
from ..workflow.runtime import Runtime

__all__ = [
    "InstanceDetail", "InstanceFilters", "InstanceSummary", "Page", "PageRequest", "ProcessChoice", "TaskRecord",
    "VersionRef", "process_choices",
    "count_instances", "criteria_for", "describe", "diagram_of", "find_summary", "instance_detail", "instance_ids",
    "instance_summary", "list_instances",
    "reveal_task_data", "reveal_value", "summary_of",
]

T = TypeVar("T")

MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 25
MAX_OFFSET = 10_000  # deeper pages go by cursor: an offset that large would scan
COUNT_CAP = 1_000  # counts per status stop here (shown as "more than"): counting is then bounded at any size
STATUSES = tuple(s.value for s in InstanceStatus)
ERROR_STATUSES = (InstanceStatus.ERROR.value, InstanceStatus.SUSPENDED.value)


@dataclass(frozen=True)
class InstanceFilters:
    """What the administrator filters on; every field is optional."""

    statuses: tuple[str, ...] = ()
    process_id: str | None = None
    version: int | None = None  # a version number of `process_id`
    version_id: int | None = None
    zone: str | None = None
    beneficiary: str | None = None  # part of the name, or a whole codice fiscale
    started_from: date | None = None  # Rome dates, both inclusive
    started_to: date | None = None
    has_error: bool = False
    error_element: str | None = None


@dataclass(frozen=True)
class PageRequest:
    """Which page: after/before an opaque cursor (fast at any depth), or a bounded offset."""

    size: int = DEFAULT_PAGE_SIZE
    after: str | None = None
    before: str | None = None
    offset: int = 0


@dataclass(frozen=True)
class Page(Generic[T]):
    """A page of results with the total, counts per status and cursors to the neighbours."""

    items: list[T]
    total: int  # a lower bound when `capped`
    counts: dict[str, int]  # per status; a count above COUNT_CAP reads COUNT_CAP + 1 when `capped`
    size: int
    next_cursor: str | None = None
    prev_cursor: str | None = None
    filters: InstanceFilters = field(default_factory=InstanceFilters)
    capped: bool = False
    sampled: bool = False  # the counts are lower bounds from the first matches only (a common part of a name)
    newest_version: int | None = None  # the highest process version id when the page was read


def encode_cursor(started_at: datetime, instance_id: str) -> str:
    """An opaque cursor for a row position."""
    raw = f"{started_at.isoformat()}|{instance_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> Keyset:
    """The row position of a cursor; ValidationFailed when it was tampered with."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, _, instance_id = raw.partition("|")
        started = datetime.fromisoformat(moment)
        if started.tzinfo is None or not instance_id:
            raise ValueError(cursor)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed("invalid page cursor", {"cursor": ["invalid page cursor"]}) from None
    return Keyset(started, instance_id)


def criteria_for(rt: Runtime, filters: InstanceFilters) -> InstanceCriteria:
    """Resolve filters to column conditions (dates to Rome day bounds; a version number the query looks up)."""
    bad = [s for s in filters.statuses if s not in STATUSES]
    if bad:
        raise ValidationFailed("unknown status", {"statuses": [f"unknown status: {', '.join(bad)}"]})
    if filters.version is not None and not filters.process_id:
        raise ValidationFailed("a version needs its process", {"version": ["a version needs its process"]})
    code, name = _beneficiary(filters.beneficiary)
    tz = ZoneInfo(rt.settings.timezone)
    return InstanceCriteria(
        statuses=tuple(filters.statuses),
        process_id=filters.process_id or None,
        version_id=filters.version_id if filters.version is None else None,
        version=filters.version,
        zone=filters.zone or None,
        codice_fiscale=code,
        name_contains=name,
        started_from=_day_start(filters.started_from, tz),
        started_before=_day_start(filters.started_to + timedelta(days=1), tz) if filters.started_to else None,
        has_error=filters.has_error,
        error_element=filters.error_element or None,
    )


def _day_start(day: date | None, tz: ZoneInfo) -> datetime | None:
    return datetime.combine(day, time(0, 0), tzinfo=tz) if day is not None else None


def _beneficiary(text: str | None) -> tuple[str | None, str | None]:
    """A whole, valid codice fiscale is matched exactly (indexed); anything else by name."""
    text = (text or "").strip()
    if not text:
        return None, None
    upper = text.upper()
    if len(upper) == 16 and upper.isalnum() and check_character(upper[:15]) == upper[15]:
        return upper, None
    return None, text[:100]


def list_instances(
    rt: Runtime, actor: Actor, filters: InstanceFilters, page: PageRequest, exact_counts: bool = False
) -> Page[InstanceSummary]:
    """One page of instances, newest first, with the total and the counts per status (administrators).

    Counts stop above COUNT_CAP per status (`Page.capped`) unless `exact_counts`, which costs a
    pass over every matching instance. The page shows who the cases are about: the read is audited.
    """
    authorization.require_admin(actor)
    size = max(1, min(page.size, MAX_PAGE_SIZE))
    with rt.uow() as uow:
        criteria = criteria_for(rt, filters)
        after = decode_cursor(page.after) if page.after else None
        before = decode_cursor(page.before) if page.before else None
        offset = max(0, min(page.offset, MAX_OFFSET)) if after is None and before is None else 0
        counting = _counting(uow.instance_search, criteria, exact_counts)
        found = uow.instance_search.page_and_counts(criteria, size + 1, counting, after=after, before=before,
                                                    offset=offset)
        rows = found.rows
        uow.audit.record(rt.now(), actor.username, "instances.listed",
                         data={"filters": without_texts(describe(filters), ("beneficiary",)),
                               "shown": min(len(rows), size)})
        uow.commit()
    sampled = counting.how is Counting.FIRST and found.matched > COUNT_CAP
    rows, next_cursor, prev_cursor = _neighbours(rows, size, before is not None, after is not None or offset > 0)
    selected = set(criteria.statuses) or set(STATUSES)
    full_counts = {status: found.counts.get(status, 0) for status in STATUSES}
    total = sum(n for status, n in full_counts.items() if status in selected)
    bounded = not exact_counts and criteria.indexed
    capped = sampled or (bounded and any(n > COUNT_CAP for status, n in full_counts.items() if status in selected))
    items = [summary_of(r) for r in rows]
    return Page(items, total, full_counts, size, next_cursor, prev_cursor, filters, capped, sampled,
                found.newest_version)


def _neighbours(rows: list[Any], size: int, backwards: bool, moved: bool) -> tuple[list[Any], str | None, str | None]:
    """The rows of the page and the cursors to the pages after and before it (the query read one row more)."""
    has_more = len(rows) > size
    if backwards:  # the extra row is the newest one, before the page
        rows = rows[1:] if has_more else rows
        return rows, (_cursor_of(rows[-1]) if rows else None), (_cursor_of(rows[0]) if has_more and rows else None)
    rows = rows[:size]
    return rows, (_cursor_of(rows[-1]) if has_more and rows else None), (_cursor_of(rows[0]) if moved and rows else None)


def describe(filters: InstanceFilters) -> dict[str, Any]:
    """The filters that are set, as plain JSON values (for the audit log and batch parameters)."""
    return {k: (list(v) if isinstance(v, tuple) else v.isoformat() if isinstance(v, date) else v)
            for k, v in filters.__dict__.items() if v not in (None, (), False, "")}


def _counting(search: InstanceSearch, criteria: InstanceCriteria, exact: bool) -> CountRequest:
    """How to count per status: the page reads capped counts in its own statement.

    Indexed filters: bounded per status. A part of a name that an index finds: one pass that
    stops after COUNT_CAP + 1 matches (a common name part matches tens of thousands of instances,
    and each one counted is a table page read); exact when no more match. Else one exact pass.
    """
    if exact:
        return CountRequest(Counting.EXACT, STATUSES)
    if criteria.indexed:
        possible = ERROR_STATUSES if criteria.has_error else STATUSES  # only these can hold a failed instance
        return CountRequest(Counting.CAPPED, possible, COUNT_CAP)
    if criteria.name_contains and not criteria.error_element and search.names is not NameSearch.SCAN:
        return CountRequest(Counting.FIRST, STATUSES, COUNT_CAP)
    return CountRequest(Counting.EXACT, STATUSES)


def _cursor_of(row: Mapping[str, Any]) -> str:
    return encode_cursor(row["started_at"], row["id"])


def instance_ids(rt: Runtime, actor: Actor, filters: InstanceFilters, limit: int) -> list[str]:
    """Ids of every instance matching the filters, oldest first, at most `limit` (for batch operations)."""
    authorization.require_admin(actor)
    with rt.uow(write=False) as uow:
        return uow.instance_search.ids(criteria_for(rt, filters), limit)


def count_instances(rt: Runtime, actor: Actor, filters: InstanceFilters) -> int:
    """How many instances match the filters."""
    authorization.require_admin(actor)
    with rt.uow(write=False) as uow:
        return uow.instance_search.count(criteria_for(rt, filters))


def instance_summary(rt: Runtime, actor: Actor, instance_id: str) -> InstanceSummary:
    """The list row of one instance (administrators)."""
    authorization.require_admin(actor)
    with rt.uow(write=False) as uow:
        return find_summary(uow, instance_id)


@dataclass(frozen=True)
class ProcessChoice:
    """A process and its version numbers, for the filters."""

    process_id: str
    name: str
    versions: list[tuple[int, int]]  # (version id, number), newest first


def process_choices(rt: Runtime, actor: Actor, newest_version: int | None = None) -> list[ProcessChoice]:
    """Deployed processes with their versions (without counting instances).

    `newest_version`: the highest version id a page just read (`Page.newest_version`); the
    versions read earlier serve while it is theirs (versions never change, a deploy adds one).
    """
    authorization.require_admin(actor)

    def read() -> list[dict[str, Any]]:
        with rt.uow(write=False) as uow:
            return [dict(row) for row in uow.instance_search.versions()]

    rows = rt.processes.version_headers(newest_version, read)
    found: dict[str, ProcessChoice] = {}
    for row in rows:
        choice = found.setdefault(row["process_id"], ProcessChoice(row["process_id"], row["name"], []))
        choice.versions.append((int(row["id"]), int(row["version"])))
    return list(found.values())
