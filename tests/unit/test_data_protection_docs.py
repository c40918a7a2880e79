"""The record of processing stays true to the code: its inventory, its retention default, what anonymisation clears."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from gol_workflow.domain.zones import DEFAULT_RETENTION_YEARS
from gol_workflow.persistence.retention import PERSONAL_CASE_COLUMNS
from gol_workflow.persistence.tables import metadata

ROOT = Path(__file__).resolve().parents[2]
RECORD = ROOT / "docs" / "data-protection" / "record-of-processing.md"


def _inventory() -> str:
    return RECORD.read_text(encoding="utf-8").split("## 3. Inventory of the database", 1)[1].split("## 4.")[0]


def test_every_table_is_in_the_record_of_processing() -> None:
    listed = set(re.findall(r"^\| `([a-z_]+)`", _inventory(), re.MULTILINE))
    listed |= set(re.findall(r"^\| `[a-z_]+`, `([a-z_]+)`", _inventory(), re.MULTILINE))
    tables = {table.name for table in metadata.sorted_tables}
    assert not tables - listed, f"add these tables to {RECORD.name}: {sorted(tables - listed)}"
    assert not listed - tables, f"these tables of {RECORD.name} no longer exist: {sorted(listed - tables)}"


def test_the_record_states_the_retention_default_and_what_anonymisation_clears() -> None:
    inventory = _inventory()
    assert f"**the default is {DEFAULT_RETENTION_YEARS} years**" in inventory
    for column in PERSONAL_CASE_COLUMNS:
        assert f"`{column}`" in inventory, column
    for zone in sorted((ROOT / "zones").glob("*.toml")):
        years = tomllib.loads(zone.read_text(encoding="utf-8"))["protezione_dati"]["conservazione_anni"]
        assert years == DEFAULT_RETENTION_YEARS, f"{zone.name}: say in the record why this zone keeps {years} years"
