"""The Italian tax code (codice fiscale) of a person: format and check character."""

from __future__ import annotations

import re

# Omocodia replaces digits with these letters; the pattern accepts both.
_PATTERN = re.compile(
    r"^[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]$"
)

_ODD = {
    **dict(zip("0123456789", (1, 0, 5, 7, 9, 13, 15, 17, 19, 21), strict=True)),
    **dict(
        zip(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
            (1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23),
            strict=True,
        )
    ),
}
_EVEN = {**{str(d): d for d in range(10)}, **{chr(ord("A") + i): i for i in range(26)}}


def normalise(value: str) -> str:
    """Upper case without spaces."""
    return "".join(value.split()).upper()


def check_character(first15: str) -> str:
    """The control letter for the first 15 characters."""
    total = sum(_ODD[c] if i % 2 == 0 else _EVEN[c] for i, c in enumerate(first15))
    return chr(ord("A") + total % 26)


def problem(value: str) -> str | None:
    """None when valid; otherwise an Italian explanation of what is wrong."""
    code = normalise(value)
    if len(code) != 16:
        return "Il codice fiscale deve avere 16 caratteri."
    if not _PATTERN.match(code):
        return "Il formato del codice fiscale non è valido."
    if check_character(code[:15]) != code[15]:
        return "Il carattere di controllo del codice fiscale non è corretto."
    return None


def is_valid(value: str) -> bool:
    """True for a well-formed code with the right check character."""
    return problem(value) is None
