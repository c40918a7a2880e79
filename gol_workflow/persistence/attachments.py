"""Files attached to a case (bytes stored in the database, never on a path a user chooses)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, RowMapping, insert, select

from .tables import attachments

_LISTED = [c for c in attachments.c if c.name != "content"]


class AttachmentRepository:
    """Adds and reads attachments."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, values: dict[str, Any]) -> None:
        """Store one attachment."""
        self.conn.execute(insert(attachments).values(**values))

    def for_instance(self, instance_id: str) -> Sequence[RowMapping]:
        """Attachments of a case without their bytes, newest first."""
        stmt = (
            select(*_LISTED)
            .where(attachments.c.instance_id == instance_id)
            .order_by(attachments.c.uploaded_at.desc(), attachments.c.id)
        )
        return self.conn.execute(stmt).mappings().all()

    def get(self, attachment_id: str) -> RowMapping | None:
        """One attachment with its bytes."""
        return self.conn.execute(select(attachments).where(attachments.c.id == attachment_id)).mappings().first()
