"""Demo accounts for every role in both zones, and a few cases opened through the use cases (idempotent)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...domain.errors import GolError, RefusedInProduction
from ...domain.model import Actor
from ...forms.codice_fiscale import check_character
from ..access import users
from ..workflow.instances import start_instance
from ..workflow.runtime import Runtime

DEMO_PASSWORD = "percorso4-demo"
IN_PRODUCTION = (
    "refusing to create the demo accounts: GOL_PRODUCTION is set, and every demo account "
    "(administrator included) has the published password " + repr(DEMO_PASSWORD) + "; "
    "create real accounts with `gol-workflow users add`"
)
DEMO_PROCESS = "percorso4"

# (username, role, full name, zones, services)
DEMO_USERS: tuple[tuple[str, str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("cpi.pistoiese", "cpi", "Marta Lenzi (CPI Pistoia)", ("pistoiese",), ()),
    ("cpi.valdinievole", "cpi", "Paolo Nesti (CPI Pescia)", ("valdinievole",), ()),
    ("sds.pistoiese", "sds", "Giulia Bardi (SdS Pistoiese)", ("pistoiese",), ()),
    ("sds.valdinievole", "sds", "Luca Fedi (SdS Valdinievole)", ("valdinievole",), ()),
    ("specialista.pistoiese", "specialist", "Dott.ssa Anna Rossi (UFSMA Pistoia)", ("pistoiese",),
     ("salute_mentale", "dipendenze")),
    ("specialista.valdinievole", "specialist", "Dott. Marco Landi (SerD Valdinievole)", ("valdinievole",),
     ("salute_mentale", "dipendenze")),
    ("ats.pistoiese", "ats", "Sara Innocenti (case manager ATS)", ("pistoiese",), ()),
    ("ats.valdinievole", "ats", "Davide Rinaldi (case manager ATS)", ("valdinievole",), ()),
    ("admin", "admin", "Amministratore", (), ()),
    ("analista", "analyst", "Analista di processo", (), ()),
    ("responsabile.valdinievole", "manager", "Elena Conti (responsabile di zona)", ("valdinievole",), ()),
)

# (first 15 characters of the codice fiscale, nome, cognome, data di nascita, zona)
DEMO_PEOPLE = (
    ("BNCLRA85M41G713", "Laura", "Bianchi", "1985-08-01", "pistoiese"),
    ("VRDGPP78C15G713", "Giuseppe", "Verdi", "1978-03-15", "pistoiese"),
    ("NREFNC90E50G491", "Francesca", "Neri", "1990-05-10", "valdinievole"),
)


@dataclass
class DemoReport:
    """What the demo command created (passwords only for new accounts)."""

    created_users: list[str]
    existing_users: list[str]
    cases: list[str]
    skipped_cases: str | None = None


def ensure_demo(rt: Runtime, actor: Actor) -> DemoReport:
    """Create what is missing; running it again changes nothing. Refused in production."""
    if rt.settings.production:
        raise RefusedInProduction(IN_PRODUCTION)
    report = DemoReport([], [], [])
    for username, role, name, zones, services in DEMO_USERS:
        zones = tuple(z for z in zones if not rt.zones or z in rt.zones)
        if users.find_user(rt, username) is not None:
            report.existing_users.append(username)
            continue
        users.add_user(rt, username, role, actor, zones, services, DEMO_PASSWORD, name)
        report.created_users.append(username)
    try:
        report.cases = _demo_cases(rt)
    except GolError as exc:
        report.skipped_cases = exc.message
    return report


def _demo_cases(rt: Runtime) -> list[str]:
    opened = []
    for prefix, nome, cognome, born, zone in DEMO_PEOPLE:
        if rt.zones and zone not in rt.zones:
            continue
        code = prefix + check_character(prefix)
        with rt.uow(write=False) as uow:
            if uow.case_search.ids_by_codice_fiscale(code, DEMO_PROCESS):
                continue
        operator = Actor(f"cpi.{zone}", "cpi", frozenset({zone}))
        data: dict[str, Any] = {
            "beneficiario": {"codice_fiscale": code, "nome": nome, "cognome": cognome, "data_nascita": born},
            "zona": zone,
        }
        opened.append(start_instance(rt, DEMO_PROCESS, data, operator, options={"zona": [zone]}).instance_id)
    return opened
