"""Percorso 4, steps 1-4, through the service: assessment, the equipe agenda and meeting, the first appointment."""

from __future__ import annotations

from datetime import datetime
from io import BytesIO

import pytest
from pypdf import PdfReader

from gol_workflow.domain.errors import NotFound
from tests.conftest import ROME
from tests.integration.percorso4_support import (  # noqa: F401 - fixtures
    ANNA,
    LUCIA,
    MARCO,
    PAOLO,
    Percorso4,
    p4,
    profilo,
    scheda,
    smtp,
)


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ROME)


def test_path_1_a_person_unknown_to_the_social_service_attends_the_equipe(p4: Percorso4) -> None:
    case = p4.open_case("pistoiese", LUCIA)
    assert p4.ready(case) == ["profilazione"]
    p4.complete("profilazione", case, profilo(conosciuto=False), "cpi.pistoia")

    # Monday 5 January: the agenda of Tuesday 13 January closes on Thursday 8 at 09:30.
    data = p4.data(case)
    assert data["percorso"] == 4
    assert data["iscrizione_equipe"]["riunione_id"] == "pistoiese-20260113"
    assert data["data_equipe"] == "2026-01-13T09:30:00+01:00"
    assert p4.header(case)["status"] == "waiting"
    item = p4.meetings_of(case)[0]["items"][case]["item"]
    assert item["conosciuto_servizio_sociale"] is False and item["motivo"] == "prima_valutazione"

    p4.advance_to(at(2026, 1, 8, 9, 29))
    assert p4.meeting("pistoiese-20260113")["status"] == "planned"
    p4.advance_to(at(2026, 1, 8, 9, 31))
    assert p4.meeting("pistoiese-20260113")["status"] == "convened"

    # The equipe meets with the person: the scheda records that they took part.
    p4.hold_meeting("pistoiese-20260113", {case: scheda(presente=True)}, by="sds.pistoia")
    assert p4.ready(case) == ["prenota_primo_appuntamento"]  # no "informare il beneficiario" step
    data = p4.data(case)
    assert data["scheda_esito"]["beneficiario_presente"] is True

    # The scheda is attached to the case as a readable document and shared with IDOL.
    (attachment,) = p4.attachments(case, "scheda_esito")
    assert attachment["kind"] == "scheda_esito" and attachment["content_type"] == "application/pdf"
    assert attachment["filename"] == "scheda-esito-lucia-bianchi-2026-01-13.pdf"
    assert data["caricamento_scheda_idol"] == {"documento_id": attachment["id"]}
    with p4.rt.uow(write=False) as uow:
        content = uow.attachments.get(attachment["id"])["content"]
    text = PdfReader(BytesIO(bytes(content))).pages[0].extract_text()
    assert "Lucia Bianchi" in text and "13/01/2026 ore 09:30" in text
    assert "Presa in carico integrata: percorso confermato" in text  # option labels, not codes

    # Step 4: the CPI books the first free slot of the ATS calendar (Wednesday 14 January, 09:00).
    slot = p4.book_first_appointment(case, "cm.rossi", "cpi.pistoia")
    assert slot == "2026-01-14T09:00:00+01:00"
    data = p4.data(case)
    assert data["data_primo_appuntamento"] == slot and data["case_manager"] == "cm.rossi"
    assert data["prenotazione_idol"]["appuntamento_id"]
    assert p4.header(case)["case_manager"] == "cm.rossi"
    assert p4.ready(case) == ["primo_colloquio"]

    start = p4.start_path(case, "cm.rossi", slot)
    assert start == "2026-01-14"
    data = p4.data(case)
    assert data["data_avvio_percorso"] == "2026-01-14"
    assert data["data_fine_percorso"] == "2027-01-14T00:00:00+01:00"
    assert p4.ready(case) == ["progetto_individualizzato"]


def test_path_2_known_to_both_services_the_equipe_meets_without_them_and_the_cpi_informs_them(p4: Percorso4) -> None:
    case = p4.open_case("pistoiese", MARCO)
    p4.complete("profilazione", case, profilo(conosciuto=True), "cpi.pistoia")
    assert p4.meetings_of(case)[0]["items"][case]["item"]["conosciuto_servizio_sociale"] is True
    p4.advance_to(at(2026, 1, 13, 9, 31))
    page = p4.task_page("scheda_esito", case, "sds.pistoia")
    assert "senza il beneficiario" in page.instructions

    p4.hold_meeting("pistoiese-20260113", {case: scheda(presente=False)}, by="sds.pistoia")
    assert p4.ready(case) == ["informa_beneficiario"]
    assert p4.inbox(case_id=case)[0]["lane"] == "CPI"
    informa = p4.task_page("informa_beneficiario", case, "cpi.pistoia")
    assert "senza la sua presenza" in informa.instructions
    p4.complete("informa_beneficiario", case, {"data_incontro_informativo": "2026-01-15",
                                               "modalita_incontro": "presenza"}, "cpi.pistoia")
    assert p4.ready(case) == ["prenota_primo_appuntamento"]
    assert p4.data(case)["data_incontro_informativo"] == "2026-01-15"
    assert len(p4.attachments(case, "scheda_esito")) == 1  # the scheda was shared once, before informing the person


def test_path_3_particular_needs_invite_the_specialist_services_that_follow_the_person(p4: Percorso4) -> None:
    marco = p4.open_case("valdinievole", MARCO)
    anna = p4.open_case("valdinievole", ANNA)
    p4.complete("profilazione", marco, profilo(conosciuto=True, servizi=["dipendenze"]), "cpi.pescia")
    p4.complete("profilazione", anna, profilo(conosciuto=False), "cpi.pescia")
    assert p4.agenda("valdinievole-20260115") == sorted([marco, anna])
    assert p4.outbox_rows() == []

    p4.advance_to(at(2026, 1, 10, 10, 1))  # the cut-off: Saturday 10 January 10:00
    sds, serd = p4.outbox_rows()
    assert sds["recipients"] == ["equipe.gol@sds-valdinievole.example.it"]
    assert "Dipendenze (SerD), per: Rossi Marco" in sds["body"]
    assert "Verdi Anna" in sds["body"] and "Salute mentale" not in sds["body"]
    # The SerD is invited with a message of its own that names only the person it follows.
    assert serd["recipients"] == ["serd.valdinievole@uslcentro.example.it"]
    assert "Rossi Marco" in serd["body"] and "Verdi Anna" not in serd["body"]
    assert sds["status"] == serd["status"] == "sent"
    received = {tuple(r): m for _, r, m in p4.smtp.mailbox.messages}
    assert set(received) == {tuple(sds["recipients"]), tuple(serd["recipients"])}
    assert "Dipendenze (SerD)" in received[tuple(sds["recipients"])].get_body(preferencelist=("plain",)).get_content()

    p4.advance_to(at(2026, 1, 15, 10, 1))
    marco_page = p4.task_page("scheda_esito", marco, "sds.pescia")
    assert "servizi specialistici (Dipendenze (SerD))" in marco_page.instructions
    anna_page = p4.task_page("scheda_esito", anna, "sds.pescia")
    assert "specialistici" not in anna_page.instructions
    p4.hold_meeting("valdinievole-20260115", {marco: scheda(presente=False, nota="scheda di Marco",
                                                                     invitati={"dipendenze": False}),
                                              anna: scheda(presente=True, nota="scheda di Anna")}, by="sds.pescia")
    assert p4.data(marco)["scheda_esito"]["note"] == "scheda di Marco"
    assert p4.data(anna)["scheda_esito"]["note"] == "scheda di Anna"
    assert p4.ready(marco) == ["informa_beneficiario"] and p4.ready(anna) == ["prenota_primo_appuntamento"]


def test_path_7_a_case_arriving_three_days_before_a_meeting_goes_to_the_following_one(p4: Percorso4) -> None:
    p4.advance_to(at(2026, 1, 8, 9, 0))  # Thursday, 5 days and 30 minutes before Tuesday 13 at 09:30
    in_time = p4.open_case("pistoiese", LUCIA)
    p4.complete("profilazione", in_time, profilo(), "cpi.pistoia")
    p4.advance_to(at(2026, 1, 10, 11, 0))  # Saturday: three days before the meeting
    late = p4.open_case("pistoiese", PAOLO)
    p4.complete("profilazione", late, profilo(), "cpi.pistoia")

    assert p4.data(in_time)["data_equipe"] == "2026-01-13T09:30:00+01:00"
    assert p4.data(late)["data_equipe"] == "2026-01-20T09:30:00+01:00"
    assert p4.data(late)["iscrizione_equipe"]["data_cutoff"] == "2026-01-15T09:30:00+01:00"
    assert p4.agenda("pistoiese-20260113") == [in_time]
    assert p4.agenda("pistoiese-20260120") == [late]
    assert "Neri Paolo" not in p4.outbox_rows()[0]["body"]  # the 13 January agenda had already left

    p4.advance_to(at(2026, 1, 20, 9, 31))
    assert p4.ready(late) == ["scheda_esito"]


def test_path_9_two_zones_meet_in_the_same_week_each_with_its_own_agenda(p4: Percorso4) -> None:
    lucia = p4.open_case("pistoiese", LUCIA)
    marco = p4.open_case("valdinievole", MARCO)
    p4.complete("profilazione", lucia, profilo(), "cpi.pistoia")
    p4.complete("profilazione", marco, profilo(), "cpi.pescia")
    p4.advance_to(at(2026, 1, 10, 10, 1))  # after both cut-offs: Thursday 8 09:30 and Saturday 10 10:00

    pistoia, pescia = p4.meeting("pistoiese-20260113"), p4.meeting("valdinievole-20260115")
    assert p4.data(pistoia["instance_id"])["casi"].keys() == {lucia}
    assert p4.data(pescia["instance_id"])["casi"].keys() == {marco}
    assert p4.data(pescia["instance_id"])["luogo"].endswith("Pescia")
    mails = {tuple(m["recipients"]): m["body"] for m in p4.outbox_rows()}
    assert set(mails) == {("equipe.gol@sds-pistoiese.example.it",), ("equipe.gol@sds-valdinievole.example.it",)}
    assert "Bianchi Lucia" in mails[("equipe.gol@sds-pistoiese.example.it",)]
    assert "Rossi Marco" not in mails[("equipe.gol@sds-pistoiese.example.it",)]
    assert len(p4.smtp.mailbox.messages) == 2

    p4.advance_to(at(2026, 1, 15, 10, 1))
    assert [t["zone"] for t in p4.inbox(element="scheda_esito", case_id=marco)] == ["valdinievole"]
    with pytest.raises(NotFound):  # the other zone's referent does not even see it
        p4.task_page("scheda_esito", marco, "sds.pistoia")
    p4.hold_meeting("pistoiese-20260113", {lucia: scheda(presente=True)}, by="sds.pistoia")
    p4.hold_meeting("valdinievole-20260115", {marco: scheda(presente=True)}, by="sds.pescia")
    assert p4.ready(lucia) == ["prenota_primo_appuntamento"] and p4.ready(marco) == ["prenota_primo_appuntamento"]


def test_a_first_assessment_postponed_by_the_equipe_goes_on_the_next_agenda_still_as_a_first_assessment(
    p4: Percorso4,
) -> None:
    case = p4.open_case("pistoiese", LUCIA)
    p4.complete("profilazione", case, profilo(), "cpi.pistoia")
    p4.hold_meeting("pistoiese-20260113", {case: scheda(presente=True, decisione="rinvio")}, by="sds.pistoia")
    _, following = p4.meetings_of(case)
    assert following["id"] == "pistoiese-20260120"
    assert following["items"][case]["reason"] == "prima_valutazione"
    p4.advance_to(at(2026, 1, 15, 9, 31))
    body = p4.outbox_rows()[-1]["body"]
    assert "Bianchi Lucia" in body and "prima valutazione" in body and "modifica sostanziale" not in body
