"""The case file as a PDF for the person's dossier: the facts, the story with each step's outcome, the files."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ...domain import labels
from .case_file import CaseFile
from .scheda_document import SUBTITLE, load_fonts, pdf_class, safe_text, write_row

TITLE = "Fascicolo del caso"


def filename_for(file: CaseFile) -> str:
    """e.g. fascicolo-lucia-bianchi.pdf (ASCII, safe in any file system)."""
    name = str(file.case.get("beneficiary_name") or "beneficiario")
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:60] or "beneficiario"
    return f"fascicolo-{slug}.pdf"


def render_pdf(file: CaseFile, printed_at: datetime, tz: ZoneInfo, fonts_dir: Path | None,
               kinds: Mapping[str, str]) -> bytes:
    """An A4 PDF of the case file: who, the case in brief, its story step by step, reads and attachments."""
    pdf: Any = pdf_class()(format="A4")
    pdf.body_font = load_fonts(pdf, fonts_dir)
    pdf.set_title(f"{TITLE} - {file.case.get('beneficiary_name') or ''}")
    pdf.set_author(SUBTITLE)
    pdf.set_creation_date(printed_at)
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.alias_nb_pages()
    pdf.add_page()
    pdf.set_font(pdf.body_font, "B", 15)
    pdf.multi_cell(0, 8, safe_text(pdf, TITLE), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(pdf.body_font, "", 10)
    pdf.multi_cell(0, 6, safe_text(pdf, SUBTITLE), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    case = file.case
    moment = _moment(tz)
    zone = file.readers.zones.get(str(case.get("zone")), str(case.get("zone") or "")) if file.readers else ""
    for label, text in (("Beneficiario", case.get("beneficiary_name") or "—"),
                        ("Codice fiscale", case.get("codice_fiscale") or "—"), ("Zona", zone),
                        ("Stato", labels.STATUSES.get(str(case.get("status")), "—")),
                        ("Passo attuale", case.get("current_step") or "—"),
                        ("Stampato il", moment(printed_at))):
        write_row(pdf, (label, str(text), 0))
    for section in file.summary:
        _heading(pdf, section.title)
        for label, text in section.facts:
            write_row(pdf, (label, text, 0))
    _heading(pdf, "Storia del caso")
    for event in file.story:
        line = f"{event.label}: {event.detail}" if event.detail else event.label
        write_row(pdf, (f"{moment(event.at)} · {event.author}", line, 0))
        for label, text, depth in event.outcome:
            write_row(pdf, (label, text, depth + 1))
    if file.repeated:
        _heading(pdf, "Consultazioni")
        for read in file.repeated:
            times = "1 volta" if read.times == 1 else f"{read.times} volte, ultima"
            write_row(pdf, (f"{read.label} da {read.author}", f"{times} {moment(read.last_at)}", 0))
    _heading(pdf, "Allegati")
    if not file.attachments:
        write_row(pdf, ("Nessun allegato", "", 0))
    for item in file.attachments:
        kind = kinds.get(str(item["kind"]), "Allegato")
        uploaded = f"{kind}, caricato il {moment(item['uploaded_at'])} da {file.person(item['uploaded_by'])}"
        write_row(pdf, (str(item["filename"]), uploaded, 0))
    return bytes(pdf.output())


def _heading(pdf: Any, title: str) -> None:
    pdf.ln(3)
    pdf.set_font(pdf.body_font, "B", 12)
    pdf.multi_cell(0, 7, safe_text(pdf, title), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)


def _moment(tz: ZoneInfo) -> Any:
    def text(value: Any) -> str:
        if not isinstance(value, datetime):
            return ""
        return f"{value.astimezone(tz):%d/%m/%Y ore %H:%M}"
    return text
