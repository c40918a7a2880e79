"""What retention reads and writes: closed cases due, their rows holding the person, the runs and legal holds."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Text, and_, cast, delete, insert, or_, select, update

from ..domain.model import ENDED
from .archive import archived_state_of
from .sealing import SubjectKeys
from .tables import (
    archived_states,
    attachments,
    cases,
    instances,
    meeting_agenda,
    meetings,
    outbox,
    pending_messages,
    retention_runs,
    subscriptions,
    task_notices,
    tasks,
)

PERSONAL_CASE_COLUMNS = ("beneficiary_name", "codice_fiscale", "birth_date", "first_appointment_place",
                         "last_substantial_change")


class RetentionRepository:
    """Rows retention finds, scrubs and deletes; the record of its runs."""

    def __init__(self, conn: Connection, keys: SubjectKeys | None = None) -> None:
        self.conn = conn
        self.keys = keys if keys is not None else SubjectKeys(conn)  # the transaction's: a destroyed key is forgotten

    # -- what is due ---------------------------------------------------------------------------

    def closed_before(self, zone: str | None, ended_before: datetime, limit: int,
                      after: tuple[datetime, str] | None = None) -> Sequence[dict[str, Any]]:
        """Closed, not yet anonymised cases of a zone that ended before a moment, oldest first (holds included);
        `after` = (ended_at, id) of the last case of the previous batch."""
        zone_is = cases.c.zone.is_(None) if zone is None else cases.c.zone == zone
        stmt = (select(cases.c.id, cases.c.zone, cases.c.ended_at, cases.c.legal_hold, cases.c.codice_fiscale,
                       cases.c.beneficiary_name, cases.c.birth_date)
                .where(zone_is, cases.c.status.in_(ENDED), cases.c.ended_at < ended_before,
                       cases.c.anonymised_at.is_(None))
                .order_by(cases.c.ended_at, cases.c.id).limit(limit))
        if after is not None:
            stmt = stmt.where(or_(cases.c.ended_at > after[0], and_(cases.c.ended_at == after[0], cases.c.id > after[1])))
        return [dict(r) for r in self.conn.execute(stmt).mappings()]

    def zones_with_closed_cases(self) -> list[str | None]:
        """Every zone that has closed cases not yet anonymised (None: cases without a zone)."""
        stmt = (select(cases.c.zone).where(cases.c.status.in_(ENDED), cases.c.anonymised_at.is_(None))
                .group_by(cases.c.zone))
        return [r[0] for r in self.conn.execute(stmt)]

    def case_for_update(self, case_id: str) -> dict[str, Any] | None:
        """The case record, locked where the database can, to anonymise it."""
        stmt = select(cases).where(cases.c.id == case_id)
        if self.conn.dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        row = self.conn.execute(stmt).mappings().first()
        return dict(row) if row is not None else None

    # -- the person's rows ---------------------------------------------------------------------

    def instance_state(self, instance_id: str) -> tuple[str, int] | None:
        """An instance's serialised state (from the archive when it was archived) and row version."""
        row = self.conn.execute(select(instances.c.state, instances.c.row_version, instances.c.archived_at,
                                       archived_state_of(instances.c.id))
                                .where(instances.c.id == instance_id)).first()
        if row is None:
            return None
        return (str(row[3] if row[2] is not None else row[0]), int(row[1]))

    def scrub_instance(self, instance_id: str, state: str, row_version: int, personal: bool) -> None:
        """Store a scrubbed state (the version moves on: no worker keeps the old one); `personal`: identity cleared."""
        archived = self.conn.execute(update(archived_states).where(archived_states.c.instance_id == instance_id)
                                     .values(state=state)).rowcount
        values: dict[str, Any] = {"row_version": row_version + 1} if archived else {"state": state,
                                                                                   "row_version": row_version + 1}
        if personal:
            values.update(beneficiary_name=None, codice_fiscale=None, open_case_key=None, error=None)
        self.conn.execute(update(instances).where(instances.c.id == instance_id).values(**values))

    def anonymise_case(self, case_id: str, at: datetime) -> None:
        """Clear the case record's personal columns; the zone, dates, decisions and outcome stay for the indicators."""
        values: dict[str, Any] = dict.fromkeys(PERSONAL_CASE_COLUMNS)
        self.conn.execute(update(cases).where(cases.c.id == case_id).values(**values, anonymised_at=at))

    def meeting_instances_of(self, case_id: str) -> list[str]:
        """The instances of the meetings the case was on."""
        stmt = (select(meetings.c.instance_id).join(meeting_agenda, meeting_agenda.c.meeting_id == meetings.c.id)
                .where(meeting_agenda.c.case_id == case_id, meetings.c.instance_id.is_not(None)).distinct())
        return sorted(str(r[0]) for r in self.conn.execute(stmt))

    def clear_agenda_items(self, case_id: str) -> int:
        """Keep the case on past agendas, without what the agenda said about the person."""
        return self.conn.execute(update(meeting_agenda).where(meeting_agenda.c.case_id == case_id)
                                 .values(item={"case_id": case_id, "anonimizzato": True})).rowcount

    def delete_tasks(self, instance_ids: Sequence[str]) -> int:
        """Tasks (with their drafts) of those instances or about them, and the notices of them."""
        ids = list(instance_ids)
        found = [str(r[0]) for r in self.conn.execute(
            select(tasks.c.id).where(or_(tasks.c.instance_id.in_(ids), tasks.c.case_id.in_(ids))))]
        if found:
            self.conn.execute(delete(task_notices).where(task_notices.c.task_id.in_(found)))
            self.conn.execute(delete(tasks).where(tasks.c.id.in_(found)))
        return len(found)

    def delete_messages(self, instance_ids: Sequence[str]) -> int:
        """Buffered messages and subscriptions of those instances."""
        ids = list(instance_ids)
        self.conn.execute(delete(subscriptions).where(subscriptions.c.instance_id.in_(ids)))
        return self.conn.execute(delete(pending_messages).where(or_(
            pending_messages.c.correlation.in_(ids), pending_messages.c.sender_instance_id.in_(ids)))).rowcount

    def delete_attachments(self, instance_ids: Sequence[str]) -> tuple[int, int, list[str]]:
        """Delete the documents of those instances: how many, their bytes, their ids."""
        where = attachments.c.instance_id.in_(list(instance_ids))
        rows = self.conn.execute(select(attachments.c.id, attachments.c.size).where(where)).all()
        if rows:
            self.conn.execute(delete(attachments).where(where))
        return len(rows), sum(int(r[1]) for r in rows), [str(r[0]) for r in rows]

    def mail_mentioning(self, needles: Sequence[str], dedup_keys: Sequence[str]) -> list[dict[str, Any]]:
        """E-mail with one of these keys, or whose recipients, subject, body or attachments mention a text."""
        columns = (outbox.c.recipients, outbox.c.subject, outbox.c.body, outbox.c.attachments)
        hits = [cast(c, Text).icontains(n, autoescape=True) for c in columns for n in needles]
        if dedup_keys:
            hits.append(outbox.c.dedup_key.in_(list(dedup_keys)))
        if not hits:
            return []
        stmt = select(outbox.c.id, outbox.c.dedup_key, outbox.c.subject, outbox.c.body, outbox.c.recipients,
                      outbox.c.status).where(or_(*hits))
        return [dict(r) for r in self.conn.execute(stmt).mappings()]

    def delete_mail(self, ids: Sequence[int]) -> None:
        """Delete e-mail rows."""
        if ids:
            self.conn.execute(delete(outbox).where(outbox.c.id.in_(list(ids))))

    def redact_mail(self, mail_id: int, subject: str, body: str, recipients: list[str]) -> None:
        """Keep an e-mail about several people without this one: its texts redacted, its attachments dropped."""
        self.conn.execute(update(outbox).where(outbox.c.id == mail_id).values(
            subject=subject, body=body, recipients=recipients, attachments=[]))

    def destroy_keys(self, instance_ids: Sequence[str]) -> int:
        """Delete the cases' keys: their audit data and pseudonyms can no longer be tied to the person."""
        return sum(self.keys.destroy(i) for i in instance_ids)

    # -- legal hold ----------------------------------------------------------------------------

    def set_hold(self, case_id: str, held: bool, reason: str | None, by: str | None, at: datetime | None) -> bool:
        """Set or clear a case's legal hold; False when there is no such case record."""
        return self.conn.execute(update(cases).where(cases.c.id == case_id).values(
            legal_hold=held, legal_hold_reason=reason, legal_hold_by=by, legal_hold_at=at)).rowcount == 1

    def holds(self, limit: int = 500) -> list[dict[str, Any]]:
        """Cases under a legal hold, newest hold first."""
        stmt = (select(cases.c.id, cases.c.zone, cases.c.status, cases.c.ended_at, cases.c.legal_hold_reason,
                       cases.c.legal_hold_by, cases.c.legal_hold_at)
                .where(cases.c.legal_hold.is_(True)).order_by(cases.c.legal_hold_at.desc()).limit(limit))
        return [dict(r) for r in self.conn.execute(stmt).mappings()]

    # -- runs ----------------------------------------------------------------------------------

    def claim_day(self, day: date, by: str, at: datetime, lease_until: datetime, wall_now: datetime) -> int | None:
        """Take the day's scheduled run: a new row, or one whose scheduler's lease ran out unfinished; None if taken."""
        existing = self.conn.execute(select(retention_runs.c.id, retention_runs.c.status,
                                            retention_runs.c.claimed_until)
                                     .where(retention_runs.c.day == day)).first()
        if existing is None:
            if self.conn.dialect.name == "postgresql":
                from sqlalchemy.dialects.postgresql import insert as dialect_insert
            else:
                from sqlalchemy.dialects.sqlite import insert as dialect_insert  # type: ignore[assignment]
            stmt = dialect_insert(retention_runs).values(**_new_run("scheduled", by, at, day, lease_until))
            made = self.conn.execute(stmt.on_conflict_do_nothing().returning(retention_runs.c.id)).scalar()
            return int(made) if made is not None else None
        if existing[1] != "running":
            return None
        taken = self.conn.execute(update(retention_runs).where(
            retention_runs.c.id == existing[0], retention_runs.c.status == "running",
            retention_runs.c.claimed_until < wall_now).values(claimed_until=lease_until, started_by=by)).rowcount
        return int(existing[0]) if taken == 1 else None

    def start_run(self, mode: str, by: str, at: datetime) -> int:
        """Record a run started by hand (or a dry run)."""
        return int(self.conn.execute(insert(retention_runs).values(**_new_run(mode, by, at, None, None))
                                     .returning(retention_runs.c.id)).scalar_one())

    def finish_run(self, run_id: int, at: datetime, status: str, totals: dict[str, int], report: list[Any],
                   error: str | None = None) -> None:
        """Write what a run did."""
        self.conn.execute(update(retention_runs).where(retention_runs.c.id == run_id).values(
            finished_at=at, status=status, claimed_until=None, report=report, error=error, **totals))

    def runs(self, limit: int = 50) -> list[dict[str, Any]]:
        """The latest runs, newest first."""
        stmt = select(retention_runs).order_by(retention_runs.c.started_at.desc(), retention_runs.c.id.desc())
        return [dict(r) for r in self.conn.execute(stmt.limit(limit)).mappings()]

    def run(self, run_id: int) -> dict[str, Any] | None:
        """One run."""
        row = self.conn.execute(select(retention_runs).where(retention_runs.c.id == run_id)).mappings().first()
        return dict(row) if row is not None else None

    def anonymised_among(self, ids: Sequence[str]) -> set[str]:
        """Which of these cases have been anonymised."""
        if not ids:
            return set()
        stmt = select(cases.c.id).where(and_(cases.c.id.in_(list(ids)), cases.c.anonymised_at.is_not(None)))
        return {str(r[0]) for r in self.conn.execute(stmt)}


def _new_run(mode: str, by: str, at: datetime, day: date | None, lease_until: datetime | None) -> dict[str, Any]:
    return {"day": day, "mode": mode, "started_by": by, "started_at": at, "status": "running",
            "claimed_until": lease_until, "cases_anonymised": 0, "attachments_deleted": 0, "bytes_deleted": 0,
            "cases_held": 0}
