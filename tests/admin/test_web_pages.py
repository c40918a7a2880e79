"""The admin console pages as an administrator uses them (server-side, without a browser)."""

from __future__ import annotations

import html
import io
import json
import re
from datetime import timedelta

from sqlalchemy import select

from gol_workflow.persistence.sealing import opened
from gol_workflow.persistence.tables import audit_events
from gol_workflow.services.administration import batch, scheduling
from gol_workflow.services.mail import outbox
from gol_workflow.services.workflow import instances as instance_service

from tests.conftest import ADMIN

from .conftest import ADMIN_DATA, complete, deploy_xml, header, original_xml, start
from .test_migration import with_added_task, without_raccolta


def events(rt, action: str) -> list[dict]:
    with rt.uow(write=False) as uow:
        stmt = select(audit_events).where(audit_events.c.action == action).order_by(audit_events.c.id)
        return opened(uow.conn, uow.conn.execute(stmt).mappings().all())


def rows(page: str) -> list[str]:
    return re.findall(r'data-istanza="([^"]+)"', page)


def test_the_list_filters_counts_and_pages(admin_rt, login, clock) -> None:
    ids = []
    for n in range(30):
        ids.append(start(admin_rt, nome=f"Persona{n:02d}", first15=f"PRSPRS80A{n + 1:02d}G713"))
        clock.advance(timedelta(minutes=5))
    complete(admin_rt, ids[3], "raccolta", {"divisore": 0})
    admin = login("admin")
    page = admin.text("/admin/istanze")
    assert rows(page) == list(reversed(ids))[:25]
    assert 'data-conteggio="running">29<' in page and 'data-conteggio="error">1<' in page
    following = re.search(r'href="([^"]*dopo=[^"]+)"', page).group(1)
    second = admin.text(html.unescape(following))
    assert rows(second) == list(reversed(ids))[25:]
    assert rows(admin.text("/admin/istanze?errore=1")) == [ids[3]]
    assert rows(admin.text("/admin/istanze?beneficiario=persona07")) == [ids[7]]
    assert rows(admin.text("/admin/istanze?stato=error&stato=waiting")) == [ids[3]]
    broken = admin.get("/admin/istanze?dopo=rotto&dal=ieri")
    assert broken.status_code == 200 and "non è valida" in broken.get_data(as_text=True)


def test_the_filters_stay_chosen_and_the_tabs_keep_them(admin_rt, login) -> None:
    nord = start(admin_rt, zone="pistoiese", nome="Anna", first15="NNAAAA80A41G713")
    start(admin_rt, zone="valdinievole", nome="Anna", first15="NNABBB80A41G713")
    start(admin_rt, zone="pistoiese", nome="Bruno", first15="BRNAAA80A01G713")
    admin = login("admin")
    page = admin.text("/admin/istanze?zona=pistoiese&beneficiario=anna")
    assert rows(page) == [nord]
    chosen = re.findall(r'<option value="([^"]+)" selected>', page)
    assert "pistoiese" in chosen and "valdinievole" not in chosen
    assert re.search(r'<option value="valdinievole">[^<]+</option>', page)
    tab = re.search(r'<a class="nav-link" href="([^"]+)">In corso <span[^>]*data-conteggio="running">1<', page)
    assert tab is not None
    assert rows(admin.text(html.unescape(tab.group(1)))) == [nord]  # the tab keeps the zone and the name
    everyone = re.search(r'href="([^"]+)" aria-current="page">Tutti ', page).group(1)
    assert "stato=" not in everyone and rows(admin.text(html.unescape(everyone))) == [nord]
    link = re.search(r'data-istanza="%s">\s*<td data-label="Beneficiario"><a href="([^"]+)"' % nord, page).group(1)
    assert link == f"/admin/istanze/{nord}" and admin.get(link).status_code == 200


def test_the_instance_page_masks_data_and_opening_a_field_is_audited(admin_rt, login) -> None:
    instance_id = start(admin_rt)
    complete(admin_rt, instance_id, "raccolta", {"divisore": 4, "note_raccolta": "vive da sola"})
    admin = login("admin")
    page = admin.text(f"/admin/istanze/{instance_id}")
    assert "Laura Bianchi" in page  # the header shows who the case is about
    assert "vive da sola" not in page and "BNCLRA85M41G713" in page
    markers = json.loads(html.unescape(re.search(r'data-marcatori="([^"]+)"', page).group(1)))
    assert markers["states"]["raccolta"] == "COMPLETED" and markers["states"]["attesa_un_anno"] == "WAITING"
    (timer,) = markers["waiting"]
    assert timer["element"] == "attesa_un_anno" and timer["label"] == "05/01/2027 08:00"
    assert "scade il <time" in page and "05/01/2027 ore 08:00" in page

    shown = admin.post(f"/admin/istanze/{instance_id}/mostra", {"campo": "note_raccolta"})
    assert shown.status_code == 200 and "vive da sola" in shown.get_data(as_text=True)
    fragment = admin.post(f"/admin/istanze/{instance_id}/mostra", {"campo": "beneficiario"},
                          headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Bianchi" in fragment and "<html" not in fragment
    opened = events(admin_rt, "instance.data_revealed")
    assert [e["data"]["campi"] for e in opened] == [["note_raccolta"], ["beneficiario"]]
    assert len(events(admin_rt, "instance.inspected")) >= 2
    assert admin.get(f"/admin/istanze/{instance_id}/diagramma.bpmn").get_data(as_text=True).startswith("<?xml")


def test_operations_need_a_reason_and_terminating_needs_a_confirmation(admin_rt, login) -> None:
    instance_id = start(admin_rt)
    admin = login("admin")
    refused = admin.post(f"/admin/istanze/{instance_id}/sospendi", {"motivo": "  "})
    assert refused.status_code == 400 and "Indicare il motivo" in refused.get_data(as_text=True)
    assert admin.post(f"/admin/istanze/{instance_id}/sospendi", {"motivo": "verifica"}).status_code == 302
    assert header(admin_rt, instance_id)["status"] == "suspended"
    again = admin.post(f"/admin/istanze/{instance_id}/sospendi", {"motivo": "verifica"}, follow_redirects=True)
    assert "non può essere sospesa" in again.get_data(as_text=True)
    admin.post(f"/admin/istanze/{instance_id}/riprendi")
    assert header(admin_rt, instance_id)["status"] == "running"
    unconfirmed = admin.post(f"/admin/istanze/{instance_id}/chiudi", {"motivo": "doppione"})
    assert unconfirmed.status_code == 400 and header(admin_rt, instance_id)["status"] == "running"
    admin.post(f"/admin/istanze/{instance_id}/chiudi", {"motivo": "doppione", "conferma": "1"})
    assert header(admin_rt, instance_id)["status"] == "terminated"
    assert admin.get("/admin/istanze/non-esiste").status_code == 404


def test_fixing_a_failed_instance_edit_the_data_then_retry(admin_rt, login) -> None:
    instance_id = start(admin_rt)
    complete(admin_rt, instance_id, "raccolta", {"divisore": 0})
    admin = login("admin")
    assert "division by zero" in admin.text(f"/admin/istanze/{instance_id}")
    admin.post(f"/admin/istanze/{instance_id}/sospendi", {"motivo": "correzione"})
    editor = admin.text(f"/admin/istanze/{instance_id}/dati")
    data = json.loads(html.unescape(re.search(r'<textarea[^>]*>(.*?)</textarea>', editor, re.DOTALL).group(1)))
    assert data["divisore"] == 0 and data["beneficiario"]["nome"] == "Laura"
    bad = admin.post(f"/admin/istanze/{instance_id}/dati", {"dati": '{"divisore": ', "motivo": "x"})
    assert bad.status_code == 400 and "non è JSON valido" in bad.get_data(as_text=True)
    assert '{"divisore": ' in html.unescape(bad.get_data(as_text=True))  # what was typed is kept
    data["divisore"] = 5
    saved = admin.post(f"/admin/istanze/{instance_id}/dati", {"dati": json.dumps(data), "motivo": "divisore errato"})
    assert saved.status_code == 302
    admin.post(f"/admin/istanze/{instance_id}/riprendi")
    admin.post(f"/admin/istanze/{instance_id}/ripeti")
    assert header(admin_rt, instance_id)["status"] == "waiting"
    trail = admin.text(f"/admin/istanze/{instance_id}")
    assert 'data-azione="instance.data_edited"' in trail and 'data-azione="instance.retried"' in trail


def test_migration_page_explains_a_refusal_and_migrates_when_possible(admin_rt, login) -> None:
    instance_id = start(admin_rt)
    complete(admin_rt, instance_id, "raccolta", {"divisore": 2})
    bad = deploy_xml(admin_rt, without_raccolta(original_xml()))
    admin = login("admin")
    page = admin.text(f"/admin/istanze/{instance_id}/migra?versione={bad}")
    assert "«Raccolta dati» è già stato eseguito e nella nuova versione non esiste più." in page
    good = deploy_xml(admin_rt, with_added_task(original_xml()))
    plan = admin.text(f"/admin/istanze/{instance_id}/migra?versione={good}")
    assert "La migrazione è possibile" in plan and "resta in attesa con la stessa scadenza" in plan
    due = header(admin_rt, instance_id)["next_due_at"]
    done = admin.post(f"/admin/istanze/{instance_id}/migra", {"versione": str(good), "motivo": "controllo"},
                      follow_redirects=True)
    assert "dalla versione 1 alla versione 3" in done.get_data(as_text=True)
    assert header(admin_rt, instance_id)["next_due_at"] == due


def test_a_batch_from_the_list_shows_progress_and_each_result(admin_rt, login) -> None:
    ids = [start(admin_rt, nome=f"P{n}", first15=f"PRSPRS80A{n + 1:02d}G713") for n in range(3)]
    instance_service.suspend(admin_rt, ids[0], ADMIN, "prima")
    admin = login("admin")
    unconfirmed = admin.post("/admin/operazioni", {"operazione": "suspend", "motivo": "manutenzione"},
                             follow_redirects=True)
    assert "Confermare" in unconfirmed.get_data(as_text=True)
    started = admin.post("/admin/operazioni", {"operazione": "suspend", "motivo": "manutenzione", "conferma": "1",
                                               "processo": "pratica_admin"})
    assert started.status_code == 302
    page_url = started.headers["Location"]
    waiting = admin.get(page_url, headers={"HX-Request": "true"})
    assert 'hx-trigger="every 2s"' in waiting.get_data(as_text=True) and "HX-Refresh" not in waiting.headers
    batch.run_batches(admin_rt, budget=30)
    final = admin.get(page_url, headers={"HX-Request": "true"})
    assert final.headers["HX-Refresh"] == "true" and "every 2s" not in final.get_data(as_text=True)
    page = admin.text(page_url)
    assert "2 eseguite · 1 non eseguite" in page
    assert re.search(rf'data-istanza="{ids[0]}" data-esito="failed"', page)
    assert "Non applicabile allo stato dell" in page
    assert "Sospendere" in admin.text("/admin/operazioni")


def test_incidents_are_grouped_with_links_to_the_instances(admin_rt, login) -> None:
    failed = [start(admin_rt, nome=f"E{n}", first15=f"RRRRRR80A{n + 1:02d}G713") for n in range(3)]
    for instance_id in failed:
        complete(admin_rt, instance_id, "raccolta", {"divisore": 0})
    page = login("admin").text("/admin/errori")
    assert "Ripeti tutte" in page
    assert page.count('data-gruppo="') == 1 and page.count('data-elemento="calcolo"') == 3
    assert "division by zero" in page and "divisione per zero" in page
    assert page.count('href="/admin/errori/') == 3
    assert "elemento=calcolo" in page
    admin = login("admin")
    started = admin.post("/admin/operazioni", {"operazione": "retry", "conferma": "1", "processo": "pratica_admin",
                                               "errore": "1", "elemento": "calcolo"})
    assert started.status_code == 302  # "retry them all" from the incident: a batch over the failing instances
    batch.run_batches(admin_rt, budget=30)
    view_page = admin.text(started.headers["Location"])
    assert view_page.count('data-esito="failed"') == 3  # still dividing by zero: each says so


def test_definitions_diff_and_deploy_by_upload(admin_rt, login) -> None:
    analyst = login("analista")
    catalog = analyst.text("/admin/processi")
    assert 'data-versione="1"' in catalog and "pratica_admin" in catalog
    xml = with_added_task(original_xml()).encode()
    alone = analyst.post("/admin/processi/pubblica", {"file": (io.BytesIO(xml), "pratica_admin.bpmn")},
                         content_type="multipart/form-data")
    assert alone.status_code == 400 and "form controllo.schema.json does not exist" in alone.get_data(as_text=True)
    form = (ADMIN_DATA / "forms" / "controllo.schema.json").read_bytes()
    upload = {"file": [(io.BytesIO(xml), "pratica_admin.bpmn"), (io.BytesIO(form), "controllo.schema.json")]}
    done = analyst.post("/admin/processi/pubblica", upload, content_type="multipart/form-data")
    body = done.get_data(as_text=True)
    assert done.status_code == 200 and "nuova versione <strong>v2</strong>" in body
    assert "raccolta.schema.json" in body  # the forms not uploaded came from the deployed version
    diff = analyst.text("/admin/processi/pratica_admin/confronto?da=1&a=2")
    added = diff[diff.index('id="elementi-added"'):]
    assert 'data-elemento="controllo"' in added and "Controllo aggiuntivo" in added and "Attività utente" in added
    broken = original_xml().replace('targetRef="calcolo"', 'targetRef="inesistente"')
    refused = analyst.post("/admin/processi/pubblica",
                           {"file": (io.BytesIO(broken.encode()), "pratica_admin.bpmn")},
                           content_type="multipart/form-data")
    text = html.unescape(refused.get_data(as_text=True))
    assert refused.status_code == 400 and "Nulla è stato pubblicato" in text
    assert re.search(r"pratica_admin\.bpmn:\d+: [\w-]+: ", text)
    wrong = analyst.post("/admin/processi/pubblica", {"file": (io.BytesIO(b"x"), "note.txt")},
                         content_type="multipart/form-data")
    assert wrong.status_code == 400 and "Sono ammessi solo" in wrong.get_data(as_text=True)


def test_scheduler_page_warns_without_heartbeat_and_sends_mail_again(admin_rt, login) -> None:
    with admin_rt.uow() as uow:
        message_id = outbox.enqueue(uow, admin_rt.now(), "gol@example.it",
                                    outbox.Outgoing("prova-1", ["sds@example.it"], "Ordine del giorno", "Testo"))
        uow.outbox.claim_due(admin_rt.now(), admin_rt.now() + timedelta(minutes=5), 10)
        uow.outbox.settle(message_id, 1, {"status": "failed", "last_error": "550 mailbox unavailable",
                                          "next_attempt_at": None})
        uow.commit()
    instance_id = start(admin_rt)
    complete(admin_rt, instance_id, "raccolta", {"divisore": 3})
    admin = login("admin")
    page = admin.text("/admin/scheduler")
    assert 'id="avviso-scheduler"' in page and "550 mailbox unavailable" in page
    assert f"/admin/istanze/{instance_id}" in page  # its 12-month timer is among the next due
    assert admin.post(f"/admin/scheduler/posta/{message_id}/invia").status_code == 302
    assert outbox.message(admin_rt, message_id)["status"] == "pending"
    scheduling.record_heartbeat(admin_rt, "prova", {"clock": "system", "timers": 3})
    assert 'id="avviso-scheduler"' not in admin.text("/admin/scheduler")


def test_a_meeting_that_could_not_be_convened_is_convened_again_from_the_scheduler_page(admin_rt, login) -> None:
    now = admin_rt.now()
    with admin_rt.uow() as uow:
        uow.meetings.add_if_missing({
            "id": "pistoiese-prova", "zone": "pistoiese", "scheduled_at": now + timedelta(days=6),
            "cutoff_at": now + timedelta(days=1), "due_at": now + timedelta(days=1), "location": "Sala A",
            "status": "failed", "attempts": 4, "last_error": "processo riunione_equipe non pubblicato",
            "created_at": now,
        })
        uow.commit()
    admin = login("admin")
    page = admin.text("/admin/scheduler")
    assert "convocazione non riuscita" in page and "processo riunione_equipe non pubblicato" in page
    assert "/admin/scheduler/riunioni/pistoiese-prova/riprova" in page
    response = admin.post("/admin/scheduler/riunioni/pistoiese-prova/riprova")
    assert response.status_code == 302
    page = admin.text(response.headers["Location"])
    assert "sarà convocata al prossimo passaggio" in page
    assert "/admin/scheduler/riunioni/pistoiese-prova/riprova" not in page
    with admin_rt.uow(write=False) as uow:
        row = uow.meetings.get("pistoiese-prova")
        retried = uow.conn.execute(select(audit_events).where(audit_events.c.action == "meeting.retried")).mappings().all()
    assert row["status"] == "planned" and row["attempts"] == 0 and row["due_at"] == now
    assert [(e["actor"], e["data"]) for e in retried] == [("admin", {"meeting": "pistoiese-prova"})]
    again = admin.post("/admin/scheduler/riunioni/pistoiese-prova/riprova")
    assert "Solo una riunione la cui convocazione non è riuscita" in admin.text(again.headers["Location"])
    missing = admin.post("/admin/scheduler/riunioni/nessuna/riprova")
    assert "Questa riunione non esiste." in admin.text(missing.headers["Location"])
