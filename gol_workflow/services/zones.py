"""Reading the zones' configuration files (one TOML file per zone)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from ..domain.zones import Zone, ZoneConfigError, zone_from_dict


def load_zones(directory: Path) -> dict[str, Zone]:
    """Every zone defined in `directory/*.toml`, by id; raises ZoneConfigError on a bad file."""
    zones: dict[str, Zone] = {}
    if not directory.is_dir():
        return zones
    for path in sorted(directory.glob("*.toml")):
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ZoneConfigError(f"{path.name}: {exc}") from None
        zone = zone_from_dict(data, path.name)
        if zone.id in zones:
            raise ZoneConfigError(f"{path.name}: zone id '{zone.id}' is defined twice")
        zones[zone.id] = zone
    return zones
