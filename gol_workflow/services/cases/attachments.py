"""Attachments of a case: type checked by content, size limited, stored in the database, audited."""

from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

import puremagic

from ...domain.errors import NotFound, ValidationFailed
from ...domain.model import Actor
from ..access import authorization
from ..letters.templates import KINDS as LETTER_KINDS
from .case_file import audit_read, visible_case
from ..workflow.runtime import Runtime

MAX_BYTES = 10 * 1024 * 1024
# Content type found by sniffing -> the extensions a file of that type may carry.
ALLOWED: dict[str, tuple[str, ...]] = {
    "application/pdf": (".pdf",),
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg"),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (".docx",),
    "application/vnd.oasis.opendocument.text": (".odt",),
}
ALLOWED_LABEL = "PDF, PNG, JPEG, DOCX, ODT"
# What an operator may upload, and how every kind is shown (the service itself attaches
# the scheda di esito the equipe wrote, as kind `scheda_esito`).
UPLOAD_KINDS = {"allegato": "Allegato", "documento_identita": "Documento di identità", "relazione": "Relazione",
                "scheda_esito_firmata": "Scheda di esito firmata",
                "patto_firmato": "Patto firmato (progetto individualizzato sottoscritto)", "altro": "Altro"}
KINDS = {**UPLOAD_KINDS, "scheda_esito": "Scheda di esito (inviata a IDOL)", **LETTER_KINDS}


@dataclass(frozen=True)
class Download:
    """An attachment ready to be sent."""

    filename: str
    content_type: str
    content: bytes


def clean_filename(name: str) -> str:
    """A safe display name: no folders, no control characters, at most 120 characters."""
    base = PurePosixPath(name.replace("\\", "/")).name
    base = unicodedata.normalize("NFC", base)
    base = re.sub(r"[\x00-\x1f\x7f\"<>:|?*/]", "_", base).strip(" .")
    return (base or "allegato")[-120:]


def sniff(content: bytes, filename: str) -> str:
    """The content type of an upload; ValidationFailed when it is not allowed or lies about itself."""
    if not content:
        raise ValidationFailed("file vuoto", {"file": ["Il file è vuoto."]})
    if len(content) > MAX_BYTES:
        raise ValidationFailed("file troppo grande", {"file": ["Il file supera i 10 MB consentiti."]})
    try:
        found = puremagic.from_string(content, mime=True, filename=filename)
    except puremagic.PureError:
        found = ""
    if found not in ALLOWED:
        raise ValidationFailed("tipo non ammesso", {"file": [f"Tipo di file non ammesso: sono accettati {ALLOWED_LABEL}."]})
    if PurePosixPath(filename.lower()).suffix not in ALLOWED[found]:
        raise ValidationFailed("estensione errata", {"file": ["Il contenuto del file non corrisponde alla sua estensione."]})
    return found


def upload(rt: Runtime, case_id: str, filename: str, content: bytes, kind: str, actor: Actor) -> str:
    """Attach a file to a case the person may see; returns the attachment id."""
    name = clean_filename(filename)
    content_type = sniff(content, name)
    if kind not in UPLOAD_KINDS:
        raise ValidationFailed("tipo di allegato", {"tipo": ["Scegliere uno dei valori proposti."]})
    now = rt.now()
    attachment_id = str(uuid.uuid4())
    with rt.uow() as uow:
        authorization.require_action(actor, "case.attach", visible_case(uow, case_id, actor))
        digest = hashlib.sha256(content).hexdigest()
        uow.attachments.add({
            "id": attachment_id, "instance_id": case_id, "kind": kind, "filename": name,
            "content_type": content_type, "size": len(content), "sha256": digest, "content": content,
            "uploaded_by": actor.username, "uploaded_at": now,
        })
        uow.audit.record(now, actor.username, "attachment.uploaded", case_id,
                         data={"filename": name, "attachment": attachment_id, "size": len(content), "sha256": digest})
        uow.commit()
    return attachment_id


def download(rt: Runtime, case_id: str, attachment_id: str, actor: Actor) -> Download:
    """The bytes of an attachment, for those who may see its case; audited."""
    with rt.uow() as uow:
        visible_case(uow, case_id, actor)
        row: Any = uow.attachments.get(attachment_id)
        if row is None or row["instance_id"] != case_id:
            raise NotFound("attachment not found")
        audit_read(uow, rt, actor, case_id, "attachment.downloaded", filename=row["filename"], attachment=attachment_id)
        uow.commit()
    return Download(row["filename"], row["content_type"], bytes(row["content"]))
