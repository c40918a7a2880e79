from __future__ import annotations
import json
from datetime import datetime, timedelta
from sqlalchemy import select, or_
from gol_workflow.persistence.tables import audit_events, tasks
from gol_workflow.services.cases import monitoring
from tests.integration.percorso4_support import (LUCIA, SARA, PROGETTO, Percorso4, local_day, p4, scheda, smtp)  # noqa
from tests.integration.test_percorso4_path import into_the_path, answer_reminders_until, at


def test_dump(p4: Percorso4) -> None:
    case = p4.open_case("pistoiese", SARA)
    into_the_path(p4, case)
    end = datetime.fromisoformat(p4.data(case)["data_fine_percorso"])
    answer_reminders_until(p4, case, at(2026, 5, 1))
    p4.advance_to(at(2026, 5, 14, 10, 0))
    monitoring.request_monitoring(p4.rt, case, "Ha lasciato il tirocinio.", p4.actors["sds.pistoia"])
    p4.rt.workflows.clear()
    p4.complete("monitoraggio", case, p4.monitoraggio(modifica=True), "cm.rossi")
    review = p4.meetings_of(case)[-1]
    p4.hold_meeting(review["id"], {case: scheda(presente=True, nota="corso di formazione", misure=["formazione"])}, by="sds.pistoia")
    p4.complete("aggiorna_progetto", case, {**PROGETTO, "modifiche_concordate": "Tirocinio sostituito da un corso.",
                                            "data_sottoscrizione_progetto": "2026-06-12"}, "cm.rossi")
    answer_reminders_until(p4, case, end)
    p4.advance_to(end + timedelta(minutes=1))
    p4.complete("monitoraggio_finale", case, {"data_monitoraggio_finale": local_day(p4.now()),
                                              "esito": "in_formazione", "obiettivi_raggiunti": "in_parte"}, "cpi.pistoia")
    with p4.rt.uow(write=False) as uow:
        rows = uow.conn.execute(select(audit_events).order_by(audit_events.c.id)).mappings().all()
        rec = uow.case_list.get(case)
    with open("/tmp/h1_dump.txt", "w") as f:
        f.write(f"CASE {case}\n")
        for r in rows:
            f.write(f"{r['id']} {r['at']} {r['actor']} {r['action']} inst={r['instance_id']} task={r['task_id']} el={r['element_id']} {json.dumps(r['data'], default=str, ensure_ascii=False)}\n")
        f.write(json.dumps(rec, default=str, ensure_ascii=False, indent=1))


def test_page(p4: Percorso4) -> None:
    from tests.integration.test_case_list_percorso4 import logged_in
    from tests.web.test_words import visible
    case = p4.open_case("pistoiese", SARA)
    into_the_path(p4, case)
    end = datetime.fromisoformat(p4.data(case)["data_fine_percorso"])
    answer_reminders_until(p4, case, at(2026, 5, 1))
    p4.advance_to(at(2026, 5, 14, 10, 0))
    sds = logged_in(p4, "sds.pistoia")
    sds.text(f"/casi/{case}")
    r = sds.post(f"/casi/{case}/modifica-sostanziale", {"descrizione": "Ha lasciato il tirocinio.", "conferma": "1"})
    assert r.status_code == 302
    p4.rt.workflows.clear()
    p4.complete("monitoraggio", case, p4.monitoraggio(modifica=True), "cm.rossi")
    review = p4.meetings_of(case)[-1]
    p4.hold_meeting(review["id"], {case: scheda(presente=True, nota="corso di formazione", misure=["formazione"])}, by="sds.pistoia")
    p4.complete("aggiorna_progetto", case, {**PROGETTO, "modifiche_concordate": "Tirocinio sostituito da un corso.",
                                            "data_sottoscrizione_progetto": "2026-06-12"}, "cm.rossi")
    answer_reminders_until(p4, case, end)
    p4.advance_to(end + timedelta(minutes=1))
    p4.complete("monitoraggio_finale", case, {"data_monitoraggio_finale": local_day(p4.now()),
                                              "esito": "in_formazione", "obiettivi_raggiunti": "in_parte"}, "cpi.pistoia")
    cpi = logged_in(p4, "cpi.pistoia")
    for _ in range(3):
        page = cpi.text(f"/casi/{case}")
    open("/tmp/h1_page.html", "w").write(page)
    open("/tmp/h1_page.txt", "w").write(visible(page))
    pdf = cpi.get(f"/casi/{case}/fascicolo.pdf")
    assert pdf.status_code == 200, pdf.get_data(as_text=True)[:3000]
    open("/tmp/h1_file.pdf", "wb").write(pdf.data)
