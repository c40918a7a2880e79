"""A sealed audit row that its case's key cannot open costs only that row, not the case's whole history."""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime

from gol_workflow.persistence.sealing import SEALED, SubjectKeys, opened, seal

CASE = "7d0c2f1e-0000-4000-8000-000000000001"
AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_a_row_sealed_under_another_key_reads_as_withheld_and_is_reported(runtime, caplog) -> None:
    """The case's own rows open; a row sealed under a foreign key (or tampered with) reads as None and is logged."""
    key = os.urandom(32)
    with runtime.db.begin() as conn:
        SubjectKeys(conn).add(CASE, "RSSMRA80A01G713X", key, AT)
    tampered = seal(key, {"nota": "x"})
    tampered = {SEALED: tampered[SEALED][:-4] + ("AAAA" if not tampered[SEALED].endswith("AAAA") else "BBBB")}
    rows = [
        {"id": 1, "instance_id": CASE, "data": seal(key, {"esito": "positivo"})},
        {"id": 2, "instance_id": CASE, "data": seal(os.urandom(32), {"esito": "negativo"})},
        {"id": 3, "instance_id": CASE, "data": tampered},
        {"id": 4, "instance_id": CASE, "data": {"plain": True}},
    ]
    with caplog.at_level(logging.ERROR, logger="gol_workflow.persistence.sealing"), runtime.db.connect() as conn:
        found = opened(conn, rows)
    assert [row["data"] for row in found] == [{"esito": "positivo"}, None, None, {"plain": True}]
    reported = [r.getMessage() for r in caplog.records]
    assert any("audit event 2 of case" in m for m in reported) and any("audit event 3 of case" in m for m in reported)


def test_a_destroyed_key_still_reads_as_none_without_an_error(runtime, caplog) -> None:
    """Anonymisation's crypto-shredding is not an error: nothing is reported."""
    key = os.urandom(32)
    with runtime.db.begin() as conn:
        SubjectKeys(conn).add(CASE, "RSSMRA80A01G713X", key, AT)
        SubjectKeys(conn).destroy(CASE)
    with caplog.at_level(logging.ERROR, logger="gol_workflow.persistence.sealing"), runtime.db.connect() as conn:
        found = opened(conn, [{"id": 1, "instance_id": CASE, "data": seal(key, {"esito": "positivo"})}])
    assert found[0]["data"] is None and not caplog.records


def test_keys_already_read_in_the_transaction_are_not_read_again(runtime) -> None:
    """A key noted with the case's row opens its rows; a case noted as keyless is not looked up again either."""
    key = os.urandom(32)
    other = "7d0c2f1e-0000-4000-8000-000000000002"
    with runtime.db.begin() as conn:
        SubjectKeys(conn).add(other, "VRDLGU80A01G713X", os.urandom(32), AT)
    rows = [{"id": 1, "instance_id": CASE, "data": seal(key, {"esito": "positivo"})},
            {"id": 2, "instance_id": other, "data": seal(key, {"esito": "negativo"})}]
    with runtime.db.connect() as conn:
        keys = SubjectKeys(conn)
        keys.known(CASE, (key, "RSSMRA80A01G713X"))
        keys.known(other, None)
        assert [row["data"] for row in opened(conn, rows, keys)] == [{"esito": "positivo"}, None]
