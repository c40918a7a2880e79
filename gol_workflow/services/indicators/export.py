"""The indicators as CSV and as a spreadsheet (openpyxl): the same figures the page and the API show."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from openpyxl import Workbook
from openpyxl.styles import Font

from .report import WAIT_LABELS, Report

INDICATOR_HEADER = ("id", "indicatore", "fonte", "valore", "numeratore", "denominatore", "unità", "obiettivo",
                    "non mostrato (meno di 5 persone)")
WAIT_HEADER = ("zona", "mese di accesso", "attesa", "casi", "mediana (giorni)", "90° percentile (giorni)")
ALL_ZONES = "tutte le zone"


def _indicator_rows(report: Report) -> Iterator[tuple[object, ...]]:
    for v in report.items:
        yield (v.id, v.label, v.source, v.value, v.numerator, v.denominator, v.unit,
               v.target_text or (v.target if v.target is not None else None), "sì" if v.suppressed else "no")


def _wait_rows(report: Report) -> Iterator[tuple[object, ...]]:
    for row in report.waiting:
        for name, label in WAIT_LABELS.items():
            figures = row[name]
            yield (row["zone"] or ALL_ZONES, row["month"], label, figures["n"], figures["p50"], figures["p90"])


def to_csv(report: Report) -> str:
    """Indicators, then waiting times, as one CSV (semicolons, as Italian spreadsheets expect)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(("zona", report.zone or ALL_ZONES, "dal", report.first.isoformat(), "al", report.last.isoformat()))
    writer.writerow(INDICATOR_HEADER)
    writer.writerows(_indicator_rows(report))
    writer.writerow(())
    writer.writerow(WAIT_HEADER)
    writer.writerows(_wait_rows(report))
    return out.getvalue()


def to_xlsx(report: Report) -> bytes:
    """A workbook with a sheet of indicators and a sheet of waiting times."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Indicatori"
    sheet.append(("Zona", report.zone or ALL_ZONES, "Dal", report.first, "Al", report.last))
    sheet.append(INDICATOR_HEADER)
    for row in _indicator_rows(report):
        sheet.append(row)
    waits = book.create_sheet("Tempi di attesa")
    waits.append(WAIT_HEADER)
    for row in _wait_rows(report):
        waits.append(row)
    for ws in (sheet, waits):
        for cell in ws[2 if ws is sheet else 1]:
            cell.font = Font(bold=True)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
