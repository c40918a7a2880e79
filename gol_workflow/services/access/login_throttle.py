"""Login throttling, decided before any password is hashed and alike for existing and unknown usernames.

Failures are rows in the database, so every worker counts the same ones. Within the window:
- one client address may fail `login_max_failures_per_address` times, whatever the usernames;
- one username may fail `login_max_failures` times from one address: a stranger hammering an
  account from elsewhere blocks only their own address, never the owner's;
- when a username has failed `login_max_failures_per_account` times from all addresses together
  (a spread-out attack), an address that has not logged in to it in the last 30 days may try it
  once per window; addresses it logged in from recently keep their full allowance.
A successful login clears the failures of that username from that address.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import math
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta

from ...config import Settings
from ...domain.errors import GolError
from ...persistence.uow import UnitOfWork
from ..workflow.runtime import Runtime

KNOWN_ADDRESS_FOR = timedelta(days=30)
HASH_WAIT_SECONDS = 10.0
THROTTLED = "Troppi tentativi di accesso non riusciti: riprova tra qualche minuto."
BUSY = "Il servizio sta verificando molti accessi: riprova tra qualche secondo."
_SLOTS_KEY = "login_hash_slots"


class LoginThrottled(GolError):
    """Too many failed logins from this address or for this username: refused without checking the password."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def username_key(username: str) -> str:
    """What the attempts table keeps of a typed username (people type passwords there too)."""
    return hashlib.sha256(username.encode("utf-8")).hexdigest()


def address_key(remote: str | None) -> str:
    """The client address counted: an IPv4 address, or the /64 network of an IPv6 one (one subscriber)."""
    try:
        address = ipaddress.ip_address((remote or "").strip())
    except ValueError:
        return "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def admit(uow: UnitOfWork, settings: Settings, key: str, address: str, now: datetime) -> int:
    """Refuse an attempt over the limits, or record it as a failure until it proves right; returns its id."""
    window = timedelta(minutes=settings.login_window_minutes)
    uow.login_attempts.serialize(address)  # counted and recorded as one step: a burst cannot slip past
    counts = uow.login_attempts.failures_since(now - window, key, address)

    def refuse(oldest: datetime | None) -> LoginThrottled:
        wait = (oldest + window - now).total_seconds() if oldest is not None else window.total_seconds()
        return LoginThrottled(THROTTLED, max(1, math.ceil(wait)))

    if counts.address >= settings.login_max_failures_per_address:
        raise refuse(counts.oldest_address)
    if counts.pair >= settings.login_max_failures:
        raise refuse(counts.oldest_pair)
    if (counts.username >= settings.login_max_failures_per_account and counts.pair >= 1
            and not uow.login_attempts.succeeded_since(now - KNOWN_ADDRESS_FOR, key, address)):
        raise refuse(counts.oldest_pair)
    uow.login_attempts.purge(now - window, now - KNOWN_ADDRESS_FOR)
    return uow.login_attempts.add(now, key, address)


def succeeded(uow: UnitOfWork, attempt_id: int, key: str, address: str) -> None:
    """The attempt was right: it marks the address as known and clears that pair's failures."""
    uow.login_attempts.mark_succeeded(attempt_id, key, address)


@contextlib.contextmanager
def hashing_slot(rt: Runtime) -> Iterator[None]:
    """Hold one of this process's few password-hashing slots (argon2 takes 64 MiB and tens of milliseconds)."""
    slots = rt.extras.get(_SLOTS_KEY)
    if slots is None:
        slots = rt.extras.setdefault(_SLOTS_KEY, threading.BoundedSemaphore(rt.settings.login_concurrent_hashes))
    if not slots.acquire(timeout=HASH_WAIT_SECONDS):
        raise LoginThrottled(BUSY, 5)
    try:
        yield
    finally:
        slots.release()
