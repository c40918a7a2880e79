"""Everything held about one person, found by codice fiscale: for the data subject's rights (GDPR art. 15)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, RowMapping, or_, select

from .archive import every_audit_row
from .sealing import SubjectKeys, opened, pseudonym
from .tables import INSTANCE_HEADER, attachments, audit_events, cases, instances

MAX_EVENTS = 20_000  # one person's history over years stays far below this; a bound keeps one export finite


class SubjectRecords:
    """Cases, case records, events and attachments of one person."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def instances_of(self, codice_fiscale: str) -> Sequence[RowMapping]:
        """The person's instances (headers, without state), oldest first."""
        stmt = (select(*INSTANCE_HEADER).where(instances.c.codice_fiscale == codice_fiscale)
                .order_by(instances.c.started_at, instances.c.id))
        return self.conn.execute(stmt).mappings().all()

    def case_records_of(self, instance_ids: Sequence[str]) -> Sequence[RowMapping]:
        """The typed case records of those instances."""
        if not instance_ids:
            return []
        return self.conn.execute(select(cases).where(cases.c.id.in_(list(instance_ids)))).mappings().all()

    def pseudonyms_of(self, codice_fiscale: str) -> list[str]:
        """The person's pseudonyms, one per case whose key still exists (none once anonymised)."""
        return sorted(pseudonym(key, codice_fiscale) for key in SubjectKeys(self.conn).of_person(codice_fiscale).values())

    def events_of(self, instance_ids: Sequence[str], pseudonyms: Sequence[str] = ()) -> Sequence[dict[str, Any]]:
        """Every audit event of those instances or pseudonyms, oldest first, data opened: who read or changed what."""
        if not instance_ids and not pseudonyms:
            return []
        audit_events = every_audit_row()  # an archived case's rows too
        stmt = (select(audit_events).where(or_(audit_events.c.instance_id.in_(list(instance_ids)),
                                               audit_events.c.subject.in_(list(pseudonyms))))
                .order_by(audit_events.c.id).limit(MAX_EVENTS))
        return opened(self.conn, self.conn.execute(stmt).mappings().all())

    def attachments_of(self, instance_ids: Sequence[str]) -> Sequence[RowMapping]:
        """The attachments of those instances, with their bytes."""
        if not instance_ids:
            return []
        stmt = (select(attachments).where(attachments.c.instance_id.in_(list(instance_ids)))
                .order_by(attachments.c.uploaded_at, attachments.c.id))
        return self.conn.execute(stmt).mappings().all()

    def reads_by_actor_and_zone(self, since: object) -> Sequence[RowMapping]:
        """For reads since a moment: per reader and case zone, how many distinct cases were read."""
        return reads_by_actor_and_zone(self.conn, since)


READ_ACTIONS = ("case.viewed", "document.viewed", "instance.data_revealed", "instance.viewed", "person.exported")


def reads_by_actor_and_zone(conn: Connection, since: object) -> Sequence[RowMapping]:
    """For reads since a moment: per reader and case zone, how many distinct cases were read."""
    from sqlalchemy import func

    stmt = (select(audit_events.c.actor, instances.c.zone,
                   func.count(func.distinct(audit_events.c.instance_id)).label("cases"))
            .join(instances, instances.c.id == audit_events.c.instance_id)
            .where(audit_events.c.action.in_(READ_ACTIONS), audit_events.c.at >= since)
            .group_by(audit_events.c.actor, instances.c.zone))
    return conn.execute(stmt).mappings().all()
