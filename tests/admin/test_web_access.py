"""Who may open the admin console: administrators everywhere, analysts on processes only, nobody else; CSRF on every POST."""

from __future__ import annotations

import pytest

from gol_workflow.services.administration import batch, incident_desk, process_drafts, saved_views
from gol_workflow.services.administration.instance_queries import InstanceFilters
from gol_workflow.services.data_protection import retention
from tests.conftest import ADMIN

from .conftest import PEOPLE, complete, deploy_xml, original_xml, start

ANALYST_PAGES = {"definitions", "definition", "diff", "deploy", "version_diagram", "modeler", "modeler_diagram",
                 "modeler_check", "modeler_save", "modeler_scenarios", "modeler_impact", "modeler_publish",
                 "modeler_form", "versions"}


@pytest.fixture
def urls(admin_app, admin_rt):
    """Every admin route with real ids: (name, method, url, form)."""
    instance_id = start(admin_rt)
    failed = start(admin_rt, nome="Gino", first15="RSSGNI70A01G713")
    complete(admin_rt, failed, "raccolta", {"divisore": 0})
    incident = incident_desk.list_incidents(admin_rt, ADMIN).items[0]
    view = saved_views.save_view(admin_rt, ADMIN, "In errore", "errore=1")
    errore = f"/admin/errori/{incident.id}"
    batch_id = batch.start_batch(admin_rt, ADMIN, "retry", InstanceFilters(has_error=True))
    version_id = deploy_xml(admin_rt, original_xml().replace('name="Raccolta dati"', 'name="Raccolta"'))
    draft = process_drafts.save(admin_rt, ADMIN, "pratica_admin", original_xml(), "nota")
    run_id = retention.run(admin_rt, ADMIN, dry_run=True).run_id
    modeler = "/admin/processi/pratica_admin"
    base = f"/admin/istanze/{instance_id}"
    return [
        ("home", "GET", "/admin/", None),
        ("instances", "GET", "/admin/istanze", None),
        ("instance", "GET", base, None),
        ("instance_diagram", "GET", f"{base}/diagramma.bpmn", None),
        ("reveal", "POST", f"{base}/mostra", {"campo": "beneficiario"}),
        ("suspend", "POST", f"{base}/sospendi", {"motivo": "prova"}),
        ("resume", "POST", f"{base}/riprendi", {}),
        ("retry", "POST", f"/admin/istanze/{failed}/ripeti", {}),
        ("terminate", "POST", f"{base}/chiudi", {"motivo": "prova", "conferma": "1"}),
        ("edit", "GET", f"{base}/dati", None),
        ("edit_post", "POST", f"{base}/dati", {"dati": "{}", "motivo": "prova"}),
        ("move", "GET", f"{base}/sposta", None),
        ("move_post", "POST", f"{base}/sposta", {"motivo": "prova"}),
        ("checked_edit", "GET", f"{base}/modifica", None),
        ("checked_edit_post", "POST", f"{base}/modifica", {"campo_0": "zona", "valore_0": "nord", "motivo": "prova"}),
        ("migrate", "GET", f"{base}/migra?versione={version_id}", None),
        ("migrate_post", "POST", f"{base}/migra", {"versione": str(version_id), "motivo": "prova"}),
        ("start_batch", "POST", "/admin/operazioni", {"operazione": "retry", "conferma": "1"}),
        ("batches", "GET", "/admin/operazioni", None),
        ("batch_page", "GET", f"/admin/operazioni/{batch_id}", None),
        ("cancel", "POST", f"/admin/operazioni/{batch_id}/annulla", {}),
        ("incidents", "GET", "/admin/errori", None),
        ("incident", "GET", errore, None),
        ("incident_retry", "POST", f"{errore}/riprova", {}),
        ("incident_skip", "POST", f"{errore}/salta", {"motivo": "prova"}),
        ("incident_edit", "POST", f"{errore}/correggi", {"dati": "{}", "motivo": "prova"}),
        ("incident_assign", "POST", f"{errore}/incarico", {}),
        ("incident_comment", "POST", f"{errore}/commento", {"testo": "prova"}),
        ("incident_resolve", "POST", f"{errore}/chiudi", {"motivo": "prova"}),
        ("incident_group", "POST", "/admin/errori/gruppo", {"azione": "retry", "tipo": "arithmetic",
                                                            "versione": str(incident.process_version_id),
                                                            "elemento": "calcolo"}),
        ("heat", "GET", "/admin/processi/pratica_admin/versioni/1/mappa", None),
        ("heat_cases", "GET", "/admin/processi/pratica_admin/versioni/1/mappa/raccolta", None),
        ("save_view", "POST", "/admin/viste", {"nome": "prova", "filtri": "zona=pistoiese"}),
        ("delete_view", "POST", f"/admin/viste/{view.id}/elimina", {}),
        ("definitions", "GET", "/admin/processi", None),
        ("definition", "GET", "/admin/processi/pratica_admin", None),
        ("diff", "GET", "/admin/processi/pratica_admin/confronto?da=1&a=2", None),
        ("version_diagram", "GET", f"/admin/processi/versioni/{version_id}/diagramma.bpmn", None),
        ("deploy", "GET", "/admin/processi/pubblica", None),
        ("deploy_post", "POST", "/admin/processi/pubblica", {}),
        ("modeler", "GET", f"{modeler}/modeler", None),
        ("modeler_diagram", "GET", f"{modeler}/modeler/diagramma.bpmn", None),
        ("modeler_check", "POST", f"{modeler}/modeler/verifica", {}),
        ("modeler_save", "POST", f"{modeler}/bozze", {}),
        ("modeler_scenarios", "POST", f"{modeler}/bozze/{draft}/scenari", {}),
        ("modeler_impact", "GET", f"{modeler}/bozze/{draft}/impatto", None),
        ("modeler_publish", "POST", f"{modeler}/bozze/{draft}/pubblica", {}),
        ("modeler_form", "GET", "/admin/processi/modulo?chiave=raccolta", None),
        ("versions", "GET", f"{modeler}/versioni", None),
        ("scheduler", "GET", "/admin/scheduler", None),
        ("data_protection", "GET", "/admin/protezione-dati", None),
        ("data_export", "POST", "/admin/protezione-dati/archivio", {"codice_fiscale": "RSSMRA80A01G713G"}),
        ("retention_run", "POST", "/admin/protezione-dati/conservazione", {"modalita": "prova"}),
        ("retention_detail", "GET", f"/admin/protezione-dati/conservazione/{run_id}", None),
        ("legal_hold", "POST", "/admin/protezione-dati/blocco-legale", {"id_caso": instance_id, "motivo": "prova"}),
        ("mail_now", "POST", "/admin/scheduler/posta/1/invia", {}),
        ("meeting_retry", "POST", "/admin/scheduler/riunioni/nord-20260113/riprova", {}),
        ("accounts", "GET", "/admin/utenti", None),
        ("enable_account", "POST", "/admin/utenti/nessuno/abilita", {"role": "cpi", "zones": "nord"}),
    ]


def test_every_admin_route_is_listed(admin_app, urls) -> None:
    rules = {r.endpoint for r in admin_app.url_map.iter_rules() if r.endpoint.startswith("admin.")}
    listed = {"admin." + name.removesuffix("_post") for name, *_ in urls}
    assert rules == listed


@pytest.mark.parametrize("username", [u for u in PEOPLE if u != "admin"])
def test_other_roles_are_refused_everywhere_except_analysts_on_processes(login, urls, username) -> None:
    person = login(username)
    for name, method, url, form in urls:
        response = person.get(url) if method == "GET" else person.post(url, form)
        allowed = PEOPLE[username][0] == "analyst" and name.removesuffix("_post") in ANALYST_PAGES
        if allowed:
            assert response.status_code in (200, 400), (name, response.status_code)
        else:
            assert response.status_code == 403, (username, name, response.status_code)
            assert "Laura" not in response.get_data(as_text=True)


def test_the_administrator_opens_every_page(login, urls) -> None:
    person = login("admin")
    for name, method, url, _ in urls:
        if method == "GET":
            assert person.get(url).status_code in (200, 400), name


def test_every_post_needs_the_csrf_token(login, urls) -> None:
    person = login("admin")
    for name, method, url, form in urls:
        if method == "POST":
            response = person.client.post(url, data=form or {})
            assert response.status_code == 400, name
            assert "sessione del modulo" in response.get_data(as_text=True)


def test_anonymous_visitors_go_to_the_login(admin_app, urls) -> None:
    client = admin_app.test_client()
    for name, method, url, _ in urls:
        if method == "GET":
            response = client.get(url)
            assert response.status_code == 302 and "/accesso" in response.headers["Location"], name


def test_the_menu_offers_the_console_to_admins_and_processes_to_analysts(login) -> None:
    assert 'href="/admin/istanze"' in login("admin").text("/attivita")
    analyst = login("analista").text("/attivita")
    assert 'href="/admin/processi"' in analyst and 'href="/admin/istanze"' not in analyst
    assert "/admin/" not in login("cpi.nord").text("/attivita")


def test_ids_beyond_what_the_database_stores_are_not_found(login) -> None:
    client = login("admin")
    for url in ("/admin/errori/9999999999", "/admin/protezione-dati/conservazione/9999999999",
                "/admin/processi/versioni/9999999999/diagramma.bpmn"):
        assert client.get(url).status_code == 404, url
