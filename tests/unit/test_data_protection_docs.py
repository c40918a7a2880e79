"""The record of processing stays true to the code: every table of the database is in its inventory."""

from __future__ import annotations

import re
from pathlib import Path

from gol_workflow.persistence.tables import metadata

RECORD = Path(__file__).resolve().parents[2] / "docs" / "data-protection" / "record-of-processing.md"


def test_every_table_is_in_the_record_of_processing() -> None:
    inventory = RECORD.read_text(encoding="utf-8").split("## 3. Inventory of the database", 1)[1].split("## 4.")[0]
    listed = set(re.findall(r"`([a-z_]+)`", inventory))
    missing = {table.name for table in metadata.sorted_tables} - listed
    assert not missing, f"add these tables to {RECORD.name}: {sorted(missing)}"
