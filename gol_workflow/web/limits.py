"""How large a request body may be: the setting for forms, 10 MB and a margin for file uploads."""

from __future__ import annotations

from flask import request

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
UPLOAD_LIMIT = MAX_UPLOAD_BYTES + 64 * 1024  # the file and the form's other fields
# Only these take files; every other request body is held to GOL_MAX_REQUEST_BYTES.
UPLOAD_ENDPOINTS = frozenset({"cases.upload", "admin.deploy"})


def raise_for_uploads() -> None:
    """Let the file uploads carry a file of up to 10 MB (runs before anything reads the body)."""
    if request.endpoint in UPLOAD_ENDPOINTS:
        request.max_content_length = UPLOAD_LIMIT


def too_large_message() -> str:
    """What was too large, in Italian: a file, or the data of a form."""
    if request.endpoint in UPLOAD_ENDPOINTS:
        return "Il file supera la dimensione massima consentita di 10 MB."
    limit = request.max_content_length or 0
    return (f"I dati inviati superano la dimensione massima consentita ({limit // 1024} kB): "
            "ridurre i testi o le righe inserite e riprovare.")
