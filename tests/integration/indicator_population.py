"""A known population of Percorso 4 cases written as case records, for the indicator tests and the benchmark.

Each case is an instance row and its case record, as the service writes them; placements,
operators' meetings and equipe meetings beside them. The numbers the tests expect are worked
out by hand from the tables in the tests, not from this module.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from gol_workflow.persistence.tables import (
    cases,
    instances,
    meeting_agenda,
    meetings,
    operator_meetings,
    placements,
    process_versions,
)
from gol_workflow.services.workflow.runtime import Runtime
from tests.conftest import ROME


def local(day: date, hour: int = 9, minute: int = 0) -> datetime:
    """A local wall-clock moment in Rome."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ROME)


def version_id(rt: Runtime) -> int:
    """The deployed percorso4 version the cases belong to."""
    with rt.uow(write=False) as uow:
        return int(uow.conn.execute(select(process_versions.c.id).where(
            process_versions.c.process_id == "percorso4").order_by(process_versions.c.id.desc())).scalars().first())


def add_case(rt: Runtime, version: int, zone: str, opened: datetime, **facts: Any) -> str:
    """One case (instance row and case record) with these facts; returns its id."""
    case_id = str(uuid.uuid4())
    status = facts.pop("status", "completed" if facts.get("outcome") else "waiting")
    with rt.uow() as uow:
        uow.conn.execute(instances.insert().values(
            id=case_id, process_version_id=version, process_id="percorso4", status=status, row_version=1,
            state="{}", zone=zone, started_by="cpi", started_at=opened, updated_at=opened, retry_count=0,
            due_attempts=0, case_manager=facts.get("case_manager")))
        uow.conn.execute(cases.insert().values(
            id=case_id, process_id="percorso4", status=status, opened_at=opened, updated_at=opened, zone=zone,
            percorso=4, monitorings=0, substantial_changes=facts.pop("substantial_changes", 0), **facts))
        uow.commit()
    return case_id


def add_placement(rt: Runtime, case_id: str, zone: str, kind: str, start: date, end: date | None = None) -> None:
    """A placement as «Registra un inserimento» records it."""
    with rt.uow() as uow:
        uow.conn.execute(placements.insert().values(
            case_id=case_id, zone=zone, kind=kind, sector="servizi", start_date=start, end_date=end,
            recorded_by="cm.rossi", recorded_at=local(start)))
        uow.commit()


def add_operator_meeting(rt: Runtime, zone: str, held_on: date, kind: str = "coordinamento") -> None:
    """A meeting of the zone's register."""
    with rt.uow() as uow:
        uow.conn.execute(operator_meetings.insert().values(
            zone=zone, held_on=held_on, kind=kind, topic="Coordinamento GOL", participants=6, recorded_by="admin",
            recorded_at=local(held_on)))
        uow.commit()


def add_equipe_meeting(rt: Runtime, zone: str, at: datetime, case_ids: list[str], status: str = "convened") -> None:
    """An equipe meeting of the zone with these cases on its agenda."""
    meeting_id = f"{zone}-{at:%Y%m%d}"
    with rt.uow() as uow:
        uow.conn.execute(meetings.insert().values(
            id=meeting_id, zone=zone, scheduled_at=at, cutoff_at=at - timedelta(days=5), status=status, due_at=at,
            attempts=1, created_at=at - timedelta(days=30)))
        for case_id in case_ids:
            uow.conn.execute(meeting_agenda.insert().values(
                meeting_id=meeting_id, case_id=case_id, reason="prima_valutazione", item={}, added_at=at))
        uow.commit()


def days_after(moment: datetime, days: int, hour: int = 9, minute: int = 30) -> datetime:
    """A local moment `days` calendar days after another's day."""
    return local(moment.astimezone(ROME).date() + timedelta(days=days), hour, minute)


def as_facts(row: Mapping[str, Any]) -> dict[str, Any]:
    """Copy of a row without None values."""
    return {k: v for k, v in row.items() if v is not None}
