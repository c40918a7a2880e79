"""Every stored value respects its form's limits, drafts included; request bodies have a cap; names stay on one line."""

from __future__ import annotations

import io

from gol_workflow.services.meetings import agenda_mail
from gol_workflow.services.workflow import tasks as task_service

from .conftest import actor_of, ready, start_case, valid_cf
from .test_tasks import PROFILE

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _open(web_runtime, browser):
    case_id = start_case(web_runtime, "nord")
    task_id = ready(web_runtime, case_id)[0]["id"]
    person = browser("cpi.nord")
    person.text(f"/attivita/{task_id}")
    return case_id, task_id, person


def _draft(web_runtime, task_id):
    with web_runtime.uow(write=False) as uow:
        return uow.inbox.get(task_id)["draft"]


def test_a_draft_is_held_to_the_form_limits_but_may_leave_required_fields_empty(web_runtime, browser) -> None:
    _, task_id, person = _open(web_runtime, browser)
    response = person.post(f"/attivita/{task_id}", {"note": "x" * 2500, "ore_settimanali": "tanti", "azione": "bozza"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Inserire al massimo 2000 caratteri." in page and "Inserire un numero intero." in page
    assert "Campo obbligatorio." not in page  # required fields may wait in a draft
    assert _draft(web_runtime, task_id) is None
    response = person.post(f"/attivita/{task_id}", {"note": "Da finire", "ore_settimanali": "12", "azione": "bozza"})
    assert response.status_code == 302 and _draft(web_runtime, task_id) == {"note": "Da finire", "ore_settimanali": 12}


def test_a_draft_with_an_unknown_choice_is_refused(web_runtime) -> None:
    case_id = start_case(web_runtime, "nord")
    task_id = ready(web_runtime, case_id)[0]["id"]
    try:
        task_service.save_draft(web_runtime, task_id, {"case_manager": "cpi.sud"}, actor_of("cpi.nord"))
    except Exception as exc:  # noqa: BLE001 - the type is checked below
        assert exc.errors == {"case_manager": ["Scegliere uno dei valori proposti."]}  # type: ignore[attr-defined]
    else:
        raise AssertionError("the draft was stored")


def test_repeating_groups_take_at_most_50_rows_by_default(web_runtime, browser) -> None:
    _, task_id, person = _open(web_runtime, browser)
    rows = {f"familiari.{i}.nome": f"Persona {i}" for i in range(2000)}
    response = person.post(f"/attivita/{task_id}", {**PROFILE, **rows, "azione": "completa"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "Inserire al massimo 50 righe." in page
    assert 'name="familiari.50.nome"' in page and 'name="familiari.51.nome"' not in page  # the page stays small
    response = person.post(f"/attivita/{task_id}", {**rows, "azione": "bozza"})
    assert response.status_code == 400 and _draft(web_runtime, task_id) is None
    fifty = {f"familiari.{i}.nome": f"Persona {i}" for i in range(50)}
    page = person.post(f"/attivita/{task_id}", {**fifty, "azione": "aggiungi:familiari"}).get_data(as_text=True)
    assert 'name="familiari.49.nome"' in page and 'name="familiari.50.nome"' not in page  # no row past the limit


def test_a_request_body_over_the_cap_is_413_with_an_italian_page(web_runtime, browser) -> None:
    _, task_id, person = _open(web_runtime, browser)
    response = person.post(f"/attivita/{task_id}", {"note": "x" * (2 * 1024 * 1024), "azione": "bozza"})
    assert response.status_code == 413
    assert "superano la dimensione massima consentita (1024 kB)" in response.get_data(as_text=True)
    assert _draft(web_runtime, task_id) is None


def test_the_attachment_upload_still_takes_files_above_the_form_cap(web_runtime, browser) -> None:
    case_id = start_case(web_runtime, "nord")
    person = browser("cpi.nord")
    person.text(f"/casi/{case_id}")
    content = PDF + b"0" * (3 * 1024 * 1024)
    response = person.post(f"/casi/{case_id}/allegati", {"file": (io.BytesIO(content), "relazione.pdf")},
                           content_type="multipart/form-data")
    response.request.environ["wsgi.input"].close()  # the test client spools a body this large to a file of its own
    assert response.status_code == 302
    with web_runtime.uow(write=False) as uow:
        assert len(list(uow.attachments.for_instance(case_id))) == 1


def test_names_and_single_line_fields_refuse_line_breaks(web_runtime, browser) -> None:
    person = browser("cpi.nord")
    person.text("/casi/nuovo/caso_web")
    response = person.post("/casi/nuovo/caso_web", {"beneficiario.codice_fiscale": valid_cf("BNCLRA85M41G713"),
                                                    "beneficiario.nome": "Laura\r\nBcc: altri@example.org",
                                                    "beneficiario.cognome": "Bianchi", "zona": "nord"})
    assert response.status_code == 400 and "senza a capo" in response.get_data(as_text=True)
    _, task_id, person = _open(web_runtime, browser)
    response = person.post(f"/attivita/{task_id}", {**PROFILE, "familiari.0.nome": "Rita\nUgo", "azione": "completa"})
    assert response.status_code == 400 and "senza a capo" in response.get_data(as_text=True)
    response = person.post(f"/attivita/{task_id}", {**PROFILE, "note": "Riga uno\r\nRiga due", "azione": "completa"})
    assert response.status_code == 302  # a textarea keeps its lines


def test_the_agenda_mail_keeps_each_name_on_its_line() -> None:
    case = {"beneficiario": {"cognome": "Bianchi\r\n  99. Rossi Mario", "nome": "Laura", "codice_fiscale": "x\ny"}}
    assert agenda_mail.person_name(case) == "Bianchi 99. Rossi Mario Laura (X Y)"


def test_a_task_page_shown_again_after_a_post_is_an_audited_read(web_runtime, browser) -> None:
    case_id, task_id, person = _open(web_runtime, browser)

    def reads() -> int:
        with web_runtime.uow(write=False) as uow:
            return len([e for e in uow.audit.for_instance(case_id) if e["action"] == "case.viewed"])

    before = reads()
    assert person.post(f"/attivita/{task_id}", {"ore_settimanali": "tanti", "azione": "completa"}).status_code == 400
    assert reads() == before + 1
    assert person.post(f"/attivita/{task_id}", {"azione": "aggiungi:familiari"}).status_code == 200
    assert reads() == before + 2
