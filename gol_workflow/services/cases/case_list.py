"""The cases a person may see, whether or not a task is ready: filtered, sorted, paged; each list read audited."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..data_protection.minimisation import without_texts
from ...domain.model import Actor
from ...persistence.case_list import ENDED, OPEN, SORTS, STATUSES, CaseFilter
from ..access import authorization
from ..workflow.inbox import actor_zones, task_types
from ..workflow.runtime import Runtime

PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
MAX_PAGE = 100_000
COUNT_CAP = 1_000  # counts stop here ("oltre 1.000"), so a zone of 500,000 cases costs what a small one does
# status filter -> the stored statuses it means
STATUS_FILTERS: dict[str, tuple[str, ...]] = {"aperto": OPEN, "chiuso": ENDED, **{s: (s,) for s in STATUSES}}


@dataclass(frozen=True)
class CaseQuery:
    """What the person asked for (already parsed)."""

    text: str | None = None
    zone: str | None = None
    status: str | None = None  # aperto | chiuso | a stored status
    step: str | None = None
    overdue: bool = False
    mine: bool = False
    sort: str = "updated"
    descending: bool = True
    page: int = 1
    page_size: int = PAGE_SIZE


@dataclass
class CasePage:
    """One page of the case list."""

    items: list[dict[str, Any]]
    total: int
    exact: bool  # False when the count stopped at COUNT_CAP
    page: int
    page_size: int
    query: CaseQuery
    zones: list[str] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)

    @property
    def pages(self) -> int:
        """Pages the count covers (one more while a capped count leaves full pages)."""
        pages = max(1, -(-self.total // self.page_size))
        if not self.exact and len(self.items) == self.page_size:
            pages = max(pages, self.page + 1)
        return pages


def normalise(query: CaseQuery, actor: Actor, known_zones: list[str]) -> CaseQuery:
    """Drop what is not allowed (unknown sort or status, foreign zone, page out of range)."""
    return CaseQuery(
        text=(query.text or "").strip()[:100] or None,
        zone=query.zone if query.zone in actor_zones(actor, known_zones) else None,
        status=query.status if query.status in STATUS_FILTERS else None,
        step=(query.step or "").strip()[:255] or None,
        overdue=query.overdue,
        mine=query.mine,
        sort=query.sort if query.sort in SORTS else "updated",
        descending=query.descending,
        page=max(1, min(query.page, MAX_PAGE)),
        page_size=max(1, min(query.page_size, MAX_PAGE_SIZE)),
    )


def list_cases(rt: Runtime, actor: Actor, query: CaseQuery, with_steps: bool = False) -> CasePage:
    """The cases this person may see, one page; the read is audited once (not per case)."""
    query = normalise(query, actor, list(rt.zones))
    scope = authorization.case_scope(actor)
    now = rt.now()
    chosen = CaseFilter(
        text=query.text, zone=query.zone, statuses=STATUS_FILTERS.get(query.status or "", ()), step=query.step,
        overdue=query.overdue, mine=query.mine, user=actor.username, services=tuple(sorted(actor.services)), now=now,
    )
    offset = (query.page - 1) * query.page_size
    with rt.uow() as uow:
        items, counted = uow.case_list.page_and_count(scope, chosen, query.sort, query.descending, query.page_size,
                                                      offset, COUNT_CAP)
        details: dict[str, Any] = {"filtri": without_texts({k: v for k, v in vars(query).items()
                                                            if v not in (None, False)}, ("text",)),
                                   "casi": len(items)}
        if authorization.is_admin(actor):
            details["lettura_amministrativa"] = True
        uow.audit.record(now, actor.username, "cases.listed", data=details)
        uow.commit()
    exact = counted <= COUNT_CAP
    # The steps offered are the user tasks' names (cached): a case at one task shows its name as current step.
    steps = sorted({name for _, name in task_types(rt)}, key=str.lower) if with_steps else []
    return CasePage(items, min(counted, COUNT_CAP), exact, query.page, query.page_size, query,
                    actor_zones(actor, list(rt.zones)), steps)
