"""Letters and the project to sign as A4 PDF documents (fpdf2), the same bytes for the same content."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fpdf import FPDF

from ...forms.summary import Row

AUTHOR = "GOL Percorso 4 \"Lavoro e Inclusione\""
_PLAIN = str.maketrans({"\u2014": "-", "\u2013": "-", "\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"',
                        "\u00ab": '"', "\u00bb": '"', "\u2026": "...", "\u20ac": "EUR", "\u00a0": " "})


def plain(text: str) -> str:
    """Text the PDF core font can set (Latin-1): typographic characters get their plain twin."""
    return text.translate(_PLAIN).encode("latin-1", "replace").decode("latin-1")


@cache
def _pdf_class() -> type[FPDF]:
    """An FPDF with the page number at the foot; fpdf2 is loaded on the first document only (it is slow to import)."""
    from fpdf import FPDF

    class Pdf(FPDF):
        def footer(self) -> None:
            self.set_y(-12)
            self.set_font("Helvetica", size=8)
            self.cell(0, 6, f"Pagina {self.page_no()} di {{nb}}", align="C")

    return Pdf


def _new(title: str, created: datetime) -> Any:
    pdf: Any = _pdf_class()(format="A4")
    pdf.set_title(plain(title))
    pdf.set_author(plain(AUTHOR))
    pdf.set_creation_date(created)
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.alias_nb_pages()
    pdf.add_page()
    return pdf


def render_letter(sender: Sequence[str], place_date: str, recipient: Sequence[str], subject: str, body: str,
                  signature: str, created: datetime) -> bytes:
    """A letter: sender block, date, recipient, subject in bold, the paragraphs, the signature."""
    pdf = _new(subject, created)
    pdf.set_font("Helvetica", "B", 11)
    for line in sender[:1]:
        pdf.multi_cell(0, 6, plain(line), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    for line in sender[1:]:
        pdf.multi_cell(0, 5, plain(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    for line in recipient:
        pdf.set_x(pdf.w / 2)
        pdf.multi_cell(0, 5, plain(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.multi_cell(0, 5, plain(place_date), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 11)
    pdf.multi_cell(0, 6, plain(f"Oggetto: {subject}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("Helvetica", "", 11)
    for paragraph in body.split("\n\n"):
        for line in paragraph.split("\n"):
            pdf.multi_cell(0, 6, plain(line), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
    pdf.ln(6)
    pdf.set_x(pdf.w / 2)
    pdf.multi_cell(0, 6, plain(signature), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def render_sheet(title: str, subtitle: str, header: Iterable[tuple[str, str]], rows: Iterable[Row],
                 closing: Sequence[str], created: datetime) -> bytes:
    """A form printed for signature: title, the case, every field with its label, then the signature lines."""
    pdf = _new(title, created)
    pdf.set_font("Helvetica", "B", 15)
    pdf.multi_cell(0, 8, plain(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    pdf.multi_cell(0, 6, plain(subtitle), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    for label, text in header:
        _row(pdf, (label, text, 0))
    pdf.ln(2)
    for row in rows:
        _row(pdf, row)
    pdf.ln(8)
    pdf.set_font("Helvetica", "", 10)
    for line in closing:
        pdf.multi_cell(0, 7, plain(line), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
    return bytes(pdf.output())


def _row(pdf: Any, row: Row) -> None:
    label, text, depth = row
    indent = 6 * depth
    width = pdf.w - pdf.l_margin - pdf.r_margin - indent
    pdf.set_x(pdf.l_margin + indent)
    pdf.set_font("Helvetica", "B", 10)
    pdf.multi_cell(width, 6, plain(label), new_x="LMARGIN", new_y="NEXT")
    if text:
        pdf.set_x(pdf.l_margin + indent)
        pdf.set_font("Helvetica", "", 10)
        pdf.multi_cell(width, 6, plain(text), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)
