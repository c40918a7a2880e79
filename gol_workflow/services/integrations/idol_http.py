"""The IDOL connector for a real endpoint: JSON over HTTPS, bearer token, timeouts, idempotency keys.

IDOL's application-cooperation interface is not public; this is the contract the service
speaks, documented in processes/README.md, for IDOL or for an adapter in front of it:

- POST {GOL_IDOL_URL}/appuntamenti -> {"appuntamento_id": "..."}
- POST {GOL_IDOL_URL}/documenti    -> {"documento_id": "..."}

Every request carries `Authorization: Bearer GOL_IDOL_TOKEN` and an `Idempotency-Key`
(the service's booking or attachment id), so a step retried after a lost answer does not
book twice. 409 and 422 answers are refusals; anything else that is not 2xx, a timeout or
a connection failure is an error the step is retried on.
"""

from __future__ import annotations

import base64
import ipaddress
import ssl
from typing import Any
from urllib.parse import urlsplit

import httpx

from ...config import ConfigurationError, Settings
from .idol import (
    AppointmentRequest,
    DocumentUpload,
    IdolConnector,
    IdolError,
    IdolRefused,
    OwnAgendaConnector,
)

TIMEOUT = httpx.Timeout(15.0, connect=5.0)
USER_AGENT = "gol-workflow (GOL Percorso 4)"
REFUSALS = (400, 403, 404, 409, 410, 422)  # IDOL said no: retrying unchanged will not help until someone acts


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str) -> str:
    """The base URL without a trailing slash; HTTPS is required except on this machine's loopback."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigurationError(f"GOL_IDOL_URL must be an https:// URL, not {url!r}")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ConfigurationError("GOL_IDOL_URL must use https:// (plain http is accepted only on loopback)")
    return url.rstrip("/")


class HttpIdolConnector:
    """Books appointments and uploads documents on an IDOL endpoint."""

    name = "IDOL"

    def __init__(
        self,
        base_url: str,
        token: str | None,
        timeout: httpx.Timeout = TIMEOUT,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self.base_url = check_url(base_url)
        self._token = token
        self._timeout = timeout
        self._verify = verify

    def book_appointment(self, request: AppointmentRequest) -> str:
        """POST /appuntamenti; returns IDOL's `appuntamento_id`."""
        body = {
            "tipo": "primo_appuntamento_ats",
            "riferimento": request.booking_id,
            "case_id": request.case_id,
            "zona": request.zone,
            "beneficiario": {"codice_fiscale": request.codice_fiscale, "nome": request.nome,
                             "cognome": request.cognome},
            "case_manager": request.case_manager,
            "inizio": request.starts_at.isoformat(),
        }
        return self._post("/appuntamenti", body, request.booking_id, "appuntamento_id")

    def upload_document(self, request: DocumentUpload) -> str:
        """POST /documenti with the file in base64; returns IDOL's `documento_id`."""
        body = {
            "tipo": request.kind,
            "riferimento": request.attachment_id,
            "case_id": request.case_id,
            "zona": request.zone,
            "codice_fiscale": request.codice_fiscale,
            "nome_file": request.filename,
            "content_type": request.content_type,
            "sha256": request.sha256,
            "decisione": request.decision,
            "data_equipe": request.meeting_at,
            "contenuto_base64": base64.b64encode(request.content).decode("ascii"),
        }
        return self._post("/documenti", body, request.attachment_id, "documento_id")

    def _post(self, path: str, body: dict[str, Any], key: str, answer: str) -> str:
        headers = {"Accept": "application/json", "Idempotency-Key": key, "User-Agent": USER_AGENT}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        try:
            with httpx.Client(timeout=self._timeout, verify=self._verify, follow_redirects=False) as client:
                response = client.post(self.base_url + path, json=body, headers=headers)
        except httpx.TimeoutException:
            raise IdolError(f"IDOL did not answer in time ({path})") from None
        except httpx.HTTPError as exc:
            raise IdolError(f"IDOL cannot be reached ({path}): {exc.__class__.__name__}: {exc}") from None
        if response.status_code in REFUSALS:
            detail = _detail(response)
            raise IdolRefused(f"IDOL refused the request ({path}, {response.status_code}): {detail}", detail,
                              response.status_code)
        if not response.is_success:
            detail = _detail(response)
            raise IdolError(f"IDOL answered {response.status_code} ({path}): {detail}", detail)
        try:
            value = response.json()[answer]
        except (ValueError, KeyError, TypeError):
            raise IdolError(f"IDOL answered without {answer!r} ({path})") from None
        if not isinstance(value, (str, int)) or str(value) == "":
            raise IdolError(f"IDOL answered an empty {answer!r} ({path})")
        return str(value)


def _detail(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    if isinstance(data, dict):
        for key in ("detail", "message", "messaggio", "title", "error"):
            if data.get(key):
                return str(data[key])[:200]
    return str(data)[:200]


def connector_from_settings(settings: Settings) -> IdolConnector:
    """The HTTP connector when GOL_IDOL_URL is set, the built-in one otherwise."""
    if settings.idol_url:
        seconds = settings.idol_timeout
        return HttpIdolConnector(settings.idol_url, settings.idol_token,
                                 timeout=httpx.Timeout(seconds, connect=min(5.0, seconds)))
    return OwnAgendaConnector()
