"""Role × zone × page: every cell of the matrix, including the forbidden ones, and no data in refusals.

Rule: an object the person may not see (task, case, attachment, document) answers 404, so its
existence is not revealed; an area the role has no access to (agenda, new case) answers 403.
"""

from __future__ import annotations

import io

import pytest

from gol_workflow.services.cases import attachments

from .authorization_world import CASES, INBOX, build_world
from .conftest import PEOPLE, actor_of, ready

NAMES = {"N": "Laura Bianchi", "N2": "Gino Rossi", "S": "Marco Neri"}
PAGES = ("task_equipe_N", "task_ats_N2", "case_N", "case_N2", "case_S", "attachment_N", "scheda_N2", "agenda",
         "new_case", "cases", "pdf_N2")

# Expected status per user and page (200 allowed; 403 area closed to the role; 404 object not visible).
EXPECTED: dict[str, dict[str, int]] = {
    "cpi.nord": dict(task_equipe_N=200, task_ats_N2=404, case_N=200, case_N2=200, case_S=404, attachment_N=200,
                     scheda_N2=200, agenda=200, new_case=200, cases=200),
    "cpi.nord.bis": dict(task_equipe_N=200, task_ats_N2=404, case_N=200, case_N2=200, case_S=404, attachment_N=200,
                         scheda_N2=200, agenda=200, new_case=200, cases=200),
    "cpi.sud": dict(task_equipe_N=404, task_ats_N2=404, case_N=404, case_N2=404, case_S=200, attachment_N=404,
                    scheda_N2=404, agenda=200, new_case=200, cases=200),
    "sds.nord": dict(task_equipe_N=200, task_ats_N2=404, case_N=200, case_N2=200, case_S=404, attachment_N=200,
                     scheda_N2=200, agenda=200, new_case=403, cases=200),
    "sds.sud": dict(task_equipe_N=404, task_ats_N2=404, case_N=404, case_N2=404, case_S=200, attachment_N=404,
                    scheda_N2=404, agenda=200, new_case=403, cases=200),
    "spec.nord": dict(task_equipe_N=200, task_ats_N2=404, case_N=200, case_N2=404, case_S=404, attachment_N=200,
                      scheda_N2=404, agenda=200, new_case=403, cases=200),
    "spec.sud": dict(task_equipe_N=404, task_ats_N2=404, case_N=404, case_N2=404, case_S=200, attachment_N=404,
                     scheda_N2=404, agenda=200, new_case=403, cases=200),
    "ats.nord": dict(task_equipe_N=404, task_ats_N2=200, case_N=200, case_N2=200, case_S=404, attachment_N=200,
                     scheda_N2=200, agenda=403, new_case=403, cases=200),
    "ats.altro": dict(task_equipe_N=404, task_ats_N2=404, case_N=404, case_N2=404, case_S=200, attachment_N=404,
                      scheda_N2=404, agenda=403, new_case=403, cases=200),
    "admin": dict(task_equipe_N=200, task_ats_N2=200, case_N=200, case_N2=200, case_S=200, attachment_N=200,
                  scheda_N2=200, agenda=200, new_case=200, cases=200),
    "analista": dict(task_equipe_N=404, task_ats_N2=404, case_N=404, case_N2=404, case_S=404, attachment_N=404,
                     scheda_N2=404, agenda=403, new_case=403, cases=200),
}

for _row in EXPECTED.values():  # the case file's PDF answers as the case file does
    _row["pdf_N2"] = _row["case_N2"]


@pytest.fixture
def world(web_runtime):
    rt = web_runtime
    cases = build_world(rt)
    n, n2, s = cases["N"], cases["N2"], cases["S"]
    attachment = attachments.upload(rt, n, "nota.pdf", b"%PDF-1.4\n%%EOF\n", "allegato", actor_of("cpi.nord"))
    urls = {
        "task_equipe_N": f"/attivita/{ready(rt, n)[0]['id']}",
        "task_ats_N2": f"/attivita/{ready(rt, n2)[0]['id']}",
        "case_N": f"/casi/{n}", "case_N2": f"/casi/{n2}", "case_S": f"/casi/{s}",
        "attachment_N": f"/casi/{n}/allegati/{attachment}",
        "scheda_N2": f"/casi/{n2}/scheda-esito", "pdf_N2": f"/casi/{n2}/fascicolo.pdf",
        "agenda": "/agenda", "new_case": "/casi/nuovo/caso_web", "cases": "/casi",
    }
    return urls


@pytest.mark.parametrize("username", sorted(PEOPLE))
def test_every_page_for_every_role_and_zone(world, browser, username) -> None:
    person = browser(username)
    wrong = []
    for page in PAGES:
        response = person.get(world[page])
        status = 200 if response.status_code in (200, 302) and page == "new_case" else response.status_code
        if status != EXPECTED[username][page]:
            wrong.append(f"{page}: {response.status_code} (expected {EXPECTED[username][page]})")
        if status != 200:
            body = response.get_data(as_text=True)
            leaked = [name for name in NAMES.values() if name in body]
            assert not leaked, f"{username} {page}: a refusal shows {leaked}"
    assert not wrong, f"{username}: " + "; ".join(wrong)


@pytest.mark.parametrize("username", sorted(PEOPLE))
def test_inbox_shows_only_workable_tasks(world, browser, username) -> None:
    page = browser(username).text("/attivita")
    seen = {key for key, name in NAMES.items() if name in page}
    assert seen == INBOX[username]


@pytest.mark.parametrize("username", sorted(PEOPLE))
def test_case_list_shows_the_cases_one_may_see_with_or_without_a_task(world, browser, username) -> None:
    page = browser(username).text("/casi")
    seen = {key for key, name in NAMES.items() if name in page}
    assert seen == CASES[username]
    for key in seen:  # each row opens the case file
        assert f'href="{world[f"case_{key}"]}"' in page


@pytest.mark.parametrize("username", ["cpi.sud", "sds.sud", "ats.altro", "analista", "spec.sud"])
def test_forbidden_actions_change_nothing(world, browser, username) -> None:
    person = browser(username)
    person.text("/attivita")
    task_id = world["task_equipe_N"].rsplit("/", 1)[1]
    person.post(f"/attivita/{task_id}/prendi", {"next": "/attivita"})
    response = person.post(f"/attivita/{task_id}", {"azione": "completa"})
    assert response.status_code == 404
    case_id = world["case_N"].rsplit("/", 1)[1]
    upload = person.post(f"/casi/{case_id}/allegati", {"file": (io.BytesIO(b"%PDF-1.4\n"), "x.pdf")},
                         content_type="multipart/form-data")
    assert upload.status_code == 404
    with person.client.application.extensions["gol_runtime"].uow(write=False) as uow:
        assert uow.inbox.get(task_id)["assignee"] is None
        assert len(uow.attachments.for_instance(case_id)) == 1
