"""Each case on a meeting's agenda is discussed in an instance of its own (`discussione_caso`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...domain.model import SYSTEM
from ..workflow.instances import start_in
from ..workflow.runtime import ServiceCall
from .equipe import ACTIVE_CASE

DISCUSSION_PROCESS = "discussione_caso"


def discussion_data(meeting: Mapping[str, Any], case_id: str, item: Mapping[str, Any]) -> dict[str, Any]:
    """The initial data of one case's discussion: the meeting, and the case's agenda item as `caso`."""
    particular = bool(item.get("bisogni_particolari"))
    return {
        "zona": meeting.get("zona"),
        "riunione_id": meeting.get("riunione_id"),
        "data_equipe": meeting.get("data_equipe"),
        "luogo": meeting.get("luogo") or "",
        "case_id": case_id,
        "caso": dict(item),
        "beneficiario": dict(item.get("beneficiario") or {}),
        "bisogni_particolari": particular,
        "servizi_specialistici": list(item.get("servizi_specialistici") or []) if particular else [],
        "dissensi": [],
    }


def equipe_avvia_discussioni(call: ServiceCall) -> dict[str, Any]:
    """Connector: at the meeting time, start one discussion per case on the agenda that is still open.

    Every start is part of the meeting's step: a failure undoes them all and the step is retried.
    """
    started: dict[str, str] = {}
    agenda = call.data.get("casi") if isinstance(call.data.get("casi"), Mapping) else {}
    for case_id, item in sorted(agenda.items()):
        header = call.uow.instances.header(str(case_id))
        if header is not None and header["status"] not in ACTIVE_CASE:
            continue  # ended between the cut-off and the meeting: nothing to discuss
        data = discussion_data(call.data, str(case_id), item if isinstance(item, Mapping) else {})
        result = start_in(call.runtime, call.uow, DISCUSSION_PROCESS, data, SYSTEM, call.now)
        started[str(case_id)] = result.instance_id
        call.uow.audit.record(call.now, SYSTEM.username, "equipe.discussion_opened", str(case_id),
                              data={"meeting": call.data.get("riunione_id"), "instance": result.instance_id})
    return started
