"""The ordine del giorno of an equipe meeting: Italian text, an iCalendar invitation, queued for e-mail."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from icalendar import Calendar, Event, vCalAddress, vText

from ...domain.zones import Zone
from ..letters.steps import convene_people
from ..mail import outbox
from .equipe import SUBSTANTIAL_CHANGE, tz_of, zone_of
from ..workflow.runtime import Runtime, ServiceCall

MEETING_LENGTH = timedelta(hours=2)
PRODUCT_ID = "-//GOL Percorso 4//gol-workflow//IT"
WEEKDAYS_IT = ("lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato", "domenica")
MONTHS_IT = ("gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto",
             "settembre", "ottobre", "novembre", "dicembre")


@dataclass(frozen=True)
class Agenda:
    """An ordine del giorno, ready to be sent."""

    subject: str
    body: str
    recipients: list[str]
    invited_services: dict[str, list[str]]  # service id -> case ids it is invited for
    ics: bytes


def italian_datetime(moment: datetime) -> str:
    """E.g. «martedì 13 gennaio 2026, ore 09:30»."""
    return (f"{WEEKDAYS_IT[moment.weekday()]} {moment.day} {MONTHS_IT[moment.month - 1]} {moment.year}, "
            f"ore {moment:%H:%M}")


_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")


def one_line(value: object) -> str:
    """Text for one line of a message: line breaks and other control characters become spaces.

    Forms refuse them in names; this keeps data stored before (or edited by hand) from
    forging lines of the agenda.
    """
    return " ".join(_CONTROL.sub(" ", str(value or "")).split())


def person_name(case: Mapping[str, Any]) -> str:
    """«Cognome Nome (CODICE FISCALE)» of an agenda item."""
    person = case.get("beneficiario") or {}
    if not isinstance(person, Mapping):
        person = {}
    name = " ".join(one_line(person.get(k)) for k in ("cognome", "nome")).strip() or "(senza nome)"
    code = one_line(person.get("codice_fiscale")).upper()
    return f"{name} ({code})" if code else name


def _sorted_cases(cases: Mapping[str, Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return sorted(cases.values(), key=lambda c: person_name(c).lower())


def invited_services(zone: Zone, cases: Mapping[str, Mapping[str, Any]]) -> dict[str, list[str]]:
    """Specialist services to invite (in the zone's order), each with the cases it follows; only for particular needs."""
    invited: dict[str, list[str]] = {}
    for case in _sorted_cases(cases):
        if not case.get("bisogni_particolari"):
            continue
        for service_id in case.get("servizi_specialistici") or []:
            if zone.service(str(service_id)) is not None:
                invited.setdefault(str(service_id), []).append(str(case["case_id"]))
    order = [service.id for service in zone.services]
    return {service_id: invited[service_id] for service_id in order if service_id in invited}


def _unique(addresses: list[str], already: list[str] | None = None) -> list[str]:
    seen = {a.lower() for a in already or []}
    result: list[str] = []
    for address in addresses:
        if address.lower() not in seen:
            seen.add(address.lower())
            result.append(address)
    return result


def compose(zone: Zone, starts: datetime, place: str, cases: Mapping[str, Mapping[str, Any]],
            meeting_id: str, sender: str, now: datetime) -> list[tuple[str, Agenda]]:
    """The meeting's messages, each with its dedup suffix.

    The zone's SdS referents get the whole ordine del giorno. Each invited specialist
    service gets its own message naming only the people it follows: the agenda carries
    health-related data (GDPR art. 9), so nobody learns of cases that are not theirs.
    """
    invited = invited_services(zone, cases)
    referents = _unique(list(zone.referents))
    if not referents:
        raise ValueError(f"zone {zone.id} has no equipe referents to send the agenda to")
    when = italian_datetime(starts)
    subject = f"Equipe GOL Percorso 4 – {zone.name} – ordine del giorno di {when}"
    body = agenda_text(zone, when, place, cases, invited)
    messages = [("", Agenda(subject, body, referents, invited,
                            invitation(zone, starts, place, body, meeting_id, referents, sender, now)))]
    for service_id, case_ids in invited.items():
        service = zone.service(service_id)
        recipients = _unique(list(service.referents), referents) if service else []
        if not recipients:
            continue
        own = {c: cases[c] for c in case_ids}
        text = invitation_text(zone, service.name, when, place, own)  # type: ignore[union-attr]
        messages.append((f":{service_id}", Agenda(
            f"{subject} – invito per il servizio {service.name}", text, recipients,  # type: ignore[union-attr]
            {service_id: case_ids}, invitation(zone, starts, place, text, meeting_id, recipients, sender, now))))
    return messages


def _members(zone: Zone) -> str:
    """Who the equipe brings together: the CPI(s) and the zone's social-services body."""
    cpis = ", ".join(c.name for c in zone.cpis)
    social = zone.social_services
    body = social.name if social.kind == "sds" else f"{social.kind_label}: {social.name}"
    return f"{cpis} e servizi sociali ({body})" if cpis else f"servizi sociali ({body})"


def _by(zone: Zone) -> str:
    """" dal <CPI>, <address>": who convenes the meeting, as the invitation's organiser."""
    cpi = zone.organiser
    return f" dal {cpi.name} ({cpi.address}, {cpi.email})" if cpi else ""


def invitation_text(zone: Zone, service_name: str, when: str, place: str,
                    cases: Mapping[str, Mapping[str, Any]]) -> str:
    """The Italian invitation of a specialist service: the meeting and only the people it follows."""
    lines = [
        "Gentili referenti,",
        "",
        (f"il servizio {service_name} è invitato all'equipe multidisciplinare GOL Percorso 4 "
         f"«Lavoro e Inclusione» della {zone.name} ({_members(zone)})"),
        "",
        f"  {when}",
        f"  presso {place or 'sede da definire'}",
        "",
        "per la valutazione integrata delle persone seguite dal vostro servizio:",
        "",
    ]
    for number, case in enumerate(_sorted_cases(cases), start=1):
        lines.append(f"  {number}. {person_name(case)}")
    lines += ["", "In allegato l'invito per il calendario.", "",
              "Messaggio inviato automaticamente dal servizio GOL Percorso 4: non rispondere a questo indirizzo."]
    return "\n".join(lines) + "\n"


def agenda_text(zone: Zone, when: str, place: str, cases: Mapping[str, Mapping[str, Any]],
          invited: Mapping[str, list[str]]) -> str:
    """The Italian body of the ordine del giorno."""
    names = {str(c["case_id"]): person_name(c) for c in cases.values()}
    lines = [
        "Gentili referenti,",
        "",
        (f"l'equipe multidisciplinare GOL Percorso 4 «Lavoro e Inclusione» della {zone.name}"
         f" ({_members(zone)}) è convocata{_by(zone)} per"),
        "",
        f"  {when}",
        f"  presso {place or 'sede da definire'}",
        "",
        "Ordine del giorno: valutazione integrata e scheda di esito per i seguenti beneficiari.",
        "",
    ]
    for number, case in enumerate(_sorted_cases(cases), start=1):
        notes = ["modifica sostanziale del progetto" if case.get("motivo") == SUBSTANTIAL_CHANGE
                 else "prima valutazione"]
        if not case.get("conosciuto_servizio_sociale"):
            notes.append("partecipa la persona")
        lines.append(f"  {number}. {person_name(case)} – {', '.join(notes)}")
    lines.append("")
    if invited:
        lines.append("Servizi specialistici invitati:")
        for service_id, case_ids in invited.items():
            service = zone.service(service_id)
            who = "; ".join(names[c] for c in case_ids)
            lines.append(f"  - {service.name if service else service_id}, per: {who}")
    else:
        lines.append("Non sono invitati servizi specialistici.")
    lines += ["", "In allegato l'invito per il calendario.", "",
              "Messaggio inviato automaticamente dal servizio GOL Percorso 4: non rispondere a questo indirizzo."]
    return "\n".join(lines) + "\n"


def invitation(zone: Zone, starts: datetime, place: str, description: str, meeting_id: str,
                recipients: list[str], sender: str, now: datetime) -> bytes:
    """An iCalendar REQUEST for the meeting, its time zone included, every recipient an attendee."""
    cal = Calendar()
    cal.add("prodid", PRODUCT_ID)
    cal.add("version", "2.0")
    cal.add("method", "REQUEST")
    event = Event()
    event.add("uid", f"{meeting_id}@gol-workflow")
    event.add("dtstamp", now)
    event.add("dtstart", starts)
    event.add("dtend", starts + MEETING_LENGTH)
    event.add("summary", f"Equipe GOL Percorso 4 – {zone.name}")
    event.add("location", place)
    event.add("description", description)
    event.add("sequence", 0)
    cpi = zone.organiser
    organizer = vCalAddress(f"mailto:{cpi.email if cpi else sender}")
    organizer.params["cn"] = vText(cpi.name if cpi else f"Centro per l'impiego – {zone.name}")
    if cpi and cpi.email != sender:
        organizer.params["sent-by"] = vText(f"mailto:{sender}")  # the service sends on the CPI's behalf
    event["organizer"] = organizer
    for address in recipients:
        attendee = vCalAddress(f"mailto:{address}")
        attendee.params.update({"role": vText("REQ-PARTICIPANT"), "partstat": vText("NEEDS-ACTION"),
                                "rsvp": vText("TRUE")})
        event.add("attendee", attendee, encode=0)
    cal.add_component(event)
    cal.add_missing_timezones()
    return cal.to_ical()


def equipe_invia_odg(call: ServiceCall) -> dict[str, Any]:
    """Connector: compose the calling meeting's ordine del giorno and queue it for e-mail, once."""
    rt: Runtime = call.runtime
    data = call.data
    zone = zone_of(rt, data.get("zona"))
    meeting_id = str(data.get("riunione_id") or call.instance_id)
    starts = datetime.fromisoformat(str(data["data_equipe"])).astimezone(tz_of(rt))
    cases = data.get("casi") or {}
    messages = compose(zone, starts, str(data.get("luogo") or zone.location), cases, meeting_id,
                       rt.settings.smtp.sender, call.now)
    queued = []
    for suffix, agenda in messages:
        queued.append(outbox.enqueue(
            call.uow, call.now, rt.settings.smtp.sender,
            outbox.Outgoing(
                dedup_key=f"odg:{meeting_id}{suffix}",
                recipients=agenda.recipients,
                subject=agenda.subject,
                body=agenda.body,
                attachments=[outbox.Attachment(f"equipe-{meeting_id}.ics",
                                               "text/calendar; charset=utf-8; method=REQUEST", agenda.ics)],
                expires_at=starts,  # an agenda is worthless once its meeting has begun
            ),
            expiry=rt.settings.mail_expiry,
        ))
    letters = convene_people(rt, call.uow, call.now, zone.id, starts, str(data.get("luogo") or zone.location), cases)
    return {
        "lettere_convocazione": letters,
        "outbox_ids": queued,
        "destinatari": [address for _, agenda in messages for address in agenda.recipients],
        "servizi_invitati": messages[0][1].invited_services,
        "accodato_il": call.now.astimezone(tz_of(rt)).isoformat(),
    }
