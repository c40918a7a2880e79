"""Retention: closed cases anonymised after their zone's period, attachments deleted, legal hold respected."""

from __future__ import annotations

from datetime import datetime, timedelta

from gol_workflow.services.cases import attachments as attachment_service
from tests.conftest import ROME
from tests.integration.percorso4_support import (  # noqa: F401 - fixtures
    LUCIA,
    PROGETTO,
    Percorso4,
    local_day,
    p4,
    profilo,
    scheda,
    smtp,
)
from tests.integration.retention_support import traces
from tests.integration.test_percorso4_path import answer_reminders_until, into_the_path

LUCIA_MAIL = {**LUCIA, "email": "lucia.bianchi@example.org"}
NEEDLES = ("Bianchi", "Lucia", LUCIA["codice_fiscale"], "1980-01-01", "01/01/1980", "lucia.bianchi@example.org",
           "rete familiare fragile", "Motivato/a")


def walk_to_the_end(p4: Percorso4) -> str:
    case = p4.open_case("pistoiese", LUCIA_MAIL)
    attachment_service.upload(p4.rt, case, "documento-lucia-bianchi.pdf", b"%PDF-1.4 Lucia Bianchi\n%%EOF",
                              "allegato", p4.actors["cpi.pistoia"])
    start = into_the_path(p4, case)
    end = datetime.fromisoformat(p4.data(case)["data_fine_percorso"])
    answer_reminders_until(p4, case, end)
    p4.advance_to(end + timedelta(minutes=1))
    p4.final(case, {"data_monitoraggio_finale": local_day(p4.now()), "esito": "occupato",
                    "tipo_contratto": "tempo_determinato", "obiettivi_raggiunti": "raggiunti"}, "cpi.pistoia")
    assert p4.header(case)["status"] == "completed", start
    return case


def test_explore(p4: Percorso4) -> None:
    case = walk_to_the_end(p4)
    from gol_workflow.services.data_protection import retention
    from tests.conftest import ADMIN
    p4.advance(timedelta(days=365 * 10 + 5))
    report = retention.run(p4.rt, ADMIN)
    print(report.rows())
    found = traces(p4.rt, NEEDLES)
    print(found)
    import json
    from sqlalchemy import select
    from gol_workflow.persistence.tables import instances
    def paths(v, path=""):
        if isinstance(v, dict):
            for k, x in v.items():
                yield from paths(x, path + "/" + str(k))
        elif isinstance(v, list):
            for i, x in enumerate(v):
                yield from paths(x, path + f"[{i}]")
        elif isinstance(v, str) and ("fragile" in v or "Motivato" in v):
            yield path
    with p4.rt.uow(write=False) as uow:
        for r in uow.conn.execute(select(instances.c.id, instances.c.process_id, instances.c.state)).all():
            for pth in list(paths(json.loads(r[2])))[:10]:
                print("P", r[1], pth)
    assert False
