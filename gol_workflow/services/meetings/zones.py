"""Reading the zones' configuration files (one TOML file per zone)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from ...domain.zones import Zone, ZoneConfigError, zone_from_dict


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


@dataclass(frozen=True)
class ServiceIdentity:
    """What the pages say about who runs the service: header title, territory, footer line."""

    title: str
    territory: str | None  # shown after the title when every zone served lies in one territory
    footer: str


def identity(zones: dict[str, Zone], service_name: str) -> ServiceIdentity:
    """The header and footer texts from the zone files and the service name setting (no place in code)."""
    ordered = [zones[k] for k in sorted(zones)]
    territories = sorted({z.territory for z in ordered})
    territory = territories[0] if len(territories) == 1 else None
    cpis = sorted({c.name for z in ordered for c in z.cpis})
    social = sorted({z.social_services.name for z in ordered})
    parts = []
    if cpis:
        parts.append(", ".join(cpis))
    if social:
        parts.append("servizi sociali (" + ", ".join(social) + ")")
    parts.append("servizi specialistici e ATS")
    footer = "; ".join(parts) + "."
    return ServiceIdentity(service_name, territory, footer[0].upper() + footer[1:])
