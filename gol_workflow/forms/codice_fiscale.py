"""The Italian tax code (codice fiscale) of a person, checked with `python-codicefiscale`.

The library checks the syntax (omocodia included), the birth date, the municipality or
foreign state of birth and the check character; this module turns its findings into the
Italian sentences an operator reads next to the field.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any, NamedTuple

from codicefiscale import codicefiscale as _library

_MESSAGES = (  # first match wins: the birthplace message also quotes the birthdate
    ("cin", "Il carattere di controllo del codice fiscale non è corretto."),
    ("birthplace", "Il codice del comune o dello stato di nascita non esiste."),
    ("date", "La data di nascita contenuta nel codice fiscale non è valida."),
)


class _Decoded(NamedTuple):
    """What the library reads from a code: the coded surname and name, the birth date; or why it refuses it."""

    lastname: str = ""
    firstname: str = ""
    birthdate: date | None = None
    refusal: str | None = None  # the library's reason, lower case


@lru_cache(maxsize=64)
def _decode(code: str) -> _Decoded:
    # Decoding tries every omocodia variant and parses dates: a few milliseconds, asked several
    # times for the same code by one submission (format, cross-field rule, differences). A few
    # entries serve that; a large cache would only keep people's codes in the worker's memory.
    try:
        decoded = _library.decode(code)
    except ValueError as exc:
        return _Decoded(refusal=str(exc).lower())
    raw = decoded["raw"]
    return _Decoded(str(raw["lastname"]), str(raw["firstname"]), decoded["birthdate"].date())


def normalise(value: str) -> str:
    """Upper case without spaces."""
    return "".join(value.split()).upper()


def check_character(first15: str) -> str:
    """The control letter for the first 15 characters."""
    return str(_library.encode_cin(normalise(first15)))


def problem(value: str) -> str | None:
    """None when valid; otherwise an Italian explanation of what is wrong."""
    code = normalise(value)
    if len(code) != 16:
        return "Il codice fiscale deve avere 16 caratteri."
    reason = _decode(code).refusal
    if reason is None:
        return None
    for marker, message in _MESSAGES:
        if marker in reason:
            return message
    return "Il formato del codice fiscale non è valido."


def is_valid(value: str) -> bool:
    """True for a well-formed code of a real date and place, with the right check character."""
    return problem(value) is None


def differences(value: str, surname: Any, name: Any, born: date | None) -> list[str]:
    """How a valid code disagrees with a person's surname, name and birth date (Italian, empty when it matches)."""
    decoded = _decode(normalise(value))
    if decoded.refusal is not None or decoded.birthdate is None:
        raise ValueError(decoded.refusal or "codice fiscale not decoded")
    found = []
    if isinstance(surname, str) and surname.strip() and _library.encode_lastname(surname) != decoded.lastname:
        found.append(f"il cognome dà «{_library.encode_lastname(surname)}», il codice ha «{decoded.lastname}»")
    if isinstance(name, str) and name.strip() and _library.encode_firstname(name) != decoded.firstname:
        found.append(f"il nome dà «{_library.encode_firstname(name)}», il codice ha «{decoded.firstname}»")
    coded = decoded.birthdate
    if born is not None and (born.day, born.month, born.year % 100) != (coded.day, coded.month, coded.year % 100):
        found.append(f"la data di nascita nel codice è {coded:%d/%m/%Y}")
    return found
