"""Looking for a person's data anywhere in the database: every text column of every table."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import LargeBinary, String, Text, cast, or_, select

from gol_workflow.persistence.tables import metadata
from gol_workflow.services.workflow.runtime import Runtime


def traces(rt: Runtime, needles: Iterable[str]) -> dict[str, list[str]]:
    """Per `table.column`, which of the needles it still holds in some row (any text or JSON column, any case)."""
    found: dict[str, list[str]] = {}
    needles = [n for n in needles if n]
    with rt.uow(write=False) as uow:
        for table in metadata.sorted_tables:
            for column in table.c:
                if isinstance(column.type, LargeBinary):
                    continue
                if not isinstance(column.type, String | Text) and column.type.__class__.__name__ != "JsonText":
                    continue
                text = cast(column, Text)
                for needle in needles:
                    hit = uow.conn.execute(select(text).where(text.icontains(needle, autoescape=True))
                                           .limit(1)).first()
                    if hit is not None:
                        found.setdefault(f"{table.name}.{column.name}", []).append(needle)
    return found


def rows_of(rt: Runtime, table: Any, *where: Any) -> list[dict[str, Any]]:
    """Rows of a table, as dicts."""
    with rt.uow(write=False) as uow:
        return [dict(r) for r in uow.conn.execute(select(table).where(or_(*where) if where else True)).mappings()]
