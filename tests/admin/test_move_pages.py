"""The move and checked-edit pages: choose, see the preview, confirm; refusals in Italian, nothing changed."""

from __future__ import annotations

from gol_workflow.services.administration import instance_moves
from tests.conftest import ADMIN

from .conftest import complete, header, open_task, start


def test_send_a_case_back_through_the_preview_and_the_confirmation(admin_rt, login) -> None:
    instance_id = start(admin_rt)
    complete(admin_rt, instance_id, "raccolta", {"divisore": 4})  # now waits 12 months
    admin = login("admin")
    page = admin.text(f"/admin/istanze/{instance_id}")
    assert "Sposta il caso" in page
    assert "Rifare «Raccolta dati»" in admin.text(f"/admin/istanze/{instance_id}/sposta")
    done = instance_moves.choices(admin_rt, ADMIN, instance_id).done
    choice = f"back_to:{done[0].task_id}"

    refused = admin.post(f"/admin/istanze/{instance_id}/sposta", {"scelta": choice, "azione": "anteprima"})
    assert refused.status_code == 400 and "Indicare il motivo" in refused.get_data(as_text=True)
    preview = admin.post(f"/admin/istanze/{instance_id}/sposta",
                         {"scelta": choice, "motivo": "divisore sbagliato", "azione": "anteprima"})
    text = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "Non è ancora cambiato nulla" in text
    assert 'data-elemento="raccolta"' in text.split('id="create"')[1].split("</ul>")[0]
    assert "timer" in text.split('id="annullate"')[1].split("</ul>")[0]
    assert header(admin_rt, instance_id)["status"] == "waiting"  # the preview changed nothing

    confirmed = admin.post(f"/admin/istanze/{instance_id}/sposta",
                           {"scelta": choice, "motivo": "divisore sbagliato", "azione": "conferma"})
    assert confirmed.status_code == 302
    assert open_task(admin_rt, instance_id)["element_id"] == "raccolta"
    assert header(admin_rt, instance_id)["next_due_at"] is None  # the 12-month timer is gone


def test_a_checked_edit_refuses_an_unknown_zone_then_previews_and_saves_a_known_one(admin_rt, login) -> None:
    instance_id = start(admin_rt)
    admin = login("admin")
    url = f"/admin/istanze/{instance_id}/modifica"
    assert admin.get(url).status_code == 200
    bad = admin.post(url, {"campo_0": "zona", "valore_0": "atlantide", "motivo": "trasferimento",
                           "azione": "anteprima"})
    assert bad.status_code == 400 and "zona sconosciuta" in bad.get_data(as_text=True)
    preview = admin.post(url, {"campo_0": "zona", "valore_0": '"valdinievole"', "motivo": "trasferimento",
                               "azione": "anteprima"})
    assert preview.status_code == 200 and "Raccolta dati: da pistoiese a valdinievole" in preview.get_data(as_text=True)
    assert header(admin_rt, instance_id)["zone"] == "pistoiese"
    saved = admin.post(url, {"campo_0": "zona", "valore_0": "valdinievole", "motivo": "trasferimento",
                             "azione": "conferma"})
    assert saved.status_code == 302
    assert header(admin_rt, instance_id)["zone"] == "valdinievole"
    assert open_task(admin_rt, instance_id)["zone"] == "valdinievole"


def test_the_redone_task_shows_its_earlier_answers_and_starts_empty_unless_asked(admin_rt, login) -> None:
    instance_id = start(admin_rt)
    complete(admin_rt, instance_id, "raccolta", {"divisore": 7})
    instance_moves.move(admin_rt, ADMIN, instance_id, "back_to", "divisore sbagliato", element="raccolta")
    task_id = open_task(admin_rt, instance_id)["id"]
    operator = login("cpi.nord")
    page = operator.text(f"/attivita/{task_id}")
    answers = page.split('id="risposte-precedenti"')[1].split("</details>")[0]
    assert "Risposte precedenti" in answers and "divisore" in answers and "7" in answers
    assert 'value="7"' not in page.split('id="modulo-attivita"')[1]  # the form itself starts empty

    instance_id = start(admin_rt, nome="Gino", first15="RSSGNI70A01G713")
    complete(admin_rt, instance_id, "raccolta", {"divisore": 7})
    instance_moves.move(admin_rt, ADMIN, instance_id, "back_to", "rifare", element="raccolta", prefill=True)
    page = operator.text(f"/attivita/{open_task(admin_rt, instance_id)['id']}")
    assert 'value="7"' in page.split('id="modulo-attivita"')[1]  # asked for: the form starts from them
