"""The data subject's rights (GDPR art. 15): everything held about one person, and who read it.

An administrator (in practice for the data protection officer) finds a person by codice
fiscale and gets one archive: a readable summary in Italian, the same as JSON, and every
document; and a list of every read and change of the person's data. Each of these is
itself recorded in the audit log.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ...domain import labels
from ...domain.errors import ValidationFailed
from ...domain.model import Actor
from ...forms.codice_fiscale import is_valid as codice_fiscale_is_valid
from ...persistence.subject_records import READ_ACTIONS
from ..access import authorization, people, roles
from ..workflow.instances import read_workflow
from ..workflow.runtime import Runtime

CHANGE_PREFIXES = ("task.", "instance.", "case.", "attachment.", "timer.", "message.", "meeting.", "idol.")


@dataclass
class SubjectAccess:
    """What the service holds about one person."""

    codice_fiscale: str
    generated_at: datetime
    generated_by: str
    cases: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    files: list[tuple[str, bytes]] = field(default_factory=list)  # archive path, content


@dataclass(frozen=True)
class Access:
    """One read or change of the person's data."""

    at: datetime
    actor: str
    actor_name: str
    action: str
    label: str
    case_id: str
    kind: str  # lettura | modifica


@dataclass(frozen=True)
class UnusualReader:
    """An operator who read cases outside their zones, or many cases, in the period."""

    username: str
    full_name: str
    role: str
    cases_read: int
    outside_zones: int
    zones_outside: list[str]


def _checked(codice_fiscale: str) -> str:
    value = (codice_fiscale or "").strip().upper()
    if not codice_fiscale_is_valid(value):
        raise ValidationFailed("codice fiscale", {"codice_fiscale": ["Codice fiscale non valido."]})
    return value


def gather(rt: Runtime, actor: Actor, codice_fiscale: str) -> SubjectAccess:
    """Everything held about the person, the export recorded on each of their cases (one transaction)."""
    authorization.require_admin(actor)
    cf = _checked(codice_fiscale)
    now = rt.now()
    found = SubjectAccess(cf, now, actor.username)
    with rt.uow() as uow:
        headers = uow.subject_records.instances_of(cf)
        ids = [str(h["id"]) for h in headers]
        records = {str(r["id"]): dict(r) for r in uow.subject_records.case_records_of(ids)}
        for header in headers:
            case_id = str(header["id"])
            data = read_workflow(rt, uow, case_id, lambda loaded: loaded.handle.data())
            found.cases.append({
                "id": case_id, "processo": header["process_id"], "stato": header["status"],
                "stato_descritto": labels.STATUSES.get(header["status"], header["status"]),
                "zona": header["zone"], "aperto_il": header["started_at"], "chiuso_il": header["ended_at"],
                "case_manager": header["case_manager"], "passo_attuale": header["current_step"],
                "scheda_del_caso": _plain(records.get(case_id, {})), "dati": _plain(data),
            })
        for event in uow.subject_records.events_of(ids, uow.subject_records.pseudonyms_of(cf)):
            found.events.append(_plain({k: event[k] for k in ("at", "actor", "action", "instance_id", "element_id",
                                                               "data", "subject")}))
        for attachment in uow.subject_records.attachments_of(ids):
            path = f"allegati/{attachment['instance_id'][:8]}-{attachment['id'][:8]}-{attachment['filename']}"
            found.files.append((path, bytes(attachment["content"])))
            found.events.append({"at": attachment["uploaded_at"].isoformat(), "actor": attachment["uploaded_by"],
                                 "action": "attachment.stored", "instance_id": attachment["instance_id"],
                                 "element_id": None, "data": {"file": path, "sha256": attachment["sha256"]}})
        for case_id in ids:
            uow.audit.record(now, actor.username, "person.exported", case_id, data={"articolo": 15})
        uow.commit()
    return found


def archive(access: SubjectAccess) -> bytes:
    """One ZIP archive: `leggimi.txt` (readable, Italian), `dati.json` and the documents under `allegati/`."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive_file:
        archive_file.writestr("leggimi.txt", summary_text(access))
        archive_file.writestr("dati.json", json.dumps({
            "codice_fiscale": access.codice_fiscale, "generato_il": access.generated_at.isoformat(),
            "generato_da": access.generated_by, "casi": access.cases, "eventi": access.events,
            "allegati": [path for path, _ in access.files]}, ensure_ascii=False, indent=2, default=str))
        for path, content in access.files:
            archive_file.writestr(path, content)
    return buffer.getvalue()


def summary_text(access: SubjectAccess) -> str:
    """The archive's readable part: the person's cases, then every event in order, in Italian."""
    lines = [f"Dati trattati da gol-workflow per il codice fiscale {access.codice_fiscale}",
             f"Estratto il {access.generated_at:%d/%m/%Y %H:%M} da {access.generated_by} (art. 15 GDPR).", ""]
    if not access.cases:
        lines.append("Il servizio non conserva casi per questo codice fiscale.")
    for case in access.cases:
        lines += [f"Caso {case['id']} ({case['processo']}), zona {case['zona'] or '—'}",
                  f"  aperto il {_day(case['aperto_il'])}, stato: {case['stato_descritto']}"
                  + (f", chiuso il {_day(case['chiuso_il'])}" if case["chiuso_il"] else ""),
                  "  Dati del caso:"]
        lines += [f"    {key}: {_short(value)}" for key, value in sorted(case["dati"].items())]
        lines.append("")
    lines.append("Chi ha letto o modificato i dati, e quando:")
    for event in access.events:
        lines.append(f"  {event['at']}  {event['actor']}  {labels.action(event['action'])}"
                     f"  (caso {str(event['instance_id'])[:8]})")
    if access.files:
        lines += ["", "Documenti (cartella allegati/):"] + [f"  {path}" for path, _ in access.files]
    return "\n".join(lines) + "\n"


def accesses(rt: Runtime, actor: Actor, codice_fiscale: str) -> list[Access]:
    """Every read and change of the person's data, newest first (the viewing itself is audited)."""
    authorization.require_admin(actor)
    cf = _checked(codice_fiscale)
    now = rt.now()
    with rt.uow() as uow:
        ids = [str(h["id"]) for h in uow.subject_records.instances_of(cf)]
        events = uow.subject_records.events_of(ids, uow.subject_records.pseudonyms_of(cf))
        for case_id in ids:
            uow.audit.record(now, actor.username, "person.accesses_viewed", case_id)
        uow.commit()
    found = []
    for event in events:
        action = str(event["action"])
        if action in READ_ACTIONS:
            kind = "lettura"
        elif action.startswith(CHANGE_PREFIXES):
            kind = "modifica"
        else:
            continue
        who = str(event["actor"])
        found.append(Access(event["at"], who, people.author(rt, action, who), action, labels.action(action),
                            str(event["instance_id"]), kind))
    return sorted(found, key=lambda a: a.at, reverse=True)


def unusual_readers(rt: Runtime, actor: Actor, days: int = 30, many: int = 100) -> list[UnusualReader]:
    """Operators who, in the last `days`, read cases of zones not theirs, or more than `many` cases."""
    authorization.require_admin(actor)
    since = rt.now() - timedelta(days=days)
    with rt.uow(write=False) as uow:
        rows = uow.subject_records.reads_by_actor_and_zone(since)
        people = {str(u["username"]): u for u in uow.users.list_all()}
    totals: dict[str, int] = {}
    outside: dict[str, dict[str, int]] = {}
    for row in rows:
        who = str(row["actor"])
        person = people.get(who)
        if person is None or roles.current().scope(person["role"]) == "all":
            continue  # administrators' reads are marked as such in every event, and reviewed on their own
        totals[who] = totals.get(who, 0) + int(row["cases"])
        zones = set(_zones(person["zones"]))
        if row["zone"] and row["zone"] not in zones:
            outside.setdefault(who, {})[str(row["zone"])] = int(row["cases"])
    found = []
    for who, total in totals.items():
        strange = outside.get(who, {})
        if strange or total > many:
            person = people[who]
            found.append(UnusualReader(who, person["full_name"] or who, person["role"], total,
                                       sum(strange.values()), sorted(strange)))
    return sorted(found, key=lambda r: (-r.outside_zones, -r.cases_read, r.username))


def _zones(value: Any) -> list[str]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return [value]
    return [str(z) for z in value or []]


def _plain(value: Any) -> Any:
    """JSON-ready: dates as ISO text, mappings and lists walked."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "isoformat"):  # datetimes and dates
        return value.isoformat()
    return value


def _day(value: Any) -> str:
    if isinstance(value, datetime):
        return f"{value:%d/%m/%Y}"
    return str(value)[:10] if value else "—"


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str) if not isinstance(value, str) else value
    return text if len(text) <= 300 else text[:297] + "..."
