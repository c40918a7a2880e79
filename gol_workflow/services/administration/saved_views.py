"""An administrator's saved views of the instance list: a name and the list's query string, their own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl, urlencode

from ...domain.errors import InputRefused, NotFound
from ...domain.model import Actor
from ..access import authorization
from ..workflow.runtime import Runtime

# The instance list's filters (web parameter names); paging and anything else is not kept.
KEPT = ("beneficiario", "processo", "versione", "zona", "dal", "al", "ultimi", "stato", "errore", "elemento", "per")
MAX_NAME = 120
MAX_QUERY = 2000
MAX_VIEWS = 100


@dataclass(frozen=True)
class SavedView:
    """A named filter of the instance list."""

    id: int
    name: str
    query: str
    created_at: datetime


def clean_query(query: str) -> str:
    """The filters of a query string, in a stable order, without paging or unknown parameters."""
    pairs = [(k, v) for k, v in parse_qsl(query.lstrip("?"), keep_blank_values=False) if k in KEPT and v.strip()]
    return urlencode(sorted(pairs, key=lambda kv: (KEPT.index(kv[0]), kv[1])))


def list_views(rt: Runtime, actor: Actor) -> list[SavedView]:
    """The caller's saved views, by name."""
    authorization.require_admin(actor)
    with rt.uow(write=False) as uow:
        rows = uow.saved_views.of(actor.username)
    return [SavedView(int(r["id"]), r["name"], r["query"], r["created_at"]) for r in rows]


def save_view(rt: Runtime, actor: Actor, name: str, query: str) -> SavedView:
    """Keep the list's current filters under a name (replacing the caller's view of that name)."""
    authorization.require_admin(actor)
    name = " ".join((name or "").split())
    if not name:
        raise InputRefused("name-required", "a name is required", {"name": ["required"]})
    if len(name) > MAX_NAME:
        raise InputRefused("name-too-long", "the name is too long", {"name": [f"at most {MAX_NAME} characters"]})
    if len(query or "") > MAX_QUERY:
        raise InputRefused("query-too-long", "the query is too long", {"query": [f"at most {MAX_QUERY} characters"]})
    kept = clean_query(query or "")
    now = rt.now()
    with rt.uow() as uow:
        existing = uow.saved_views.of(actor.username)
        if len(existing) >= MAX_VIEWS and all(r["name"] != name for r in existing):
            raise InputRefused("too-many", "too many saved views", {"name": [f"at most {MAX_VIEWS} views"]})
        view_id = uow.saved_views.save(actor.username, name, kept, now)
        uow.commit()
    return SavedView(view_id, name, kept, now)


def delete_view(rt: Runtime, actor: Actor, view_id: int) -> None:
    """Remove one of the caller's views (another person's is not found)."""
    authorization.require_admin(actor)
    with rt.uow() as uow:
        if not uow.saved_views.delete(actor.username, view_id):
            raise NotFound(f"saved view {view_id} does not exist")
        uow.commit()
