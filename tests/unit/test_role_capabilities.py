"""What a role may do besides its cases and tasks is declared in the role file: reading its zones'
aggregates, keeping their meeting register, the participants it stands for, administering under any name."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gol_workflow.domain.model import Actor
from gol_workflow.services.access import authorization, roles
from gol_workflow.web.admin.blueprint import may_open

ROOT = Path(__file__).resolve().parents[2]

ROLE_FILE = """
[direzione]
label = "Direzione"
scope = "all"

[osservatorio]
label = "Osservatorio sociale"
scope = "none"
capabilities = ["reads_aggregates"]

[coordinamento]
label = "Coordinamento di zona"
scope = "none"
capabilities = ["keeps_meeting_register"]

[terzo_settore]
label = "Terzo settore"
scope = "zone"
participants = ["terzo_settore"]

[consulenti]
label = "Consulenti"
scope = "zone"
participant_services = true

[modellista]
label = "Modellista"
scope = "none"
deploy = true
"""


@pytest.fixture
def declared() -> Iterator[None]:
    parsed, problems = roles.parse(ROLE_FILE, "ruoli.toml")
    assert problems == []
    roles.install(parsed)
    yield
    roles.install(roles.load(ROOT / "processes" / "roles.toml"))


def person(role: str, zones: tuple[str, ...] = ("nord",), services: tuple[str, ...] = ()) -> Actor:
    return Actor(username=f"{role}.1", role=role, zones=frozenset(zones), services=frozenset(services))


def test_indicators_and_the_meeting_register_follow_the_declared_capabilities(declared: None) -> None:
    zones = ["nord", "sud"]
    assert authorization.indicator_zones(person("osservatorio"), zones) == ["nord"]
    assert authorization.indicator_zones(person("coordinamento"), zones) == []
    assert authorization.indicator_zones(person("direzione", ()), zones) == zones
    assert authorization.can_keep_meeting_register(person("coordinamento"), "nord")
    assert not authorization.can_keep_meeting_register(person("coordinamento"), "sud")
    assert not authorization.can_keep_meeting_register(person("osservatorio"), "nord")


def test_participants_are_those_the_role_stands_for_or_the_persons_own_services(declared: None) -> None:
    assert authorization.participants_of(person("terzo_settore")) == ("terzo_settore",)
    # A service that a whole role stands for is not a person's own participant.
    consultant = person("consulenti", services=("psicologia", "terzo_settore"))
    assert authorization.participants_of(consultant) == ("psicologia",)
    assert authorization.participants_of(person("osservatorio")) == ()
    task = {"roles": ",terzo_settore,consulenti,", "zone": "nord", "participant": "psicologia"}
    assert authorization.can_work_task(consultant, task, None)
    assert not authorization.can_work_task(person("terzo_settore"), task, None)


def test_an_administrator_role_of_any_name_opens_the_console_and_deployers_the_processes(declared: None) -> None:
    assert may_open("direzione", "admin.instances") and authorization.is_admin(person("direzione"))
    assert may_open("modellista", "admin.definitions") and not may_open("modellista", "admin.instances")
    assert not may_open("osservatorio", "admin.definitions")
    assert authorization.administrator_role() == "direzione"


def test_unknown_capabilities_and_bad_participants_are_refused_with_their_line() -> None:
    text = '[admin]\nlabel = "A"\nscope = "all"\n\n[x]\nlabel = "X"\nscope = "none"\ncapabilities = ["legge_tutto"]\n' \
           'participants = ["Non Valido"]\nparticipant_services = "si"\n'
    _, problems = roles.parse(text, "ruoli.toml")
    assert [(p.line, p.element) for p in problems] == [(8, "x"), (9, "x"), (10, "x")]
    assert "capabilities is a list of: keeps_meeting_register, reads_aggregates" in problems[0].message
