"""Zones are configuration: a third Tuscan zone, meeting every fifteen days, added with one file and no code."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from gol_workflow.clock import ManualClock
from gol_workflow.config import Settings
from gol_workflow.services import case_start
from tests.conftest import ROME, ROOT
from tests.integration.percorso4_support import (  # noqa: F401 - fixtures
    ANNA,
    LUCIA,
    PROGETTO,
    Percorso4,
    add_account,
    build,
    profilo,
    scheda,
    smtp,
)
from tests.integration.scheduling_support import SmtpServer

EMPOLESE = """\
# Zona Empolese Valdarno Inferiore: equipe GOL Percorso 4 con la SdS Empolese Valdarno Inferiore.
id = "empolese"
nome = "Zona Empolese Valdarno Inferiore"
sds = "SdS Empolese Valdarno Inferiore"

[[cpi]]
nome = "Centro per l'impiego di Empoli"
indirizzo = "Via Livornese 101, 50053 Empoli"
email = "cpi.empoli@arti.toscana.example.it"

[equipe]
giorno = "mercoledi"
ora = "10:00"
cadenza = "quindicinale"        # laddove non necessario, una volta ogni quindici giorni
prima_riunione = "2026-01-14"
luogo = "Società della Salute Empolese Valdarno Inferiore, sala riunioni, Empoli"
preavviso_giorni = 5
referenti = ["equipe.gol@sds-empolese.example.it"]
festivi_locali = ["11-30"]      # Sant'Andrea, patrono di Empoli

[ats]
giorni = ["martedi", "giovedi"]
orari = ["09:30", "11:30"]

[[servizi_specialistici]]
id = "salute_mentale"
nome = "Salute mentale adulti (UFSMA Empoli)"
referenti = ["ufsma.empoli@uslcentro.example.it"]
"""


@pytest.fixture
def three_zones(settings: Settings, clock: ManualClock, smtp: SmtpServer, tmp_path: Path) -> Iterator[Percorso4]:
    """The service with the two shipped zones and a third one added as a file, and its operators."""
    zones = tmp_path / "zones"
    shutil.copytree(ROOT / "zones", zones)
    (zones / "empolese.toml").write_text(EMPOLESE, encoding="utf-8")
    service = build(settings, clock, smtp, zones_dir=zones)
    for username, role, name in (("cpi.empoli", "cpi", "Elena Cioni"), ("sds.empoli", "sds", "Franco Bini"),
                                 ("cm.empoli", "ats", "Gianni Mori")):
        service.actors[username] = add_account(service.rt, username, role, ["empolese"], name)
    yield service
    service.rt.db.dispose()


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ROME)


def test_path_8_a_third_zone_meeting_every_fifteen_days_runs_a_case_without_code_changes(three_zones: Percorso4) -> None:
    p4 = three_zones
    assert sorted(p4.rt.zones) == ["empolese", "pistoiese", "valdinievole"]
    start = case_start.find_startable(p4.rt, p4.actors["cpi.empoli"], "percorso4")
    assert start.options["zona"] == [("empolese", "Zona Empolese Valdarno Inferiore")]
    first = p4.open_case("empolese", LUCIA, by="cpi.empoli")
    page = p4.task_page("profilazione", first, "cpi.empoli")
    assert [value for value, _ in page.options["servizi_specialistici"]] == ["salute_mentale"]
    p4.complete("profilazione", first, profilo(servizi=["salute_mentale"]), "cpi.empoli")
    assert p4.data(first)["data_equipe"] == "2026-01-14T10:00:00+01:00"

    p4.advance_to(at(2026, 1, 10, 9, 0))  # Saturday: the 14 January agenda closed on the 9th at 10:00
    late = p4.open_case("empolese", ANNA, by="cpi.empoli")
    p4.complete("profilazione", late, profilo(), "cpi.empoli")
    assert p4.data(late)["data_equipe"] == "2026-01-28T10:00:00+01:00"  # no meeting on the 21st: fortnightly
    mails = {tuple(m["recipients"]): m["body"] for m in p4.outbox_rows()}
    assert "Salute mentale adulti (UFSMA Empoli), per: Bianchi Lucia" in mails[("equipe.gol@sds-empolese.example.it",)]
    assert "Bianchi Lucia" in mails[("ufsma.empoli@uslcentro.example.it",)]  # the invited service's own message

    p4.hold_meeting("empolese-20260114", {first: scheda(presente=True)}, by="sds.empoli")
    page = p4.task_page("prenota_primo_appuntamento", first, "cpi.empoli")
    assert page.options["case_manager"] == [("cm.empoli", "Gianni Mori")]
    assert [v for v, _ in page.options["ats_slot"][:3]] == [
        "2026-01-15T09:30:00+01:00", "2026-01-15T11:30:00+01:00", "2026-01-20T09:30:00+01:00"]
    slot = p4.book_first_appointment(first, "cm.empoli", "cpi.empoli")
    p4.start_path(first, "cm.empoli", slot)
    p4.complete("progetto_individualizzato", first, PROGETTO, "cm.empoli")
    assert p4.data(first)["data_fine_percorso"] == "2027-01-15T00:00:00+01:00"

    p4.advance_to(at(2026, 1, 28, 10, 1))
    assert p4.ready(late) == ["scheda_esito"]
    assert [r["id"] for r in p4.meetings_of(late)] == ["empolese-20260128"]
