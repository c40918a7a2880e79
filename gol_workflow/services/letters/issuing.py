"""Issue a letter to the person: PDF attached to the case, e-mailed when they gave an address, recorded in the history."""

from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import jinja2

from ...domain.model import SYSTEM
from ...domain.zones import EmploymentCentre, Zone
from ...persistence.uow import UnitOfWork
from ..mail import outbox
from ..workflow.runtime import Runtime
from . import document
from .templates import KINDS, SUBJECTS, TEMPLATES

LETTER_IDS = uuid.UUID("5d0f3c7e-2b8a-4f61-9c4e-7a1b2d3e4f50")  # namespace of letter attachment ids
WEEKDAYS_IT = ("lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato", "domenica")
MONTHS_IT = ("gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto",
             "settembre", "ottobre", "novembre", "dicembre")
_NO_CPI = EmploymentCentre("il Centro per l'Impiego", "", "")


@dataclass(frozen=True)
class Issued:
    """A letter stored on the case."""

    id: str
    kind: str
    filename: str
    emailed: bool


def italian_moment(moment: datetime) -> str:
    """E.g. «martedì 13 gennaio 2026, ore 09:30»."""
    return (f"{WEEKDAYS_IT[moment.weekday()]} {moment.day} {MONTHS_IT[moment.month - 1]} {moment.year}, "
            f"ore {moment:%H:%M}")


def moment_of(value: Any, tz: ZoneInfo) -> datetime | None:
    """An ISO date-time with its offset, in the service's time zone (None when it is not one)."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment.astimezone(tz) if moment.tzinfo else None


def person_of(data: Mapping[str, Any]) -> dict[str, str]:
    """The beneficiario's name, codice fiscale and e-mail from case data (empty strings when absent)."""
    person = data.get("beneficiario")
    person = person if isinstance(person, Mapping) else {}
    return {k: " ".join(str(person.get(k) or "").split()) for k in ("nome", "cognome", "codice_fiscale", "email")}


def cpi_of(zone: Zone | None) -> EmploymentCentre:
    """The CPI that writes to the person: the zone's organising centre."""
    return (zone.organiser if zone else None) or _NO_CPI


def slug(text: str) -> str:
    """ASCII, lower case, dashes: safe in any file system."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60] or "beneficiario"


def _render(kind: str, context: Mapping[str, Any]) -> str:
    env = jinja2.Environment(autoescape=False, undefined=jinja2.ChainableUndefined, keep_trailing_newline=False)
    return env.from_string(TEMPLATES[kind]).render(**context).strip()


def issue(rt: Runtime, uow: UnitOfWork, now: datetime, case_id: str, data: Mapping[str, Any], kind: str,
          context: Mapping[str, Any], key: str) -> Issued:
    """Write the letter `kind` once per `key` (a repeated step finds it), attach it, e-mail it when possible."""
    if kind not in TEMPLATES:
        raise ValueError(f"unknown letter {kind!r}")
    tz = ZoneInfo(rt.settings.timezone)
    zone = rt.zones.get(str(data.get("zona") or ""))
    person = person_of(data)
    letter_id = str(uuid.uuid5(LETTER_IDS, f"{case_id}|{kind}|{key}"))
    existing = uow.attachments.get(letter_id)
    if existing is not None:
        return Issued(letter_id, kind, str(existing["filename"]), False)
    cpi = cpi_of(zone)
    values = {**person, "zona": zone.name if zone else str(data.get("zona") or ""), "cpi": cpi, **context}
    subject = SUBJECTS[kind]
    body = _render(kind, values)
    local = now.astimezone(tz)
    place = re.sub(r"^\d{5}\s*", "", cpi.address.split(",")[-1].strip()) if cpi.address else ""
    content = document.render_letter(
        [cpi.name, cpi.address, cpi.email], f"{place + ', ' if place else ''}{local:%d/%m/%Y}",
        [f"{person['nome']} {person['cognome']}".strip(), f"Codice fiscale {person['codice_fiscale']}"],
        subject, body, cpi.name, local)
    filename = f"{kind.replace('_', '-')}-{slug(person['cognome'] + ' ' + person['nome'])}-{local:%Y-%m-%d}.pdf"
    digest = hashlib.sha256(content).hexdigest()
    uow.attachments.add({
        "id": letter_id, "instance_id": case_id, "kind": kind, "filename": filename,
        "content_type": "application/pdf", "size": len(content), "sha256": digest, "content": content,
        "uploaded_by": SYSTEM.username, "uploaded_at": now,
    })
    emailed = "@" in person["email"]
    if emailed:
        outbox.enqueue(uow, now, rt.settings.smtp.sender, outbox.Outgoing(
            dedup_key=f"lettera:{letter_id}", recipients=[person["email"]], subject=subject, body=body,
            attachments=[outbox.Attachment(filename, "application/pdf", content)]), expiry=rt.settings.mail_expiry)
    uow.audit.record(now, SYSTEM.username, "letter.issued", case_id,
                     data={"tipo": KINDS[kind], "allegato": letter_id, "filename": filename,
                           "inviata_per_email": emailed})
    return Issued(letter_id, kind, filename, emailed)
