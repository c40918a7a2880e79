"""IDOL, Tuscany's labour information system, behind a connector interface.

The service always keeps its own record: the booking in its ATS agenda and the scheda di
esito attached to the case. A connector then tells IDOL. The built-in connector stops at
the service's own record (the agenda *is* the agenda of record); the HTTP connector
(`idol_http`) also sends both to a real endpoint when GOL_IDOL_URL is set.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ...domain.errors import GolError
from ..workflow.runtime import Runtime

EXTRA_KEY = "idol_connector"


class IdolError(GolError):
    """IDOL could not be reached or failed: the step goes to error and is retried."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail  # IDOL's own words, when it gave any


class IdolRefused(IdolError):
    """IDOL answered but refused the request (for example a slot it considers taken)."""

    def __init__(self, message: str, detail: str = "", status: int = 0) -> None:
        super().__init__(message, detail)
        self.status = status


@dataclass(frozen=True)
class AppointmentRequest:
    """A first appointment with an ATS case manager, as recorded in the service's agenda."""

    booking_id: str  # the service's booking: also the idempotency key of the request
    case_id: str
    zone: str
    codice_fiscale: str
    nome: str
    cognome: str
    case_manager: str
    starts_at: datetime


@dataclass(frozen=True)
class DocumentUpload:
    """A document of the case (the scheda di esito), as attached to the case."""

    attachment_id: str  # the service's attachment: also the idempotency key of the request
    case_id: str
    zone: str
    codice_fiscale: str
    kind: str
    filename: str
    content_type: str
    content: bytes
    sha256: str
    decision: str = ""  # the equipe's decision the scheda records (presa_in_carico, rinvio, non_attivabile)
    meeting_at: str = ""  # the equipe meeting that decided, ISO 8601 with offset


class IdolConnector(Protocol):
    """What the service asks of IDOL; an implementation raises IdolError when it cannot do it."""

    name: str

    def book_appointment(self, request: AppointmentRequest) -> str:
        """Book the appointment on IDOL's agenda; returns IDOL's appointment id."""
        ...

    def upload_document(self, request: DocumentUpload) -> str:
        """Upload the document to the person's IDOL file; returns IDOL's document id."""
        ...


class OwnAgendaConnector:
    """The built-in connector: the service's agenda and case file are the record, ids are theirs."""

    name = "agenda interna"

    def book_appointment(self, request: AppointmentRequest) -> str:
        """The appointment is the booking already in the service's agenda."""
        return request.booking_id

    def upload_document(self, request: DocumentUpload) -> str:
        """The document is the attachment already on the case."""
        return request.attachment_id


def install_connector(rt: Runtime, connector: IdolConnector) -> None:
    """Make `connector` the one every IDOL step of this runtime uses."""
    rt.extras[EXTRA_KEY] = connector


def connector_of(rt: Runtime) -> IdolConnector:
    """The connector this runtime uses (the built-in one unless another was installed)."""
    found = rt.extras.get(EXTRA_KEY)
    return found if found is not None else OwnAgendaConnector()
