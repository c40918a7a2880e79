"""The indicators over the API and on the «Indicatori» page: the known population, roles, exports, charts, forecast."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest
from argon2 import PasswordHasher
from flask import Flask
from openpyxl import load_workbook

from gol_workflow.services.access import tokens, users
from gol_workflow.services.administration import deployment
from gol_workflow.services.workflow.runtime import Runtime
from gol_workflow.web import create_app
from tests.conftest import ADMIN, ROOT
from tests.integration.test_indicators import populate
from tests.web.conftest import Browser

PASSWORD = "password-di-prova"
ACCOUNTS = {
    "admin": ("admin", []),
    "resp.pistoia": ("manager", ["pistoiese"]),
    "cpi.pistoia": ("cpi", ["pistoiese"]),
    "cpi.pescia": ("cpi", ["valdinievole"]),
    "cm.bianchi": ("ats", ["pistoiese", "valdinievole"]),
    "cm.verdi": ("ats", ["valdinievole"]),
}
Q1 = "from=2026-01-01&to=2026-03-31"


@pytest.fixture
def world(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Flask, Runtime, dict[str, str]]]:
    monkeypatch.setattr(users, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    deployment.deploy(runtime, deployment.read_sources(ROOT / "processes", ROOT / "forms"), ADMIN)
    for username, (role, zones) in ACCOUNTS.items():
        users.add_user(runtime, username, role, ADMIN, zones, [], PASSWORD, username.title())
    ids = populate(runtime)
    yield create_app(runtime, {"TESTING": True}), runtime, ids


def call(app: Flask, rt: Runtime, username: str, method: str, url: str, body: Any = None) -> Any:
    token = tokens.issue_token(rt, username, ADMIN).secret
    client = app.test_client()
    return client.open(url, method=method, json=body, headers={"Authorization": f"Bearer {token}"})


def login(app: Flask, username: str) -> Browser:
    person = Browser(app.test_client())
    assert person.post("/accesso", {"username": username, "password": PASSWORD}).status_code == 302
    return person


def test_the_api_answers_the_hand_counted_figures(world: tuple[Flask, Runtime, dict[str, str]]) -> None:
    app, rt, _ = world
    response = call(app, rt, "admin", "GET", f"/api/v1/indicators?zone=pistoiese&{Q1}")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    items = {i["id"]: i for i in body["items"]}
    assert set(items["destinatari_presi_in_carico"]) >= {"id", "label", "source", "value", "numerator",
                                                         "denominator", "target", "unit"}
    assert items["destinatari_presi_in_carico"]["label"] == "Numero di destinatari presi in carico"
    assert items["destinatari_presi_in_carico"]["value"] == 8
    assert items["inserimenti_lavorativi"]["value"] == 6
    assert items["inserimenti_laboratori_protetti"] == {**items["inserimenti_laboratori_protetti"], "value": None,
                                                        "numerator": None, "suppressed": True}
    yoy = items["prese_in_carico_integrate_anno_su_anno"]
    assert (yoy["value"], yoy["numerator"], yoy["denominator"], yoy["target"], yoy["unit"]) == (160.0, 8, 5, 30.0, "%")
    assert items["incontri_coordinamento"]["target"] == 20 and items["incontri_coordinamento"]["value"] == 3
    january = next(r for r in body["waiting"] if r["month"] == "2026-01")
    assert january["profiling"]["p50"] == 2.5
    assert body["from"] == "2026-01-01" and body["to"] == "2026-03-31"

    service = call(app, rt, "admin", "GET", f"/api/v1/indicators?{Q1}").get_json()
    assert {i["id"]: i for i in service["items"]}["destinatari_presi_in_carico"]["value"] == 10
    assert call(app, rt, "admin", "GET", "/api/v1/indicators?zone=pistoiese&from=2026-04-01&to=2026-03-01"
                ).status_code == 400
    assert call(app, rt, "admin", "GET", "/api/v1/indicators?zone=nowhere").status_code == 404


def test_a_manager_reads_their_zone_only_and_operators_none(world: tuple[Flask, Runtime, dict[str, str]]) -> None:
    app, rt, ids = world
    assert call(app, rt, "resp.pistoia", "GET", f"/api/v1/indicators?zone=pistoiese&{Q1}").status_code == 200
    assert call(app, rt, "resp.pistoia", "GET", f"/api/v1/indicators?zone=valdinievole&{Q1}").status_code == 403
    assert call(app, rt, "resp.pistoia", "GET", f"/api/v1/indicators?{Q1}").status_code == 403
    assert call(app, rt, "cpi.pistoia", "GET", f"/api/v1/indicators?zone=pistoiese&{Q1}").status_code == 403
    # never a person's data
    assert call(app, rt, "resp.pistoia", "GET", f"/api/v1/cases/{ids['c1']}").status_code == 404
    assert call(app, rt, "resp.pistoia", "GET", "/api/v1/cases").get_json()["total"] == 0
    page = login(app, "resp.pistoia")
    assert page.get(f"/casi/{ids['c1']}").status_code in (403, 404)
    assert page.get("/indicatori?zona=tutte").status_code == 403
    assert page.get("/indicatori?zona=valdinievole").status_code == 403
    assert "Indicatori" in page.text("/attivita")  # the menu entry


def test_the_page_exports_and_charts(world: tuple[Flask, Runtime, dict[str, str]]) -> None:
    app, _, _ = world
    page = login(app, "resp.pistoia")
    html = page.text("/indicatori?zona=pistoiese&dal=2026-01-01&al=2026-03-31")
    assert "Numero di destinatari presi in carico" in html and "almeno 20" in html
    # each chart is drawn from the table beside it, which carries the numbers
    assert 'data-chart-table="tabella-indicatori"' in html and 'id="tabella-indicatori"' in html
    assert 'data-chart-table="tabella-attese"' in html and 'data-value="2.5"' in html
    for asset in ("/static/vendor/chart.js/chart.umd.min.js", "/static/js/indicator-charts.js"):
        served = page.get(asset)
        assert served.status_code == 200
        served.close()
    exported = page.get("/indicatori/esporta.csv?zona=pistoiese&dal=2026-01-01&al=2026-03-31")
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    by_id = {r[0]: r for r in rows if r}
    assert by_id["destinatari_presi_in_carico"][3] == "8.0"
    assert by_id["inserimenti_laboratori_protetti"][3] == "" and by_id["inserimenti_laboratori_protetti"][8] == "sì"
    book = load_workbook(io.BytesIO(page.get(
        "/indicatori/esporta.xlsx?zona=pistoiese&dal=2026-01-01&al=2026-03-31").data))
    sheet = book["Indicatori"]
    values = {row[0].value: row[3].value for row in sheet.iter_rows(min_row=3)}
    assert values["destinatari_presi_in_carico"] == 8 and values["inserimenti_laboratori_protetti"] is None
    waits = list(book["Tempi di attesa"].iter_rows(min_row=2, values_only=True))
    assert ("pistoiese", "2026-01", "Dall'accesso alla profilazione", 8, 2.5, 6.5) in waits


def test_the_register_and_placements_over_api_and_page(world: tuple[Flask, Runtime, dict[str, str]]) -> None:
    app, rt, ids = world
    body = {"zone": "pistoiese", "held_on": "2026-02-20", "kind": "formazione", "topic": "Formazione GOL",
            "participants": 12}
    assert call(app, rt, "resp.pistoia", "POST", "/api/v1/indicators/meetings", body).status_code == 201
    assert call(app, rt, "cpi.pescia", "POST", "/api/v1/indicators/meetings", body).status_code == 403
    assert call(app, rt, "resp.pistoia", "POST", "/api/v1/indicators/meetings",
                {**body, "kind": "gita"}).status_code == 400
    found = call(app, rt, "admin", "GET", f"/api/v1/indicators?zone=pistoiese&{Q1}").get_json()
    assert {i["id"]: i for i in found["items"]}["incontri_coordinamento"]["value"] == 4
    page = login(app, "cpi.pistoia")
    page.get("/attivita")
    response = page.post("/indicatori/incontri", {"zone": "pistoiese", "held_on": "2026-03-02",
                                                   "kind": "coordinamento", "topic": "Tavolo", "participants": "5"})
    assert response.status_code == 403  # the zone's managers keep the register
    manager = login(app, "resp.pistoia")
    manager.get("/indicatori")
    response = manager.post("/indicatori/incontri", {"zone": "pistoiese", "held_on": "2026-03-02",
                                                      "kind": "coordinamento", "topic": "Tavolo", "participants": "5"})
    assert response.status_code == 302
    assert "Tavolo" in manager.text("/indicatori?zona=pistoiese")
    with rt.uow(write=False) as uow:
        assert len(uow.operator_meetings.of_zones(["pistoiese"], None, None)) == 6

    placement = {"kind": "assunzione", "sector": "industria", "start_date": "2026-03-10"}
    assert call(app, rt, "cpi.pistoia", "POST", f"/api/v1/cases/{ids['c8']}/placements",
                placement).status_code == 409  # no path
    assert call(app, rt, "cpi.pescia", "POST", f"/api/v1/cases/{ids['c1']}/placements",
                placement).status_code == 404
    assert call(app, rt, "cpi.pistoia", "POST", f"/api/v1/cases/{ids['c1']}/placements",
                placement).status_code == 201
    listed = call(app, rt, "cpi.pistoia", "GET", f"/api/v1/cases/{ids['c1']}/placements").get_json()
    assert [(i["kind"], i["start_date"]) for i in listed["items"]] == [
        ("tirocinio", "2026-02-01"), ("assunzione", "2026-03-01"), ("assunzione", "2026-03-10")]
    page.get(f"/casi/{ids['c1']}/inserimenti/nuovo")
    response = page.post(f"/casi/{ids['c1']}/inserimenti/nuovo", {
        "kind": "laboratorio_protetto", "sector": "terzo_settore", "start_date": "2026-03-12"})
    assert response.status_code == 302
    listed = call(app, rt, "cpi.pistoia", "GET", f"/api/v1/cases/{ids['c1']}/placements").get_json()
    assert listed["items"][-1]["kind"] == "laboratorio_protetto" and listed["items"][-1]["recorded_by"] == "cpi.pistoia"
    refused = page.post(f"/casi/{ids['c1']}/inserimenti/nuovo", {"kind": "", "sector": "", "start_date": ""})
    assert refused.status_code == 422 and "Scegliere il tipo di inserimento." in refused.get_data(as_text=True)


def test_the_forecast_over_the_api(world: tuple[Flask, Runtime, dict[str, str]]) -> None:
    app, rt, _ = world
    response = call(app, rt, "admin", "GET", "/api/v1/indicators/forecast?zone=valdinievole&start=2026-01-05"
                                             "&weeks=65&people=400&cadence_weeks=2")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    # 400 people over 65 weeks: about 6.15 a week; weekly meetings take them all, fortnightly twice as many each
    assert body["people"] == 400 and len(body["baseline"]["weeks"]) == 65
    assert body["baseline"]["mean_agenda"] == pytest.approx(400 / 65, rel=0.02)
    assert body["changed"]["mean_agenda"] == pytest.approx(2 * 400 / 65, rel=0.03)
    assert body["changed"]["mean_wait"] > body["baseline"]["mean_wait"]
    assert call(app, rt, "resp.pistoia", "GET", "/api/v1/indicators/forecast?zone=valdinievole").status_code == 403
    page = login(app, "admin")
    html = page.text("/indicatori?p_zona=valdinievole&p_inizio=2026-01-05&p_settimane=65&p_persone=400"
                     "&p_case_manager=1")
    assert "1 case manager in più" in html and "Tabella settimanale" in html


def test_the_openapi_document_describes_the_indicators(world: tuple[Flask, Runtime, dict[str, str]]) -> None:
    app, rt, _ = world
    doc = call(app, rt, "admin", "GET", "/api/openapi.json").get_json()
    assert "/api/v1/indicators" in doc["paths"] and "/api/v1/indicators/forecast" in doc["paths"]
    assert "/api/v1/cases/{case_id}/placements" in doc["paths"]
    props = doc["components"]["schemas"]["Indicator"]["properties"]
    assert {"id", "label", "source", "value", "numerator", "denominator", "target", "unit"} <= set(props)
