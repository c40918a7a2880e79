"""The case's story as its file tells it: each step's outcome in the operators' words, oldest first.

Built from the audit trail (every completion holds its form data as submitted) and the forms of
the case's version, which give every field its Italian title and every choice its label. Reads
and saved drafts are counted per person instead of being told one by one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from ...domain import labels
from ...forms.summary import Row, rows, text_of

# Told as one line per person ("Fascicolo consultato da … (5 volte, ultima …)"), not one per event.
COLLAPSED = frozenset({"case.viewed", "document.viewed", "attachment.downloaded", "task.draft_saved"})
# Events of the case the story leaves out: the service's bookkeeping, said better by the step they belong to.
QUIET = frozenset({"task.claimed", "task.released", "message.buffered"})
EQUIPE_MESSAGE = "esito_equipe"
MONITORING_MESSAGE = "richiesta_monitoraggio"
# What a request from the case file is, as `monitoring.py` records it with the delivered message.
REQUEST_KINDS = {"monitoraggio": "Monitoraggio richiesto", "modifica_sostanziale": "Modifica sostanziale segnalata"}
DECISIONS = {"presa_in_carico": "presa in carico", "rinvio": "rinvio a una prossima riunione",
             "non_attivabile": "percorso non attivabile"}

Namer = Callable[[str], str]


@dataclass
class StoryEvent:
    """One line of the story: what happened, who did it, when, and the step's outcome when it has one."""

    at: datetime
    action: str
    actor: str
    author: str  # the person's full name, or "Sistema"
    label: str
    detail: str = ""
    outcome: list[Row] = field(default_factory=list)
    step: bool = False  # a step of the path (a completed task, the equipe's scheda), not a side event


@dataclass(frozen=True)
class RepeatedEvent:
    """Reads (or drafts) of one person, counted."""

    action: str
    label: str
    author: str
    times: int
    last_at: datetime


@dataclass(frozen=True)
class Readers:
    """How to name what the story shows: people, zones, services, times."""

    names: Mapping[str, str]  # username -> full name
    zones: Mapping[str, str]  # zone id -> name
    service: Callable[[str], str]
    tz: ZoneInfo

    def person(self, username: str | None) -> str:
        """A username as operators know the person ("Sistema" for the service)."""
        if not username:
            return ""
        if username in labels.SYSTEM_ACTORS:
            return labels.SYSTEM_LABEL
        return self.names.get(username) or labels.ADMINISTRATION_LABEL

    def author(self, action: str, username: str) -> str:
        """Who an event is by: "Sistema" for what the service does on its own."""
        return labels.SYSTEM_LABEL if labels.is_system(action, username) else self.person(username)

    def moment(self, value: Any) -> str:
        """An instant as dd/mm/yyyy ore hh:mm in the service's time zone."""
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                return value
        if not isinstance(value, datetime):
            return ""
        local = value.astimezone(self.tz) if value.tzinfo else value
        return f"{local:%d/%m/%Y} ore {local:%H:%M}"


def outcome(values: Mapping[str, Any], schema: Mapping[str, Any], readers: Readers) -> list[Row]:
    """A form's answers as label/text rows, unanswered fields left out, every code in words."""
    return rows(_readable(values, schema, readers), schema)


def _readable(values: Mapping[str, Any], schema: Mapping[str, Any], readers: Readers) -> dict[str, Any]:
    properties: Mapping[str, Any] = schema.get("properties") or {}
    found: dict[str, Any] = {}
    for key, value in values.items():
        if _empty(value):
            continue
        prop = properties.get(key) or {}
        items = prop.get("items") if isinstance(prop.get("items"), Mapping) else {}
        if isinstance(value, Mapping):
            inner = _readable(value, prop, readers)
            if inner:
                found[key] = inner
        elif isinstance(value, list) and all(isinstance(v, Mapping) for v in value):
            found[key] = [_readable(v, items, readers) for v in value]
        elif isinstance(value, list):
            found[key] = [_word(v, items, readers) for v in value]
        else:
            found[key] = _word(value, prop, readers)
    return found


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _word(value: Any, prop: Mapping[str, Any], readers: Readers) -> Any:
    """A value whose words come from the service rather than the form: zones, people, services, instants."""
    source = prop.get("x-options")
    if not isinstance(value, str):
        return value
    if source == "zona":
        return readers.zones.get(value, value)
    if source == "case_manager":
        return readers.person(value)
    if source == "servizi_specialistici":
        return readers.service(value)
    if source == "ats_slot" or prop.get("format") == "date-time":
        return readers.moment(value)
    return value


def tell(
    events: Sequence[Mapping[str, Any]],
    schede: Mapping[int, Mapping[str, Any]],
    form_for: Callable[[str | None], Mapping[str, Any] | None],
    meetings: Mapping[str, Mapping[str, Any]],
    readers: Readers,
) -> list[StoryEvent]:
    """The story from the case's events, oldest first.

    `schede` maps the id of each delivered equipe outcome to the scheda the meeting wrote;
    `form_for(element_id)` gives the form of a task of the case's version (None: its start form); `meetings` the
    meetings the case was on, by id.
    """
    story: list[StoryEvent] = []
    for row in events:
        action = str(row["action"])
        if action in QUIET or action in COLLAPSED:
            continue
        data: Mapping[str, Any] = row["data"] if isinstance(row["data"], Mapping) else {}
        event = StoryEvent(row["at"], action, str(row["actor"]), readers.author(action, str(row["actor"])),
                           labels.action(action))
        if action == "instance.started":
            event.step = True
            event.outcome = outcome(_mapping(data.get("data")), form_for(None) or {}, readers)
        elif action == "task.completed":
            event.step = True
            event.detail = str(data.get("task") or "")
            event.outcome = outcome(_mapping(data.get("data")), form_for(row["element_id"]) or {}, readers)
        elif action == "message.delivered":
            _message(event, data, schede.get(int(row["id"])), readers)
        elif action == "equipe.booked" or action == "equipe.withdrawn":
            event.detail = _meeting(data, meetings, readers)
        elif action == "idol.document_uploaded":
            decision = DECISIONS.get(str(data.get("decisione") or ""))
            event.detail = ", ".join(p for p in (str(data.get("filename") or ""), decision and f"decisione: {decision}") if p)
        elif action == "idol.appointment_booked":
            parts = [readers.moment(data.get("slot")), readers.person(data.get("case_manager"))]
            event.detail = " con ".join(p for p in parts if p)
        elif action in ("idol.refused", "idol.failed"):
            event.detail = str(data.get("motivo") or "")
        elif action in ("attachment.uploaded", "instance.suspended", "instance.terminated"):
            event.detail = str(data.get("filename") or data.get("reason") or "")
        elif action == "instance.moved":
            event.detail = _move(data)
        story.append(event)
    return story


MOVES = {"back_to": "da rifare", "skip": "saltata", "cancel_branch": "ramo annullato"}


def _move(data: Mapping[str, Any]) -> str:
    """A move in words: which task it concerned, what happened to it, and why."""
    created = data.get("created") if isinstance(data.get("created"), list) else []
    cancelled = data.get("cancelled") if isinstance(data.get("cancelled"), list) else []
    items = created if data.get("kind") == "back_to" else cancelled
    task = next((str(i.get("name")) for i in items if isinstance(i, Mapping) and i.get("name")), "")
    what = MOVES.get(str(data.get("kind") or ""), "")
    return "; ".join(p for p in (f"{task}: {what}" if task else what, str(data.get("reason") or "")) if p)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _message(
    event: StoryEvent,
    data: Mapping[str, Any],
    scheda: Mapping[str, Any] | None,
    readers: Readers,
) -> None:
    name = str(data.get("message") or "")
    event.detail = labels.message(name)
    if name == EQUIPE_MESSAGE:
        event.step = True
        event.label = "Scheda di esito dell'equipe"
        event.detail = ""
        if scheda is not None:
            event.author = readers.person(str(scheda["actor"]))
            event.outcome = outcome(_mapping(scheda["values"]), scheda["form"] or {}, readers)
    elif name == MONITORING_MESSAGE and data.get("richiesta") in REQUEST_KINDS:
        event.label = REQUEST_KINDS[str(data["richiesta"])]
        event.detail = str(data.get("motivo") or "")


def _meeting(data: Mapping[str, Any], meetings: Mapping[str, Mapping[str, Any]], readers: Readers) -> str:
    meeting = meetings.get(str(data.get("meeting") or ""))
    parts = []
    if meeting is not None:
        parts.append(f"riunione del {readers.moment(meeting['scheduled_at'])}")
    reason = labels.EQUIPE_REASONS.get(str(data.get("reason") or ""))
    if reason:
        parts.append(reason)
    return ", ".join(parts)


def counted(repeated: Sequence[Mapping[str, Any]], readers: Readers) -> list[RepeatedEvent]:
    """Reads and drafts, one line per person and kind, the latest first."""
    return [RepeatedEvent(str(r["action"]), labels.action(str(r["action"])), readers.person(str(r["actor"])),
                          int(r["times"]), r["last_at"]) for r in repeated]


SCHEDA_TASK = "scheda_esito"  # the user task where the equipe writes its scheda (riunione_equipe, discussione_caso)


def pair_schede(events: Sequence[Mapping[str, Any]], completions: Sequence[Mapping[str, Any]]) -> dict[int, Mapping[str, Any]]:
    """For each delivered equipe outcome, the completion on its meeting that sent it.

    The meeting's step that completes a case's scheda delivers the outcome in the same
    transaction, so the sender is the meeting's latest completion before the delivery.
    """
    found: dict[int, Mapping[str, Any]] = {}
    for row in events:
        data = row["data"] if isinstance(row["data"], Mapping) else {}
        if row["action"] != "message.delivered" or data.get("message") != EQUIPE_MESSAGE or not data.get("from"):
            continue
        before = [c for c in completions if c["instance_id"] == data["from"] and int(c["id"]) < int(row["id"])]
        # The equipe's decision is its scheda; the participants' confirmations that follow it (the
        # last of which sends the outcome) are told as events of their own.
        written = [c for c in before if c["element_id"] == SCHEDA_TASK] or before
        if written:
            found[int(row["id"])] = written[-1]
    return found


def fact_text(value: Any, schema: Mapping[str, Any] | None, readers: Readers) -> str:
    """A fact of the case record in words, labelled by the form field that feeds it."""
    if _empty(value):
        return ""
    prop = schema or {}
    if isinstance(value, list):
        items = prop.get("items") if isinstance(prop.get("items"), Mapping) else {}
        return "; ".join(fact_text(v, items, readers) for v in value)
    return text_of(_word(value, prop, readers), prop)
