"""The person's letters and printable project on a case: listed for the case file and the API, downloaded."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ...domain.errors import NotFound
from ...domain.model import Actor
from ..cases.attachments import Download
from ..cases.case_file import CaseFile, audit_read, visible_case
from ..workflow.runtime import Runtime
from .templates import KINDS


@dataclass(frozen=True)
class LetterItem:
    """One letter as the case file lists it."""

    id: str
    kind: str
    label: str
    filename: str
    size: int
    issued_at: datetime
    emailed: bool


def letters_of(rt: Runtime, case_id: str, actor: Actor) -> list[LetterItem]:
    """The letters and printable projects of a case the person may see, newest first."""
    with rt.uow(write=False) as uow:
        visible_case(uow, case_id, actor)
        return _letters(uow.attachments.for_instance(case_id), uow.audit.for_instance(case_id))


def letters_in(file: CaseFile) -> list[LetterItem]:
    """The letters of a case file already read (its attachments and events: no further read)."""
    return _letters(file.attachments, file.events)


def _letters(attached: Iterable[Mapping[str, Any]], events: Iterable[Mapping[str, Any]]) -> list[LetterItem]:
    rows = [r for r in attached if r["kind"] in KINDS]
    emailed = {str(e["data"].get("allegato")): bool(e["data"].get("inviata_per_email"))
               for e in events if e["action"] == "letter.issued" and isinstance(e["data"], Mapping)}
    return [LetterItem(str(r["id"]), str(r["kind"]), KINDS[r["kind"]], str(r["filename"]), int(r["size"]),
                       r["uploaded_at"], emailed.get(str(r["id"]), False)) for r in rows]


def download_letter(rt: Runtime, case_id: str, letter_id: str, actor: Actor) -> Download:
    """The PDF of one letter of a case the person may see; the read is audited."""
    with rt.uow() as uow:
        visible_case(uow, case_id, actor)
        row: Any = uow.attachments.get(letter_id)
        if row is None or row["instance_id"] != case_id or row["kind"] not in KINDS:
            raise NotFound("letter not found")
        audit_read(uow, rt, actor, case_id, "attachment.downloaded", filename=row["filename"], attachment=letter_id)
        uow.commit()
    return Download(row["filename"], row["content_type"], bytes(row["content"]))
