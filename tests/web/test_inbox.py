"""The inbox page: what each person sees, filters, sorting, pages, queue counts, claim and release."""

from __future__ import annotations

from datetime import timedelta

from gol_workflow.services.workflow import tasks as task_service

from .conftest import actor_of, ready, start_case


def _rows(html: str) -> int:
    return html.count('data-task-id="')


def test_login_then_inbox_lists_the_zone_tasks_with_due_dates(web_runtime, browser) -> None:
    start_case(web_runtime, "nord", "Laura", "Bianchi")
    start_case(web_runtime, "sud", "Marco", "Neri", "NRIMRC80A01G713")
    page = browser("cpi.nord").text("/attivita")
    assert "Laura Bianchi" in page and "Marco Neri" not in page
    assert '<td data-label="Attività">Profilazione</td>' in page
    assert "08/01/2026" in page  # due in 3 days from Monday 5 January 2026
    assert 'data-conteggio="tutte">1<' in page


def test_anonymous_is_sent_to_login(app) -> None:
    response = app.test_client().get("/attivita")
    assert response.status_code == 302 and "/accesso" in response.headers["Location"]


def test_overdue_tasks_are_highlighted_and_filterable(web_runtime, browser, clock) -> None:
    start_case(web_runtime, "nord", "Laura", "Bianchi")
    clock.advance(timedelta(days=1))
    start_case(web_runtime, "nord", "Gino", "Rossi", "RSSGNI70A01G713")
    clock.advance(timedelta(days=2, hours=1))
    person = browser("cpi.nord")
    page = person.text("/attivita")
    assert "Scaduta il 08/01/2026" in page and 'data-conteggio="scadute">1<' in page
    overdue = person.text("/attivita?scadute=1")
    assert "Laura Bianchi" in overdue and "Gino Rossi" not in overdue


def test_search_by_name_or_codice_fiscale(web_runtime, browser) -> None:
    start_case(web_runtime, "nord", "Laura", "Bianchi")
    start_case(web_runtime, "nord", "Gino", "Rossi", "RSSGNI70A01G713")
    person = browser("cpi.nord")
    assert _rows(person.text("/attivita?cerca=bianc")) == 1
    by_code = person.text("/attivita?cerca=RSSGNI70A01G713" + "")
    assert "Gino Rossi" not in by_code  # a partial code is not a match
    with web_runtime.uow(write=False) as uow:
        code = uow.inbox_search.for_case(start_case(web_runtime, "nord", "Ada", "Conti", "CNTDAA75A41G713"))[0]["codice_fiscale"]
    page = person.text(f"/attivita?cerca={code.lower()}")
    assert "Ada Conti" in page and _rows(page) == 1


def test_sorting_and_pagination(web_runtime, browser, clock) -> None:
    for index in range(27):
        start_case(web_runtime, "nord", f"Persona{index:02d}", "Prova", f"PRVPRS80A{index + 1:02d}G713")
        clock.advance(timedelta(minutes=1))
    person = browser("cpi.nord")
    first = person.text("/attivita")
    assert _rows(first) == 25 and "Persona00" in first and "pagina 1 di 2" in first
    second = person.text("/attivita?pagina=2")
    assert _rows(second) == 2 and "Persona26" in second
    newest_first = person.text("/attivita?ordina=attesa&verso=desc")
    assert newest_first.index("Persona26") < newest_first.index("Persona25")
    assert 'aria-sort="descending"' in newest_first
    searched = person.text("/attivita?cerca=prova&ordina=scadenza")
    assert 'href="/attivita?pagina=2&amp;cerca=prova&amp;ordina=scadenza"' in searched  # the next page keeps the filters


def test_claim_and_release_update_the_queues(web_runtime, browser) -> None:
    case_id = start_case(web_runtime, "nord")
    task_id = ready(web_runtime, case_id)[0]["id"]
    person = browser("cpi.nord")
    person.text("/attivita")
    assert person.post(f"/attivita/{task_id}/prendi", {"next": "/attivita"}).status_code == 302
    page = person.text("/attivita?coda=mie")
    assert 'data-conteggio="mie">1<' in page and "A me" in page
    colleague = browser("cpi.nord.bis")
    colleague.text("/attivita")
    colleague.post(f"/attivita/{task_id}/prendi", {"next": "/attivita"})
    seen = colleague.text("/attivita")
    assert "assegnata a Cpi Nord." in seen
    assert '<td data-label="Assegnata a">Cpi Nord</td>' in seen and "Rilascia" not in seen  # a colleague's task
    person.post(f"/attivita/{task_id}/rilascia", {"next": "/attivita"})
    assert 'data-conteggio="libere">1<' in person.text("/attivita")


def test_post_without_csrf_token_is_refused(web_runtime, browser) -> None:
    case_id = start_case(web_runtime, "nord")
    task_id = ready(web_runtime, case_id)[0]["id"]
    person = browser("cpi.nord")
    response = person.client.post(f"/attivita/{task_id}/prendi", data={"next": "/attivita"})
    assert response.status_code == 400
    with web_runtime.uow(write=False) as uow:
        assert uow.inbox.get(task_id)["assignee"] is None


def test_security_headers_and_cookie_flags(web_runtime, browser) -> None:
    person = browser(None)
    response = person.get("/accesso")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    login = person.post("/accesso", {"username": "cpi.nord", "password": "password-di-prova"})
    cookie = login.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert person.get("/attivita").headers["Cache-Control"] == "no-store"


def test_completed_task_leaves_the_inbox(web_runtime, browser) -> None:
    case_id = start_case(web_runtime, "nord")
    task = ready(web_runtime, case_id)[0]
    task_service.complete_task(web_runtime, task["id"], {"bisogni_particolari": False, "case_manager": "ats.nord",
                                                          "data_colloquio": "2026-01-07"}, actor_of("cpi.nord"),
                               options={"case_manager": ["ats.nord"]})
    page = browser("cpi.nord").text("/attivita")
    assert '<td data-label="Attività">Profilazione</td>' not in page and '<td data-label="Attività">Valutazione in equipe</td>' in page
