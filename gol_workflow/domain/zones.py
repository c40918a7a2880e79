"""Zones (ambiti territoriali) as data: who meets when, who is invited, the ATS calendar."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time
from typing import Any

WEEKDAYS = ("lunedi", "martedi", "mercoledi", "giovedi", "venerdi", "sabato", "domenica")
CADENCES = {"settimanale": 1, "quindicinale": 2}


class ZoneConfigError(ValueError):
    """A zone file is missing a setting or has a malformed one."""


@dataclass(frozen=True)
class SpecialistService:
    """A territorial specialist service that may be invited to the equipe."""

    id: str
    name: str
    referents: tuple[str, ...]


@dataclass(frozen=True)
class Zone:
    """One zone: its SdS, its equipe calendar, referents, specialist services and ATS calendar."""

    id: str
    name: str
    sds: str
    weekday: int  # 0 = Monday
    meeting_time: time
    cadence_weeks: int
    first_meeting: date
    location: str
    notice_days: int
    referents: tuple[str, ...]
    local_holidays: tuple[tuple[int, int], ...] = ()
    services: tuple[SpecialistService, ...] = ()
    ats_weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)
    ats_times: tuple[time, ...] = (time(9, 0),)
    extra: dict[str, Any] = field(default_factory=dict)

    def service(self, service_id: str) -> SpecialistService | None:
        """A specialist service of this zone by id."""
        return next((s for s in self.services if s.id == service_id), None)


def _require(data: dict[str, Any], key: str, where: str) -> Any:
    if key not in data:
        raise ZoneConfigError(f"{where}: missing '{key}'")
    return data[key]


def _weekday(value: Any, where: str) -> int:
    text = str(value).strip().lower().replace("ì", "i")
    if text not in WEEKDAYS:
        raise ZoneConfigError(f"{where}: '{value}' is not a weekday ({', '.join(WEEKDAYS)})")
    return WEEKDAYS.index(text)


def _time(value: Any, where: str) -> time:
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise ZoneConfigError(f"{where}: '{value}' is not a time such as 09:30") from None


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ZoneConfigError(f"{where}: expected a list of strings")
    return tuple(value)


def zone_from_dict(data: dict[str, Any], source: str) -> Zone:
    """Build a zone from its parsed TOML, with clear errors naming the file and setting."""
    zone_id = str(_require(data, "id", source))
    equipe = _require(data, "equipe", source)
    where = f"{source} [equipe]"
    cadence = str(equipe.get("cadenza", "settimanale")).lower()
    if cadence not in CADENCES:
        raise ZoneConfigError(f"{where}: cadenza must be one of {', '.join(CADENCES)}")
    holidays = []
    for item in equipe.get("festivi_locali", []):
        try:
            month, day = (int(p) for p in str(item).split("-"))
            date(2024, month, day)
        except ValueError:
            raise ZoneConfigError(f"{where}: festivi_locali entry '{item}' is not MM-DD") from None
        holidays.append((month, day))
    try:
        first = date.fromisoformat(str(equipe.get("prima_riunione", "2026-01-05")))
    except ValueError:
        raise ZoneConfigError(f"{where}: prima_riunione must be a date YYYY-MM-DD") from None
    services = tuple(
        SpecialistService(
            id=str(_require(s, "id", f"{source} [[servizi_specialistici]]")),
            name=str(s.get("nome", s.get("id"))),
            referents=_strings(s.get("referenti", []), f"{source} servizio {s.get('id')}"),
        )
        for s in data.get("servizi_specialistici", [])
    )
    ats = data.get("ats", {})
    return Zone(
        id=zone_id,
        name=str(data.get("nome", zone_id)),
        sds=str(data.get("sds", "")),
        weekday=_weekday(_require(equipe, "giorno", where), where),
        meeting_time=_time(equipe.get("ora", "09:30"), where),
        cadence_weeks=CADENCES[cadence],
        first_meeting=first,
        location=str(equipe.get("luogo", "")),
        notice_days=int(equipe.get("preavviso_giorni", 5)),
        referents=_strings(equipe.get("referenti", []), where),
        local_holidays=tuple(holidays),
        services=services,
        ats_weekdays=tuple(_weekday(d, f"{source} [ats]") for d in ats.get("giorni", WEEKDAYS[:5])),
        ats_times=tuple(_time(t, f"{source} [ats]") for t in ats.get("orari", ["09:00"])),
        extra={k: v for k, v in data.items() if k not in {"id", "nome", "sds", "equipe", "servizi_specialistici", "ats"}},
    )
