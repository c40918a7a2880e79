"""Talking SMTP: building a message from an outbox row and handing it to the mail server."""

from __future__ import annotations

import base64
import smtplib
import ssl
from collections.abc import Mapping, Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from types import TracebackType
from typing import Any, Self

from ...config import SmtpSettings


class PermanentFailure(Exception):
    """The server refused the message for good (5xx): retrying would not help."""


class TemporaryFailure(Exception):
    """The message could not be handed over now (server down, 4xx, timeout): try again later."""


def build_message(row: Mapping[str, Any], sender: str, now: datetime) -> EmailMessage:
    """The e-mail of an outbox row, with its stored Message-ID so a resend is recognisably the same."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(row["recipients"])
    message["Subject"] = row["subject"]
    message["Date"] = format_datetime(now)
    message["Message-ID"] = row["message_id"]
    message.set_content(row["body"])
    for item in row["attachments"] or []:
        maintype, _, rest = item["content_type"].partition("/")
        subtype, *params = [p.strip() for p in rest.split(";")]
        extra = dict(p.split("=", 1) for p in params if "=" in p)
        message.add_attachment(base64.b64decode(item["content_b64"]), maintype=maintype, subtype=subtype,
                               filename=item["filename"], params=extra)
    return message


class MailServer:
    """One SMTP session (plain, STARTTLS or implicit TLS), opened on entry and closed on exit."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Self:
        s = self.settings
        smtp: smtplib.SMTP | None = None
        try:
            if s.security == "tls":
                smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
                if s.security == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
            if s.username:
                smtp.login(s.username, s.password or "")
        except (OSError, smtplib.SMTPException) as exc:
            if smtp is not None:
                smtp.close()
            raise TemporaryFailure(f"cannot reach the mail server {s.host}:{s.port}: {_describe(exc)}") from exc
        self._smtp = smtp
        return self

    def send(self, message: EmailMessage, recipients: Sequence[str]) -> dict[str, Any]:
        """Hand one message over; returns the recipients the server refused (others accepted)."""
        assert self._smtp is not None
        try:
            return dict(self._smtp.send_message(message, to_addrs=list(recipients)))
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            failure = PermanentFailure if all(c >= 500 for c in codes) else TemporaryFailure
            raise failure(f"every recipient was refused: {exc.recipients}") from exc
        except smtplib.SMTPResponseException as exc:
            failure = PermanentFailure if exc.smtp_code >= 500 else TemporaryFailure
            raise failure(_describe(exc)) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise TemporaryFailure(_describe(exc)) from exc

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                self._smtp.close()
            self._smtp = None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        return f"{exc.smtp_code} {text}"
    return f"{exc.__class__.__name__}: {exc}"
