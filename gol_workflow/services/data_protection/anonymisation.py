"""Anonymising one closed case everywhere the person's data lives, in one transaction.

The case record keeps its zone, dates, decisions and outcome (what the indicators count);
the person's identity, notes and documents go. The workflow state keeps its shape (a closed
workflow still loads) with its form data reduced to yes/no answers and numbers. Meetings and e-mail about several people keep the others, this person redacted.
The case's keys are destroyed, so its sealed audit data and pseudonyms no longer lead to the person.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from ...persistence.uow import UnitOfWork

REDACTED = "[anonimizzato]"
# Where a serialised workflow keeps form data: each task's and the workflow's `data`, and the
# `updates` of each task's delta (what the task changed).
DATA_KEYS = frozenset({"data", "updates", "data_objects"})
MIN_PART = 3  # shorter name parts are not searched for on their own (they would match everything)


@dataclass
class Anonymised:
    """What anonymising one case did."""

    case_id: str
    zone: str | None
    ended_at: datetime | None
    instances: list[str] = field(default_factory=list)
    attachments: int = 0
    bytes: int = 0
    tasks: int = 0
    mail_deleted: int = 0
    mail_redacted: int = 0
    meetings: int = 0
    keys: int = 0

    def as_dict(self) -> dict[str, Any]:
        """For the run's report."""
        return {"case": self.case_id, "zone": self.zone,
                "ended_at": self.ended_at.isoformat() if self.ended_at else None, "instances": len(self.instances),
                "attachments": self.attachments, "bytes": self.bytes, "tasks": self.tasks,
                "mail_deleted": self.mail_deleted, "mail_redacted": self.mail_redacted, "meetings": self.meetings}


def identifiers(case: Mapping[str, Any], states: Iterable[str]) -> list[str]:
    """The texts that identify the person: codice fiscale, names, birth date, e-mail, from the record and the data."""
    cf = str(case.get("codice_fiscale") or "")
    found: set[str] = set()
    if cf:
        found.add(cf)
    if case.get("beneficiary_name"):
        found.add(str(case["beneficiary_name"]))
    if isinstance(case.get("birth_date"), date):
        born: date = case["birth_date"]
        found.update({born.isoformat(), f"{born:%d/%m/%Y}"})
    for text in states:
        for person in _people(json.loads(text), cf):
            for key, value in person.items():
                if not isinstance(value, str) or len(value.strip()) < MIN_PART:
                    continue
                found.add(value.strip())
                if key == "data_nascita":
                    try:
                        found.add(f"{date.fromisoformat(value[:10]):%d/%m/%Y}")
                    except ValueError:
                        pass
            first, last = str(person.get("nome") or "").strip(), str(person.get("cognome") or "").strip()
            if first and last:
                found.update({f"{first} {last}", f"{last} {first}"})
    return sorted(found, key=len, reverse=True)


def _people(value: Any, cf: str) -> Iterable[Mapping[str, Any]]:
    """Every mapping of the data that describes the person (it carries their codice fiscale)."""
    if isinstance(value, Mapping):
        if cf and value.get("codice_fiscale") == cf:
            yield value
        for item in value.values():
            yield from _people(item, cf)
    elif isinstance(value, list):
        for item in value:
            yield from _people(item, cf)


def redact(text: str, needles: Iterable[str]) -> str:
    """The text with every identifier replaced (whatever its letter case)."""
    for needle in needles:
        text = re.sub(re.escape(needle), REDACTED, text, flags=re.IGNORECASE)
    return text


def own_state(text: str, needles: Iterable[str]) -> str:
    """The person's own (closed) workflow: every form data reduced to answers that identify nobody."""
    needles = list(needles)

    def walk(value: Any, key: str | None = None) -> Any:
        if isinstance(value, dict):
            return {k: (_reduced(v) if k in DATA_KEYS and isinstance(v, dict) else walk(v, k)) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, str):
            return redact(value, needles)
        return value

    return json.dumps(walk(json.loads(text)), separators=(",", ":"), ensure_ascii=False)


def _reduced(data: Mapping[str, Any]) -> dict[str, Any]:
    """Yes/no answers and numbers only: generic code cannot tell a category from a free text, so no text stays
    (the case record keeps the zone, decisions and outcome the indicators count)."""
    return {key: value for key, value in data.items() if isinstance(value, bool | int | float) or value is None}


def shared_state(text: str, case_id: str, needles: Iterable[str]) -> str:
    """A workflow about several cases (a meeting): this case's entries emptied, the person redacted elsewhere."""
    needles = list(needles)
    stub = {"case_id": case_id, "anonimizzato": True}

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            if value.get("case_id") == case_id:
                return dict(stub)
            return {k: (dict(stub) if k == case_id else walk(v)) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, str):
            return redact(value, needles)
        return value

    return json.dumps(walk(json.loads(text)), separators=(",", ":"), ensure_ascii=False)


def anonymise_case(uow: UnitOfWork, case: Mapping[str, Any], now: datetime, actor: str, run_id: int | None
                   ) -> Anonymised:
    """Remove the person from every place their case's data lives (the caller commits)."""
    case_id = str(case["id"])
    done = Anonymised(case_id, case.get("zone"), case.get("ended_at"))
    opened = uow.audit.for_instance(case_id, limit=100_000)
    related = {str(e["data"]["instance"]) for e in opened
               if e["action"] == "equipe.discussion_opened" and isinstance(e.get("data"), Mapping)
               and e["data"].get("instance")}
    own = [case_id] + sorted(related - {case_id})
    states = {i: found for i in own if (found := uow.retention.instance_state(i)) is not None}
    needles = identifiers(case, (text for text, _ in states.values()))
    for instance_id, (text, row_version) in states.items():
        uow.retention.scrub_instance(instance_id, own_state(text, needles), row_version, personal=True)
    done.instances = list(states)
    meetings = uow.retention.meeting_instances_of(case_id)
    for instance_id in meetings:
        found = uow.retention.instance_state(instance_id)
        if found is not None:
            uow.retention.scrub_instance(instance_id, shared_state(found[0], case_id, needles), found[1], False)
    done.meetings = len(meetings)
    uow.retention.clear_agenda_items(case_id)
    done.tasks = uow.retention.delete_tasks(own)
    uow.retention.delete_messages(own)
    done.attachments, done.bytes, attachment_ids = uow.retention.delete_attachments(own)
    _mail(uow, needles, attachment_ids, done)
    uow.retention.anonymise_case(case_id, now)
    done.keys = uow.retention.destroy_keys(own)
    uow.audit.record(now, actor, "case.anonymised", case_id,
                     data={"run": run_id, "attachments": done.attachments, "instances": len(done.instances)})
    return done


def _mail(uow: UnitOfWork, needles: list[str], attachment_ids: list[str], done: Anonymised) -> None:
    """Letters to the person go; e-mail about several people stays without this one."""
    letters = {f"lettera:{i}" for i in attachment_ids}
    deleted = []
    for row in uow.retention.mail_mentioning(needles, sorted(letters)):
        recipients = [r for r in (row["recipients"] or []) if not any(n.lower() == str(r).lower() for n in needles)]
        if row["dedup_key"] in letters or not recipients:
            deleted.append(int(row["id"]))
            continue
        uow.retention.redact_mail(int(row["id"]), redact(str(row["subject"]), needles),
                                  redact(str(row["body"]), needles), recipients)
        done.mail_redacted += 1
    uow.retention.delete_mail(deleted)
    done.mail_deleted = len(deleted)
