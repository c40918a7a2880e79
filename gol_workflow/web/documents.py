"""Documents of a case: the scheda di esito as label/value rows, and as a PDF (fpdf2)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from fpdf import FPDF

from ..forms.rendering import choices, display_value
from ..services.cases import SchedaEsito

FONT_DIR = "bootstrap-italia/dist/fonts/Titillium_Web"
FONT_FILES = {"": "titillium-web-v10-latin-ext_latin-regular.ttf", "B": "titillium-web-v10-latin-ext_latin-700.ttf"}


def _label(key: str, schema: Mapping[str, Any]) -> str:
    title = schema.get("title")
    return str(title) if title else key.replace("_", " ").capitalize()


def _text(value: Any, schema: Mapping[str, Any]) -> str:
    if isinstance(value, bool):
        return "Sì" if value else "No"
    if isinstance(value, list):
        items = schema.get("items") if isinstance(schema.get("items"), Mapping) else {}
        return "; ".join(_text(v, items) for v in value) or "—"
    options = choices(schema, {}) or []
    labels = dict(options)
    text = display_value(value)
    if schema.get("format") == "date" and len(text) == 10:
        text = f"{text[8:10]}/{text[5:7]}/{text[0:4]}"
    return labels.get(text, text) or "—"


def rows(doc: SchedaEsito) -> list[tuple[str, str, int]]:
    """(label, text, depth) in the form's order; nested groups are indented."""
    schema = doc.form or {}
    return _rows(doc.values, schema, 0)


def _rows(values: Mapping[str, Any], schema: Mapping[str, Any], depth: int) -> list[tuple[str, str, int]]:
    properties: Mapping[str, Any] = schema.get("properties") or {}
    keys = [k for k in properties if k in values] + [k for k in values if k not in properties]
    result: list[tuple[str, str, int]] = []
    for key in keys:
        prop = properties.get(key) or {}
        value = values[key]
        items = prop.get("items") if isinstance(prop.get("items"), Mapping) else {}
        if isinstance(value, Mapping):
            result.append((_label(key, prop), "", depth))
            result.extend(_rows(value, prop, depth + 1))
        elif isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            result.append((_label(key, prop), "", depth))
            for index, item in enumerate(value, start=1):
                result.append((f"{items.get('title') or 'Elemento'} {index}", "", depth + 1))
                result.extend(_rows(item, items, depth + 2))
        else:
            result.append((_label(key, prop), _text(value, prop), depth))
    return result


class _Pdf(FPDF):
    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(self.body_font, size=8)
        self.cell(0, 6, f"Pagina {self.page_no()} di {{nb}}", align="C")


def scheda_pdf(doc: SchedaEsito, timezone: str) -> bytes:
    """The scheda di esito as an A4 PDF."""
    pdf = _Pdf(format="A4")
    pdf.body_font = _fonts(pdf)
    pdf.set_title("Scheda di esito")
    pdf.set_author("GOL Percorso 4")
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_page()
    case = doc.case
    pdf.set_font(pdf.body_font, "B", 16)
    pdf.cell(0, 10, "Scheda di esito dell'equipe multidisciplinare", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(pdf.body_font, size=10)
    printed = datetime.now(ZoneInfo(timezone)).strftime("%d/%m/%Y %H:%M")
    for label, value in (("Beneficiario", case.get("beneficiary_name") or "—"),
                         ("Codice fiscale", case.get("codice_fiscale") or "—"),
                         ("Zona", case.get("zone") or "—"), ("Stampata il", printed)):
        _row(pdf, label, str(value), 0)
    pdf.ln(4)
    for label, text, depth in rows(doc):
        _row(pdf, label, text, depth)
    return bytes(pdf.output())


def _row(pdf: FPDF, label: str, text: str, depth: int) -> None:
    indent = 6 * depth
    pdf.set_x(pdf.l_margin + indent)
    pdf.set_font(pdf.body_font, "B", 10)  # type: ignore[attr-defined]
    width = pdf.w - pdf.l_margin - pdf.r_margin - indent
    pdf.multi_cell(width, 6, _safe(pdf, label), new_x="LMARGIN", new_y="NEXT")
    if text:
        pdf.set_x(pdf.l_margin + indent)
        pdf.set_font(pdf.body_font, size=10)  # type: ignore[attr-defined]
        pdf.multi_cell(width, 6, _safe(pdf, text), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)


def _fonts(pdf: FPDF) -> str:
    """Titillium Web (the design system's font) when installed; the PDF core font otherwise."""
    folder = Path(current_app.config["NODE_MODULES"]) / FONT_DIR
    if all((folder / name).is_file() for name in FONT_FILES.values()):
        for style, name in FONT_FILES.items():
            pdf.add_font("Titillium", style, str(folder / name))
        return "Titillium"
    return "Helvetica"


def _safe(pdf: FPDF, text: str) -> str:
    if pdf.body_font == "Helvetica":  # type: ignore[attr-defined]
        return text.encode("latin-1", "replace").decode("latin-1")
    return text
