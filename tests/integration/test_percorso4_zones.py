"""Zones are configuration: a third Tuscan zone, meeting every fifteen days, added with one file and no code."""

from __future__ import annotations

import base64
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from gol_workflow.clock import ManualClock
from gol_workflow.config import Settings
from gol_workflow.domain.zones import ZoneConfigError
from gol_workflow.services.cases import case_start
from gol_workflow.services.meetings.zones import load_zones
from gol_workflow.web import create_app
from tests.conftest import ROME, ROOT
from tests.integration.percorso4_support import (  # noqa: F401 - fixtures
    ANNA,
    LUCIA,
    PROGETTO,
    Percorso4,
    add_account,
    build,
    p4,
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

    p4.hold_meeting("empolese-20260114", {first: scheda(presente=True, invitati={"salute_mentale": False})},
                    by="sds.empoli")
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


VALDERA = """\
# Zona Distretto Alta Val di Cecina-Valdera: i servizi sociali sono gestiti da un'Unione dei Comuni.
id = "valdera"
nome = "Zona Distretto Alta Val di Cecina-Valdera"
territorio = "Provincia di Pisa"

[servizi_sociali]
tipo = "unione_comuni"
nome = "Unione dei Comuni della Valdera"
email = "sociale@unione.valdera.example.it"

[[cpi]]
nome = "Centro per l'impiego di Pontedera"
indirizzo = "Via Brigate Partigiane 4, 56025 Pontedera"
email = "cpi.pontedera@arti.toscana.example.it"

[equipe]
giorno = "venerdi"
ora = "11:00"
cadenza = "settimanale"
prima_riunione = "2026-01-16"
luogo = "Centro per l'impiego di Pontedera, sala riunioni"
referenti = ["equipe.gol@unione.valdera.example.it"]
"""


def test_a_zone_whose_social_services_are_a_unione_dei_comuni_is_added_with_a_file(
    settings: Settings, clock: ManualClock, smtp: SmtpServer, tmp_path: Path
) -> None:
    zones = tmp_path / "zones"
    shutil.copytree(ROOT / "zones", zones)
    (zones / "valdera.toml").write_text(VALDERA, encoding="utf-8")
    p4 = build(settings.with_overrides(service_name="Regione Toscana · GOL in tre zone"), clock, smtp, zones_dir=zones)
    try:
        p4.actors["cpi.pontedera"] = add_account(p4.rt, "cpi.pontedera", "cpi", ["valdera"], "Rita Conti")
        zone = p4.rt.zones["valdera"]
        assert (zone.social_services.kind_label, zone.social_services.name) == (
            "Unione dei Comuni", "Unione dei Comuni della Valdera")

        case = p4.open_case("valdera", LUCIA, by="cpi.pontedera")
        p4.complete("profilazione", case, profilo(), "cpi.pontedera")
        assert p4.data(case)["data_equipe"] == "2026-01-16T11:00:00+01:00"
        p4.advance_to(at(2026, 1, 11, 11, 1))  # the cut-off: the ordine del giorno leaves
        (mail,) = [m for m in p4.outbox_rows() if m["recipients"] == ["equipe.gol@unione.valdera.example.it"]]
        assert "della Zona Distretto Alta Val di Cecina-Valdera (Centro per l'impiego di Pontedera e servizi " \
               "sociali (Unione dei Comuni: Unione dei Comuni della Valdera))" in mail["body"]
        assert "convocata dal Centro per l'impiego di Pontedera (Via Brigate Partigiane 4" in mail["body"]
        ics = base64.b64decode(mail["attachments"][0]["content_b64"]).decode()
        organiser = next(line for line in ics.replace("\r\n ", "").splitlines() if line.startswith("ORGANIZER"))
        assert 'CN="Centro per l\'impiego di Pontedera"' in organiser or "CN=Centro per l'impiego di Pontedera" in organiser
        assert organiser.endswith("mailto:cpi.pontedera@arti.toscana.example.it")

        page = create_app(p4.rt, {"TESTING": True}).test_client().get("/accesso").get_data(as_text=True)
        assert "Provincia di Pistoia" not in page  # several territories: the service-wide name from the settings
        assert "Regione Toscana · GOL in tre zone" in page
        assert "Unione dei Comuni della Valdera" in page and "Centro per l&#39;impiego di Pontedera" in page
    finally:
        p4.rt.db.dispose()


def test_the_shipped_zones_name_their_territory_in_the_header_and_their_cpi_as_organiser(p4: Percorso4) -> None:
    page = create_app(p4.rt, {"TESTING": True}).test_client().get("/accesso").get_data(as_text=True)
    assert "Regione Toscana · Provincia di Pistoia" in page  # from the zone files' territorio
    assert "SdS Pistoiese, SdS Valdinievole" in page
    assert [z.name for _, z in sorted(p4.rt.zones.items())] == ["Zona Distretto Pistoiese", "Zona Distretto Valdinievole"]
    case = p4.open_case("pistoiese", LUCIA)
    p4.complete("profilazione", case, profilo(), "cpi.pistoia")
    p4.advance_to(at(2026, 1, 8, 9, 31))
    (mail,) = [m for m in p4.outbox_rows() if m["recipients"] == ["equipe.gol@sds-pistoiese.example.it"]]
    ics = base64.b64decode(mail["attachments"][0]["content_b64"]).decode().replace("\r\n ", "")
    assert "mailto:cpi.pistoia@arti.toscana.example.it" in ics and "SdS Pistoiese" not in ics.split("ORGANIZER")[1][:200]


@pytest.mark.parametrize(("change", "message"), [
    (("tipo = \"unione_comuni\"", "tipo = \"consorzio\""), "valdera.toml: servizi_sociali.tipo: 'consorzio' is not one of"),
    (("email = \"cpi.pontedera@arti.toscana.example.it\"\n", ""), "valdera.toml: cpi[1].email: missing"),
    (("giorno = \"venerdi\"", "giorno = \"festa\""), "valdera.toml: equipe.giorno: 'festa' is not a weekday"),
    (("[servizi_sociali]\ntipo = \"unione_comuni\"\nnome = \"Unione dei Comuni della Valdera\"\n", ""),
     "valdera.toml: servizi_sociali: missing"),
])
def test_a_bad_zone_file_is_refused_naming_the_file_and_the_key(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    (tmp_path / "valdera.toml").write_text(VALDERA.replace(*change), encoding="utf-8")
    with pytest.raises(ZoneConfigError) as refused:
        load_zones(tmp_path)
    assert str(refused.value).startswith(message)
