"""Taking a case that has ended off the equipe agendas not yet convened."""

from __future__ import annotations

from datetime import datetime

from ...persistence.meetings import PLANNED
from ...persistence.uow import UnitOfWork


def withdraw_in(uow: UnitOfWork, case_id: str, now: datetime, actor_name: str) -> list[str]:
    """Remove the case from every planned meeting's agenda, audited; returns those meetings."""
    withdrawn = [row["id"] for row in uow.meetings.meetings_of_case(case_id) if row["status"] == PLANNED]
    for meeting_id in withdrawn:
        uow.meetings.remove_from_agenda(meeting_id, case_id)
        uow.audit.record(now, actor_name, "equipe.withdrawn", case_id, data={"meeting": meeting_id})
    return withdrawn
