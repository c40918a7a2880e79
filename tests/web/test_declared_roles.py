"""A role, a lane and a process added by configuration alone: a new role file and a process folder."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from gol_workflow.bootstrap import bootstrap
from gol_workflow.domain.errors import DeploymentFailed, Forbidden
from gol_workflow.domain.model import Actor
from gol_workflow.services.access import lanes, roles, users
from gol_workflow.services.cases import case_start
from gol_workflow.services.workflow.runtime import Runtime
from gol_workflow.web import create_app
from tests.conftest import ADMIN, DATA, ROOT, deploy_dir
from tests.web.conftest import PASSWORD, Browser

NEW_ROLE = """
[terzo_settore]
label = "Terzo settore"
scope = "zone"
"""

PEOPLE = {  # username -> (role, zones)
    "terzo.nord": ("terzo_settore", ("nord",)),
    "terzo.sud": ("terzo_settore", ("sud",)),
    "cpi.nord": ("cpi", ("nord",)),
    "sds.nord": ("sds", ("nord",)),
    "sds.sud": ("sds", ("sud",)),
    "revisore": ("ats", ("nord",)),  # named on the task itself (camunda:candidateUsers)
    "amministratore": ("admin", ()),
}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A processes folder of its own (BPMN, lanes.toml, case declaration) and a role file beside it."""
    processes = tmp_path / "processi"
    shutil.copytree(DATA / "declared", processes)
    (tmp_path / "ruoli.toml").write_text((ROOT / "processes" / "roles.toml").read_text(encoding="utf-8") + NEW_ROLE,
                                         encoding="utf-8")
    return tmp_path


@pytest.fixture
def declared_runtime(settings: Any, clock: Any, folder: Path) -> Iterator[Runtime]:
    """A runtime reading the new role file; the shipped roles are put back afterwards."""
    rt = bootstrap(settings.with_overrides(zones_dir=DATA / "web" / "zones", roles_file=folder / "ruoli.toml"),
                   clock=clock)
    report = deploy_dir(rt, folder / "processi", DATA / "declared-forms")
    assert [p.process_id for p in report.processes] == ["accompagnamento"]
    assert {w.element for w in report.warnings} == {"colloquio", "verifica"}  # no form: deployed anyway
    for username, (role, zones) in PEOPLE.items():
        users.add_user(rt, username, role, ADMIN, zones, (), PASSWORD, username.title())
    yield rt
    rt.db.dispose()
    roles.install(roles.load(ROOT / "processes" / "roles.toml"))
    lanes.install(lanes.load(ROOT / "processes"))


@pytest.fixture
def login(declared_runtime: Runtime) -> Any:
    app: Flask = create_app(declared_runtime, {"TESTING": True})

    def make(username: str) -> Browser:
        person = Browser(app.test_client())
        response = person.post("/accesso", {"username": username, "password": PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)
        return person

    return make


def _task_link(html: str, name: str) -> str | None:
    import re

    match = re.search(r'href="(/attivita/[0-9a-f-]{36})"[^>]*>[^<]*</a>\s*</td>\s*<td[^>]*>' + re.escape(name), html)
    return match.group(1) if match else None


def listed(html: str, name: str) -> bool:
    """Whether the inbox lists a task of this name (not only offers it as a filter)."""
    import re

    return re.search(r"<td[^>]*>" + re.escape(name) + "</td>", html) is not None


def test_a_new_role_starts_and_works_its_lane_on_the_web_in_its_zone_only(login: Any) -> None:
    terzo = login("terzo.nord")
    page = terzo.text("/casi/nuovo/accompagnamento")
    assert "Persona accompagnata" in page
    opened = terzo.post("/casi/nuovo/accompagnamento", {"territorio": "nord", "persona": "Marta Neri"})
    assert opened.status_code == 302, opened.get_data(as_text=True)

    inbox = terzo.text("/attivita")
    link = _task_link(inbox, "Colloquio di accompagnamento")
    assert link is not None, inbox
    assert "Marta Neri" in inbox
    for other in ("terzo.sud", "cpi.nord", "sds.nord"):  # another zone, other roles
        assert not listed(login(other).text("/attivita"), "Colloquio di accompagnamento")

    task = terzo.text(link)
    assert "Incontrare la persona e concordare il primo passo." in task  # the BPMN documentation
    assert "Completa" in task
    done = terzo.post(link, {"azione": "completa"})
    assert done.status_code == 302, done.get_data(as_text=True)
    assert not listed(terzo.text("/attivita"), "Colloquio di accompagnamento")

    # The next task names its role and a person on itself (camunda:candidateGroups / candidateUsers).
    assert listed(login("sds.nord").text("/attivita"), "Verifica del servizio sociale")
    assert listed(login("revisore").text("/attivita"), "Verifica del servizio sociale")
    assert not listed(login("sds.sud").text("/attivita"), "Verifica del servizio sociale")  # zone scoping still holds
    assert not listed(terzo.text("/attivita"), "Verifica del servizio sociale")


def test_only_the_declared_starters_and_administrators_may_start_it(declared_runtime: Runtime) -> None:
    data = {"territorio": "nord", "persona": "Marta Neri"}
    cpi = Actor("cpi.nord", "cpi", frozenset({"nord"}))
    with pytest.raises(Forbidden):
        case_start.open_case(declared_runtime, "accompagnamento", data, cpi)
    with pytest.raises(Forbidden):  # a starter, but outside their zone
        case_start.open_case(declared_runtime, "accompagnamento", {**data, "territorio": "sud"},
                             Actor("terzo.nord", "terzo_settore", frozenset({"nord"})))
    assert [s.process_id for s in case_start.startable(declared_runtime, cpi)] == []
    assert case_start.open_case(declared_runtime, "accompagnamento", data, ADMIN)


def test_an_unknown_role_is_refused_with_file_line_and_element(folder: Path, declared_runtime: Runtime) -> None:
    (folder / "processi" / "lanes.toml").write_text('[lanes]\n"Terzo settore" = ["volontari"]\n', encoding="utf-8")
    bpmn = folder / "processi" / "accompagnamento.bpmn"
    bpmn.write_text(bpmn.read_text(encoding="utf-8").replace('candidateGroups="sds"', 'candidateGroups="ospiti"'),
                    encoding="utf-8")
    with pytest.raises(DeploymentFailed) as failed:
        deploy_dir(declared_runtime, folder / "processi", DATA / "declared-forms")
    shown = sorted(str(p) for p in failed.value.problems)  # type: ignore[attr-defined]
    assert shown == [
        "accompagnamento.bpmn:11: verifica: camunda:candidateGroups: unknown role 'ospiti' "
        "(roles.toml: cpi, sds, specialist, ats, admin, manager, analyst, terzo_settore)",
        "lanes.toml:2: Terzo settore: unknown role 'volontari' "
        "(known: cpi, sds, specialist, ats, admin, manager, analyst, terzo_settore)",
    ]


def test_the_role_file_is_checked_with_file_and_line(tmp_path: Path) -> None:
    text = '[cpi]\nlabel = "CPI"\nscope = "zona"\n\n[admin]\nlabel = "Amministrazione"\nscope = "all"\ncolore = 1\n'
    _, problems = roles.parse(text, "ruoli.toml")
    assert [str(p) for p in problems] == [
        "ruoli.toml:3: cpi: scope must be one of zone, case, invitation, all, none, not 'zona'",
        "ruoli.toml:8: admin: unknown key 'colore' (known: actions, capabilities, deploy, label, participant_services, participants, scope)",
    ]


def test_the_admin_instance_page_lists_the_path_taken(login: Any, declared_runtime: Runtime) -> None:
    terzo = login("terzo.nord")
    terzo.get("/casi/nuovo/accompagnamento")
    assert terzo.post("/casi/nuovo/accompagnamento", {"territorio": "nord", "persona": "Marta Neri"}).status_code == 302
    link = _task_link(terzo.text("/attivita"), "Colloquio di accompagnamento")
    assert link is not None
    terzo.post(link, {"azione": "completa"})
    import re

    listing = login("amministratore").text("/admin/istanze")
    instance_id = re.search(r"/admin/istanze/([0-9a-f-]{36})", listing).group(1)  # type: ignore[union-attr]
    page = login("amministratore").text(f"/admin/istanze/{instance_id}")
    table = page.split('id="percorso-istanza"')[1].split("</table>")[0]
    rows = [row for row in table.split("<tr")[2:]]
    assert [r.split('data-elemento="')[1].split('"')[0] for r in rows] == ["avvio", "colloquio", "verifica"]
    assert "Terzo.Nord" in rows[1] and "Attività utente" in rows[1] and "completato" in rows[1]
    assert "Sistema" in rows[0] and "pronto" in rows[2]
