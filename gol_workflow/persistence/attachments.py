"""Files attached to a case (bytes stored in the database, never on a path a user chooses)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import Connection, RowMapping, Select, bindparam, insert, select

from .tables import attachments

_LISTED = [c for c in attachments.c if c.name != "content"]


@cache
def _for_instance_stmt() -> Select[Any]:
    """A case's attachments without their bytes, newest first (built once: the case file reads them on every view)."""
    return (select(*_LISTED).where(attachments.c.instance_id == bindparam("b_instance_id"))
            .order_by(attachments.c.uploaded_at.desc(), attachments.c.id))


class AttachmentRepository:
    """Adds and reads attachments."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, values: dict[str, Any]) -> None:
        """Store one attachment."""
        self.conn.execute(insert(attachments).values(**values))

    def for_instance(self, instance_id: str) -> Sequence[RowMapping]:
        """Attachments of a case without their bytes, newest first."""
        return self.conn.execute(_for_instance_stmt(), {"b_instance_id": instance_id}).mappings().all()

    def get(self, attachment_id: str) -> RowMapping | None:
        """One attachment with its bytes."""
        return self.conn.execute(select(attachments).where(attachments.c.id == attachment_id)).mappings().first()
