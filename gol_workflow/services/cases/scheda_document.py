"""The scheda di esito as a PDF document: what is attached to the case and shared with IDOL."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from functools import cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from fpdf import FPDF

from ...forms.summary import EMPTY, Row, rows

TITLE = "Scheda di esito dell'equipe multidisciplinare"
FONT_FILES = {"": "titillium-web-v10-latin-ext_latin-regular.ttf", "B": "titillium-web-v10-latin-ext_latin-700.ttf"}
SUBTITLE = "GOL Percorso 4 \"Lavoro e Inclusione\""
# The PDF core fonts speak Latin-1: typographic characters operators paste get their plain twin.
_PLAIN = str.maketrans({"\u2014": "-", "\u2013": "-", "\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"',
                        "\u2026": "...", "\u20ac": "EUR", "\u00a0": " "})


@dataclass(frozen=True)
class SchedaHeader:
    """Who and which meeting the scheda is about."""

    beneficiary: str
    codice_fiscale: str
    zone: str
    meeting_at: datetime | None


def filename_for(header: SchedaHeader, tz: ZoneInfo) -> str:
    """e.g. scheda-esito-rossi-mario-2026-01-13.pdf (ASCII, safe in any file system)."""
    ascii_name = unicodedata.normalize("NFKD", header.beneficiary).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:60] or "beneficiario"
    day = f"-{header.meeting_at.astimezone(tz):%Y-%m-%d}" if header.meeting_at else ""
    return f"scheda-esito-{slug}{day}.pdf"


def _plain(text: str) -> str:
    return text.translate(_PLAIN).encode("latin-1", "replace").decode("latin-1")


@cache
def pdf_class() -> type[FPDF]:
    """An FPDF with the page number at the foot of every page.

    fpdf2 is imported here, on the first document, rather than with the module: it takes
    half a second to load, and every command of the CLI would pay for it.
    """
    from fpdf import FPDF

    class Pdf(FPDF):
        body_font = "Helvetica"

        def footer(self) -> None:
            self.set_y(-12)
            self.set_font(self.body_font, size=8)
            self.cell(0, 6, f"Pagina {self.page_no()} di {{nb}}", align="C")

    return Pdf


def render_pdf(
    header: SchedaHeader,
    scheda: Mapping[str, Any],
    schema: Mapping[str, Any],
    tz: ZoneInfo,
    fonts_dir: Path | None = None,
) -> bytes:
    """An A4 PDF: heading, the case, then every field of the scheda with its Italian label.

    With `fonts_dir` holding Titillium Web (the design system's font) the text is set in it
    with every character; otherwise in the PDF core font. The same scheda always gives the
    same bytes (no print time inside), so a retried upload is recognised by its checksum.
    """
    pdf: Any = pdf_class()(format="A4")
    pdf.body_font = load_fonts(pdf, fonts_dir)
    pdf.set_title("Scheda di esito")
    pdf.set_author(SUBTITLE)
    pdf.set_creation_date(header.meeting_at or datetime(2000, 1, 1, tzinfo=tz))
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.alias_nb_pages()
    pdf.add_page()
    pdf.set_font(pdf.body_font, "B", 15)
    pdf.multi_cell(0, 8, safe_text(pdf, TITLE), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(pdf.body_font, "", 10)
    pdf.multi_cell(0, 6, safe_text(pdf, SUBTITLE), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    meeting = f"{header.meeting_at.astimezone(tz):%d/%m/%Y ore %H:%M}" if header.meeting_at else EMPTY
    for label, text in (("Beneficiario", header.beneficiary), ("Codice fiscale", header.codice_fiscale),
                        ("Zona", header.zone), ("Riunione dell'equipe", meeting)):
        write_row(pdf, (label, text or EMPTY, 0))
    pdf.ln(3)
    for row in rows(scheda, schema):
        write_row(pdf, row)
    return bytes(pdf.output())


def load_fonts(pdf: FPDF, folder: Path | None) -> str:
    """Titillium Web from `folder` when it is there (its name), else the PDF core font."""
    if folder is not None and all((folder / name).is_file() for name in FONT_FILES.values()):
        for style, name in FONT_FILES.items():
            pdf.add_font("Titillium", style, str(folder / name))
        return "Titillium"
    return "Helvetica"


def safe_text(pdf: Any, text: str) -> str:
    """Text the document's font can set (plain twins of typographic characters for the core font)."""
    return _plain(text) if pdf.body_font == "Helvetica" else text


def write_row(pdf: Any, row: Row) -> None:
    """A label in bold and its text below, indented by depth."""
    label, text, depth = row
    indent = 6 * depth
    width = pdf.w - pdf.l_margin - pdf.r_margin - indent
    pdf.set_x(pdf.l_margin + indent)
    pdf.set_font(pdf.body_font, "B", 10)
    pdf.multi_cell(width, 6, safe_text(pdf, label), new_x="LMARGIN", new_y="NEXT")
    if text:
        pdf.set_x(pdf.l_margin + indent)
        pdf.set_font(pdf.body_font, "", 10)
        pdf.multi_cell(width, 6, safe_text(pdf, text), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)
