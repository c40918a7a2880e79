"""The operator's inbox: ready tasks one may work, with filters, sorting, pages and queue counts."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from ...domain.model import Actor
from ...persistence.inbox_search import SORTS, InboxFilter
from ..access import authorization
from ..cases import case_state
from .runtime import Runtime

PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
QUEUES = ("tutte", "mie", "libere", "scadute")
TASK_TYPES_TTL = 30.0


@dataclass(frozen=True)
class InboxQuery:
    """What the operator asked for (already parsed from the request)."""

    zone: str | None = None
    element_id: str | None = None
    overdue: bool = False
    beneficiary: str | None = None
    queue: str = "tutte"
    sort: str = "attesa"
    descending: bool = False
    page: int = 1
    page_size: int = PAGE_SIZE


@dataclass
class InboxPage:
    """One page of the inbox with everything the page and the API show."""

    items: list[dict[str, Any]]
    total: int
    counts: dict[str, int]
    page: int
    page_size: int
    query: InboxQuery
    zones: list[str] = field(default_factory=list)
    task_types: list[tuple[str, str]] = field(default_factory=list)

    @property
    def pages(self) -> int:
        """How many pages the current queue has."""
        return max(1, -(-self.total // self.page_size))


def normalise(query: InboxQuery, actor: Actor, known_zones: list[str]) -> InboxQuery:
    """Drop values that are not allowed (unknown sort, foreign zone, page out of range)."""
    zones = actor_zones(actor, known_zones)
    return InboxQuery(
        zone=query.zone if query.zone in zones else None,
        element_id=(query.element_id or None) and query.element_id[:255],
        overdue=query.overdue,
        beneficiary=(query.beneficiary or "").strip()[:100] or None,
        queue=query.queue if query.queue in QUEUES else "tutte",
        sort=query.sort if query.sort in SORTS else "attesa",
        descending=query.descending,
        page=max(1, min(query.page, 100_000)),
        page_size=max(1, min(query.page_size, MAX_PAGE_SIZE)),
    )


def actor_zones(actor: Actor, known_zones: list[str]) -> list[str]:
    """The zones whose tasks a person can filter on."""
    if authorization.is_admin(actor):
        return sorted(set(known_zones))
    return sorted(actor.zones)


def inbox(rt: Runtime, actor: Actor, query: InboxQuery) -> InboxPage:
    """The ready tasks this person may work, as one page with counts per queue."""
    query = normalise(query, actor, list(rt.zones))
    scope = authorization.inbox_scope(actor)
    chosen = InboxFilter(
        zone=query.zone, element_id=query.element_id, overdue=query.overdue, beneficiary=query.beneficiary,
        queue=query.queue, user=actor.username, now=rt.now(),
    )
    offset = (query.page - 1) * query.page_size
    with rt.uow(write=False) as uow:
        counts = uow.inbox_search.counts(scope, chosen)
        rows = uow.inbox_search.page_with_blocked(scope, chosen, query.sort, query.descending, query.page_size,
                                                  offset, case_state.BLOCKED)
    blocked = case_state.notices_of(row.pop("blocked") for row in rows)
    total = _queue_total(counts, query)
    items = [row | {"case_notice": blocked.get(row["instance_id"])} for row in rows]
    return InboxPage(items, total, counts, query.page, query.page_size, query, actor_zones(actor, list(rt.zones)),
                     task_types(rt))


def _queue_total(counts: dict[str, int], query: InboxQuery) -> int:
    if query.queue == "tutte" and query.overdue:
        return counts["scadute"]
    return counts[query.queue]


def task_types(rt: Runtime) -> list[tuple[str, str]]:
    """(element id, name) of every user task in the latest deployed versions, for the filter.

    Read again at most every TASK_TYPES_TTL seconds: deploys are rare, inbox pages are not.
    """
    cached = rt.extras.get("inbox_task_types")
    if cached and time.monotonic() - cached[0] < TASK_TYPES_TTL:
        return list(cached[1])
    found: dict[str, str] = {}
    with rt.uow(write=False) as uow:
        for row in uow.versions.latest_headers():
            compiled = rt.processes.get(uow, int(row["id"])).compiled
            for meta in compiled.tasks.values():
                found.setdefault(meta.element_id, meta.name)
    types = sorted(found.items(), key=lambda item: item[1].lower())
    rt.extras["inbox_task_types"] = (time.monotonic(), types)
    return types


def next_task(rt: Runtime, actor: Actor) -> dict[str, Any] | None:
    """The oldest task in the person's inbox, preferring the ones they already took."""
    for queue in ("mie", "libere"):
        page = inbox(rt, actor, InboxQuery(queue=queue, page_size=1))
        if page.items:
            return page.items[0]
    return None
