"""Zones (ambiti territoriali) as data: who meets when, who is invited, the ATS calendar."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time
from typing import Any

WEEKDAYS = ("lunedi", "martedi", "mercoledi", "giovedi", "venerdi", "sabato", "domenica")
CADENCES = {"settimanale": 1, "quindicinale": 2}
SOCIAL_SERVICE_KINDS = {
    "sds": "Società della Salute",
    "comune": "Comune",
    "unione_comuni": "Unione dei Comuni",
    "asl_zona_distretto": "Azienda USL, zona-distretto",
    "convenzione": "Convenzione socio-sanitaria tra Comuni",
}
TOP_KEYS = {"id", "nome", "territorio", "sds", "servizi_sociali", "cpi", "equipe", "ats", "servizi_specialistici",
            "protezione_dati"}
# Years a closed case is kept before its personal data is anonymised, unless the zone's file says
# otherwise (`[protezione_dati] conservazione_anni`); see docs/data-protection/record-of-processing.md.
DEFAULT_RETENTION_YEARS = 10
MAX_RETENTION_YEARS = 100


class ZoneConfigError(ValueError):
    """A zone file is missing a setting or has a malformed one."""


@dataclass(frozen=True)
class SpecialistService:
    """A territorial specialist service that may be invited to the equipe."""

    id: str
    name: str
    referents: tuple[str, ...]


@dataclass(frozen=True)
class SocialServices:
    """The body running the zone's social services (an SdS, a Comune, a Unione dei Comuni, the ASL's zona-distretto)."""

    kind: str  # a key of SOCIAL_SERVICE_KINDS
    name: str
    email: str = ""

    @property
    def kind_label(self) -> str:
        """The kind in words, e.g. "Unione dei Comuni"."""
        return SOCIAL_SERVICE_KINDS.get(self.kind, self.kind)


@dataclass(frozen=True)
class EmploymentCentre:
    """A Centro per l'impiego of the zone: it convenes the equipe and organises its meetings."""

    name: str
    address: str
    email: str


@dataclass(frozen=True)
class Zone:
    """One zone: its social services, CPIs, equipe calendar, referents, specialist services and ATS calendar."""

    id: str
    name: str
    social_services: SocialServices
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
    cpis: tuple[EmploymentCentre, ...] = ()
    territory: str = ""
    retention_years: int = DEFAULT_RETENTION_YEARS
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def sds(self) -> str:
        """The name of the social-services body (an SdS or not), as the API has always called it."""
        return self.social_services.name

    @property
    def organiser(self) -> EmploymentCentre | None:
        """The CPI that convenes the equipe: the first one of the file."""
        return self.cpis[0] if self.cpis else None

    def service(self, service_id: str) -> SpecialistService | None:
        """A specialist service of this zone by id."""
        return next((s for s in self.services if s.id == service_id), None)


def _fail(source: str, key: str, message: str) -> ZoneConfigError:
    return ZoneConfigError(f"{source}: {key}: {message}")


def _require(data: dict[str, Any], key: str, source: str, prefix: str = "") -> Any:
    if key not in data:
        raise _fail(source, prefix + key, "missing")
    return data[key]


def _text(data: dict[str, Any], key: str, source: str, prefix: str = "", required: bool = True,
          default: str = "") -> str:
    if key not in data:
        if required:
            raise _fail(source, prefix + key, "missing")
        return default
    value = data[key]
    if not isinstance(value, str) or (required and not value.strip()):
        raise _fail(source, prefix + key, "expected a non-empty string")
    return value.strip()


def _table(data: dict[str, Any], key: str, source: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise _fail(source, key, "expected a table")
    return value


def _weekday(value: Any, source: str, key: str) -> int:
    text = str(value).strip().lower().replace("ì", "i")
    if text not in WEEKDAYS:
        raise _fail(source, key, f"'{value}' is not a weekday ({', '.join(WEEKDAYS)})")
    return WEEKDAYS.index(text)


def _time(value: Any, source: str, key: str) -> time:
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise _fail(source, key, f"'{value}' is not a time such as 09:30") from None


def _strings(value: Any, source: str, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(source, key, "expected a list of strings")
    return tuple(value)


def _email(value: str, source: str, key: str) -> str:
    if value and ("@" not in value or " " in value):
        raise _fail(source, key, f"'{value}' is not an e-mail address")
    return value


def _unknown(data: dict[str, Any], allowed: set[str], source: str, prefix: str = "") -> None:
    extra = sorted(set(data) - allowed)
    if extra:
        raise _fail(source, prefix + extra[0], f"unknown setting (expected one of {', '.join(sorted(allowed))})")


def _social_services(data: dict[str, Any], source: str) -> SocialServices:
    if "servizi_sociali" not in data:
        if isinstance(data.get("sds"), str) and data["sds"].strip():  # the older one-line form: an SdS by name
            return SocialServices("sds", data["sds"].strip())
        raise _fail(source, "servizi_sociali", "missing (a table with tipo, nome, email)")
    table = _table(data, "servizi_sociali", source)
    _unknown(table, {"tipo", "nome", "email"}, source, "servizi_sociali.")
    kind = _text(table, "tipo", source, "servizi_sociali.")
    if kind not in SOCIAL_SERVICE_KINDS:
        raise _fail(source, "servizi_sociali.tipo", f"'{kind}' is not one of {', '.join(SOCIAL_SERVICE_KINDS)}")
    email = _text(table, "email", source, "servizi_sociali.", required=False)
    return SocialServices(kind, _text(table, "nome", source, "servizi_sociali."),
                          _email(email, source, "servizi_sociali.email"))


def _cpis(data: dict[str, Any], source: str) -> tuple[EmploymentCentre, ...]:
    items = data.get("cpi", [])
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise _fail(source, "cpi", "expected at least one [[cpi]] table (nome, indirizzo, email)")
    centres = []
    for number, item in enumerate(items, start=1):
        prefix = f"cpi[{number}]."
        _unknown(item, {"nome", "indirizzo", "email"}, source, prefix)
        centres.append(EmploymentCentre(
            name=_text(item, "nome", source, prefix),
            address=_text(item, "indirizzo", source, prefix),
            email=_email(_text(item, "email", source, prefix), source, prefix + "email"),
        ))
    return tuple(centres)


def _retention_years(data: dict[str, Any], source: str) -> int:
    table = _table(data, "protezione_dati", source)
    _unknown(table, {"conservazione_anni"}, source, "protezione_dati.")
    years = table.get("conservazione_anni", DEFAULT_RETENTION_YEARS)
    if isinstance(years, bool) or not isinstance(years, int) or not 1 <= years <= MAX_RETENTION_YEARS:
        raise _fail(source, "protezione_dati.conservazione_anni",
                    f"must be a whole number of years from 1 to {MAX_RETENTION_YEARS}")
    return years


def zone_from_dict(data: dict[str, Any], source: str) -> Zone:
    """Build a zone from its parsed TOML; errors read "file: key: message"."""
    zone_id = _text(data, "id", source)
    equipe = _table(data, "equipe", source)
    if "equipe" not in data:
        raise _fail(source, "equipe", "missing")
    cadence = str(equipe.get("cadenza", "settimanale")).lower()
    if cadence not in CADENCES:
        raise _fail(source, "equipe.cadenza", f"must be one of {', '.join(CADENCES)}")
    holidays = []
    for item in equipe.get("festivi_locali", []):
        try:
            month, day = (int(p) for p in str(item).split("-"))
            date(2024, month, day)
        except ValueError:
            raise _fail(source, "equipe.festivi_locali", f"entry '{item}' is not MM-DD") from None
        holidays.append((month, day))
    try:
        first = date.fromisoformat(str(equipe.get("prima_riunione", "2026-01-05")))
    except ValueError:
        raise _fail(source, "equipe.prima_riunione", "must be a date YYYY-MM-DD") from None
    try:
        notice = int(equipe.get("preavviso_giorni", 5))
    except (TypeError, ValueError):
        raise _fail(source, "equipe.preavviso_giorni", "must be a whole number of days") from None
    services = []
    for number, s in enumerate(data.get("servizi_specialistici", []), start=1):
        prefix = f"servizi_specialistici[{number}]."
        services.append(SpecialistService(
            id=_text(s, "id", source, prefix),
            name=_text(s, "nome", source, prefix, required=False, default=str(s.get("id"))),
            referents=_strings(s.get("referenti", []), source, prefix + "referenti"),
        ))
    ats = _table(data, "ats", source)
    name = _text(data, "nome", source, required=False, default=zone_id)
    return Zone(
        id=zone_id,
        name=name,
        social_services=_social_services(data, source),
        weekday=_weekday(_require(equipe, "giorno", source, "equipe."), source, "equipe.giorno"),
        meeting_time=_time(equipe.get("ora", "09:30"), source, "equipe.ora"),
        cadence_weeks=CADENCES[cadence],
        first_meeting=first,
        location=str(equipe.get("luogo", "")),
        notice_days=notice,
        referents=_strings(equipe.get("referenti", []), source, "equipe.referenti"),
        local_holidays=tuple(holidays),
        services=tuple(services),
        ats_weekdays=tuple(_weekday(d, source, "ats.giorni") for d in ats.get("giorni", WEEKDAYS[:5])),
        ats_times=tuple(_time(t, source, "ats.orari") for t in ats.get("orari", ["09:00"])),
        cpis=_cpis(data, source),
        territory=_text(data, "territorio", source, required=False, default=name),
        retention_years=_retention_years(data, source),
        extra={k: v for k, v in data.items() if k not in TOP_KEYS},  # settings read by other parts of the service
    )
