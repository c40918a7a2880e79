"""Per-case keys kept apart from the audit log: they seal a case's audit data and key the person's pseudonym.

Deleting a case's key (anonymisation) leaves its audit events with who, what, when and which
case, while their data can no longer be read and their pseudonym no longer be linked to the
person: crypto-shredding, without ever updating the append-only log.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Connection, delete, insert, select

from .fastpath import HotPath
from .tables import instances, subject_keys
from .types import dump_json

LOG = logging.getLogger(__name__)
SEALED = "sealed"  # the only key of a sealed data value: {"sealed": base64(nonce + ciphertext)}
NONCE_BYTES = 12


def pseudonym(key: bytes, codice_fiscale: str) -> str:
    """The person's pseudonym under one case's key: HMAC-SHA256 of the codice fiscale, hex."""
    return hmac.new(key, codice_fiscale.encode("ascii", "replace"), hashlib.sha256).hexdigest()


def seal(key: bytes, value: Any) -> dict[str, str]:
    """The value as JSON, encrypted and authenticated (AES-256-GCM) under the key."""
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, dump_json(value).encode("utf-8"), None)
    return {SEALED: base64.b64encode(nonce + sealed).decode("ascii")}


def is_sealed(value: Any) -> bool:
    """True when a stored data value is sealed."""
    return isinstance(value, Mapping) and set(value) == {SEALED}


def unseal(key: bytes, value: Mapping[str, str]) -> Any:
    """The value a `seal` call sealed under the key."""
    raw = base64.b64decode(value[SEALED])
    return json.loads(AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], None))


class SubjectKeys:
    """The keys of the cases of people: made with a case's first event, deleted by anonymisation.

    A step reads its case's key before it writes (`prepare`): on PostgreSQL a statement sent
    later would send the step's waiting writes with it (see `write_behind`), and hold their
    row locks for the rest of the step. A new key travels with the step's other writes.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._known: dict[str, tuple[bytes, str] | None] = {}

    def prepare(self, instance_id: str, new: bool = False) -> None:
        """Read the case's key now, before the step's writes (`new`: a case just started has none)."""
        if instance_id not in self._known:
            self._known[instance_id] = None if new else self._read(instance_id)

    def know(self, instance_id: str, found: tuple[bytes, str] | None) -> None:
        """Take the case's key (None: it has none) as read with the step's first statement (see `prepare`)."""
        self._known.setdefault(instance_id, found)

    def _read(self, instance_id: str) -> tuple[bytes, str] | None:
        row = self.conn.execute(select(subject_keys.c.key, subject_keys.c.codice_fiscale)
                                .where(subject_keys.c.instance_id == instance_id)).first()
        return (bytes(row[0]), str(row[1])) if row is not None else None

    def for_case(self, instance_id: str, codice_fiscale: str | None, at: datetime) -> tuple[bytes, str] | None:
        """The case's key and the person's codice fiscale, the key made when missing; None when no person.

        `codice_fiscale`: the person of a case whose row this transaction writes ("" for none);
        None to read it from the case's row.
        """
        if instance_id not in self._known:
            self._known[instance_id] = self._read(instance_id)
        found = self._known[instance_id]
        if found is not None:
            return found
        if codice_fiscale is not None:
            if not codice_fiscale:
                return None
            key = os.urandom(32)
            HotPath(self.conn).insert(subject_keys, [{"instance_id": instance_id, "codice_fiscale": codice_fiscale,
                                                      "key": key, "created_at": at}])
            self._known[instance_id] = (key, codice_fiscale)
            return self._known[instance_id]
        person = self.conn.execute(select(instances.c.codice_fiscale).where(instances.c.id == instance_id)).scalar()
        if not person:
            return None
        self._known[instance_id] = (self._create(instance_id, str(person), at), str(person))
        return self._known[instance_id]

    def _create(self, instance_id: str, codice_fiscale: str, at: datetime) -> bytes:
        key = os.urandom(32)
        values = {"instance_id": instance_id, "codice_fiscale": codice_fiscale, "key": key, "created_at": at}
        if self.conn.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            self.conn.execute(pg_insert(subject_keys).values(values).on_conflict_do_nothing())
        else:
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            self.conn.execute(sqlite_insert(subject_keys).values(values).on_conflict_do_nothing())
        # Another transaction may have made it first: its key is the one.
        return bytes(self.conn.execute(select(subject_keys.c.key)
                                       .where(subject_keys.c.instance_id == instance_id)).scalar_one())

    def of_person(self, codice_fiscale: str) -> dict[str, bytes]:
        """The keys of one person's cases, by case id."""
        rows = self.conn.execute(select(subject_keys.c.instance_id, subject_keys.c.key)
                                 .where(subject_keys.c.codice_fiscale == codice_fiscale))
        return {str(r[0]): bytes(r[1]) for r in rows}

    def known(self, instance_id: str, found: tuple[bytes, str] | None) -> None:
        """Note the case's key (and person) as read by another statement of this transaction (None: it has none)."""
        self._known[instance_id] = found

    def keys_of(self, instance_ids: Iterable[str]) -> dict[str, bytes]:
        """The keys of these cases that still exist (those already read in this transaction are not read again)."""
        wanted = set(instance_ids)
        keys = {i: found[0] for i in wanted & self._known.keys() if (found := self._known[i]) is not None}
        ids = sorted(wanted - self._known.keys())
        if not ids:
            return keys
        rows = self.conn.execute(select(subject_keys.c.instance_id, subject_keys.c.key)
                                 .where(subject_keys.c.instance_id.in_(ids)))
        return {**keys, **{str(r[0]): bytes(r[1]) for r in rows}}

    def destroy(self, instance_id: str) -> int:
        """Delete the case's key: its audit data and pseudonyms can no longer be tied to the person."""
        self._known.pop(instance_id, None)
        return self.conn.execute(delete(subject_keys).where(subject_keys.c.instance_id == instance_id)).rowcount

    def add(self, instance_id: str, codice_fiscale: str, key: bytes, at: datetime) -> None:
        """Store a key made elsewhere (the migration that seals existing events)."""
        self.conn.execute(insert(subject_keys).values(instance_id=instance_id, codice_fiscale=codice_fiscale,
                                                      key=key, created_at=at))
        self._known[instance_id] = (key, codice_fiscale)


def opened(conn: Connection, rows: Sequence[Mapping[str, Any]], keys: SubjectKeys | None = None
           ) -> list[dict[str, Any]]:
    """Audit rows with their sealed data opened; data whose key was destroyed, or that its key cannot open,
    reads as None (`keys`: the transaction's, with the keys it already read)."""
    found = [dict(r) for r in rows]
    sealed = [r for r in found if is_sealed(r.get("data"))]
    if not sealed:
        return found
    by_case = (keys or SubjectKeys(conn)).keys_of(str(r["instance_id"]) for r in sealed if r.get("instance_id"))
    for row in sealed:
        key = by_case.get(str(row.get("instance_id")))
        row["data"] = _unsealed_or_none(key, row) if key is not None else None
    return found


def _unsealed_or_none(key: bytes, row: Mapping[str, Any]) -> Any:
    # A row its case's key cannot open was altered or sealed under another key: the rest of the
    # history still reads, and the row is reported rather than failing the whole case file.
    try:
        return unseal(key, row["data"])
    except (InvalidTag, ValueError):
        LOG.error("audit event %s of case %s cannot be opened with the case's key", row.get("id"),
                  row.get("instance_id"))
        return None
