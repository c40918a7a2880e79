"""The codice fiscale check: what an operator reads next to the field."""

from __future__ import annotations

import pytest

from gol_workflow.forms.codice_fiscale import check_character, problem


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("RSSMRA85T10A562S", None),
        ("rssmra85t10a562s", None),
        ("RSSMRA85T10A56NF", None),  # omocodia: a digit replaced by a letter, its own check character
        ("RSSMRA85T10A562X", "Il carattere di controllo del codice fiscale non è corretto."),
        ("RSSMRA85T99A562S", "La data di nascita contenuta nel codice fiscale non è valida."),
        ("RSSMRA85T10Z999S", "Il codice del comune o dello stato di nascita non esiste."),
        ("RSSMRA85Z10A562S", "Il formato del codice fiscale non è valido."),
        ("RSSMRA85T10", "Il codice fiscale deve avere 16 caratteri."),
    ],
)
def test_codes_and_their_messages(code: str, message: str | None) -> None:
    if code == "RSSMRA85T10A56NF":
        code = code[:15] + check_character(code[:15])
    assert problem(code) == message


def test_check_character_completes_a_code() -> None:
    assert check_character("RSSMRA85T10A562") == "S"
    assert problem("BNCLRA85M41G713" + check_character("BNCLRA85M41G713")) is None  # born in Pistoia
