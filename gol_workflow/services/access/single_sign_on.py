"""Single sign-on through the region's OpenID Connect provider: authorization code flow with PKCE.

The web starts a login with `begin` (keeping state, nonce and code verifier in the visitor's
session), and hands the provider's answer to `finish`, which exchanges the code, checks the ID
token (signature, issuer, audience, expiry, nonce) and reads the claims; `sign_in` then finds or
creates the account in one transaction. Roles and zones come from configured claims when the
provider sends them; otherwise an administrator gives them to a person waiting for it.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.errors import ExpiredTokenError, JoseError
from joserfc.jwk import KeySet

from ...config import OidcSettings
from ...domain.errors import GolError
from ...persistence.uow import UnitOfWork
from ..workflow.runtime import Runtime
from . import roles as declared_roles
from .users import User, user_from_row

DISCOVERY_PATH = "/.well-known/openid-configuration"
DISCOVERY_TTL = 3600.0  # seconds a provider's discovery document and keys are reused
LEEWAY = 60  # seconds of clock difference tolerated with the provider
CLAIMS_ACTOR = "single-sign-on"  # the audit's actor for changes the provider's claims make
REQUIRED_METADATA = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")


class SignOnError(GolError):
    """A single sign-on login that cannot go on."""


class NotConfigured(SignOnError):
    """Single sign-on is not configured (GOL_OIDC_ISSUER)."""


class ProviderUnavailable(SignOnError):
    """The identity provider did not answer, or answered something unusable; `problems` lists each."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [message]


class SignOnRejected(SignOnError):
    """The provider's answer does not prove who the person is (state, nonce, signature, audience...)."""


class TokenExpired(SignOnRejected):
    """The ID token had expired when it arrived."""


class NotEnabled(SignOnError):
    """The person is known but has no role yet: an administrator enables the account."""

    def __init__(self, message: str, username: str) -> None:
        super().__init__(message)
        self.username = username


class Refused(SignOnError):
    """The person has no role in the provider's claims and unknown people are refused (nothing was created)."""


class AccountDisabled(SignOnError):
    """The person's account was disabled by an administrator."""


@dataclass(frozen=True)
class Provider:
    """What the provider's discovery document says, as far as this service uses it."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None
    end_session_endpoint: str | None
    algorithms: tuple[str, ...]


@dataclass(frozen=True)
class Attempt:
    """A login sent to the provider: where to send the browser and what to keep until it comes back."""

    url: str
    state: str
    nonce: str
    code_verifier: str


@dataclass(frozen=True)
class Identity:
    """The person the provider vouched for, and what its claims say they may do."""

    issuer: str
    subject: str
    username: str
    email: str | None
    email_verified: bool
    full_name: str | None
    role: str | None  # None: no claim value maps to a declared role
    zones: tuple[str, ...] | None  # None: zones are not taken from the claims
    id_token: str


_lock = threading.Lock()
_discovered: dict[str, tuple[float, Provider, KeySet | None]] = {}


def mapping_problems(oidc: OidcSettings, declared: Iterable[str]) -> list[str]:
    """What the claim mapping names that the role file does not declare (each in plain words)."""
    known = set(declared)
    return [f"GOL_OIDC_ROLE_MAP maps {value!r} to the role {role!r}, which the role file does not declare "
            f"(declared: {', '.join(sorted(known))})" for value, role in oidc.role_map if role not in known]


def provider_problems(oidc: OidcSettings) -> list[str]:
    """Whether the provider answers with a usable discovery document (the problems, none when it does)."""
    try:
        discover(oidc)
    except ProviderUnavailable as exc:
        return list(exc.problems)
    return []


def _settings(rt: Runtime) -> OidcSettings:
    if rt.settings.oidc is None:
        raise NotConfigured("single sign-on is not configured (GOL_OIDC_ISSUER)")
    return rt.settings.oidc


def enabled(rt: Runtime) -> bool:
    """Whether single sign-on is configured."""
    return rt.settings.oidc is not None


def discover(oidc: OidcSettings) -> Provider:
    """Read and check the provider's discovery document; every problem in it is reported at once."""
    url = oidc.issuer + DISCOVERY_PATH
    try:
        response = requests.get(url, timeout=oidc.timeout, headers={"Accept": "application/json"})
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise ProviderUnavailable(f"the identity provider's discovery document {url} cannot be read: "
                                  f"{type(exc).__name__}: {exc}") from None
    if not isinstance(document, dict):
        raise ProviderUnavailable(f"{url} is not a JSON object")
    problems = [f"{url} lacks {key}" for key in REQUIRED_METADATA if not isinstance(document.get(key), str)]
    if isinstance(document.get("issuer"), str) and document["issuer"].rstrip("/") != oidc.issuer:
        problems.append(f"{url} names the issuer {document['issuer']!r}, not GOL_OIDC_ISSUER {oidc.issuer!r}")
    if "code" not in document.get("response_types_supported", ["code"]):
        problems.append(f"{url}: the provider does not offer the authorization code flow")
    methods = document.get("code_challenge_methods_supported")
    if methods is not None and "S256" not in methods:
        problems.append(f"{url}: the provider does not accept PKCE with S256")
    if problems:
        raise ProviderUnavailable("; ".join(problems), problems)
    algorithms = tuple(a for a in document.get("id_token_signing_alg_values_supported", ["RS256"]) if a != "none")
    return Provider(
        issuer=document["issuer"], authorization_endpoint=document["authorization_endpoint"],
        token_endpoint=document["token_endpoint"], jwks_uri=document["jwks_uri"],
        userinfo_endpoint=document.get("userinfo_endpoint"),
        end_session_endpoint=document.get("end_session_endpoint"), algorithms=algorithms or ("RS256",),
    )


def provider(rt: Runtime) -> Provider:
    """The configured provider's metadata, read again at most once an hour."""
    oidc = _settings(rt)
    with _lock:
        cached = _discovered.get(oidc.issuer)
    if cached is not None and time.monotonic() - cached[0] < DISCOVERY_TTL:
        return cached[1]
    found = discover(oidc)
    with _lock:
        _discovered[oidc.issuer] = (time.monotonic(), found, None)
    return found


def _keys(rt: Runtime, found: Provider, refresh: bool = False) -> KeySet:
    oidc = _settings(rt)
    with _lock:
        cached = _discovered.get(oidc.issuer)
    if cached is not None and cached[2] is not None and not refresh:
        return cached[2]
    try:
        response = requests.get(found.jwks_uri, timeout=oidc.timeout)
        response.raise_for_status()
        keys = KeySet.import_key_set(response.json())
    except (requests.RequestException, ValueError, JoseError) as exc:
        raise ProviderUnavailable(f"the provider's keys ({found.jwks_uri}) cannot be read: {exc}") from None
    with _lock:
        _discovered[oidc.issuer] = (cached[0] if cached else time.monotonic(), found, keys)
    return keys


def forget_provider() -> None:
    """Read the providers' metadata and keys again at the next login (a provider changed its keys)."""
    with _lock:
        _discovered.clear()


def _client(oidc: OidcSettings, redirect_uri: str) -> OAuth2Session:
    return OAuth2Session(oidc.client_id, oidc.client_secret, scope=oidc.scopes, redirect_uri=redirect_uri,
                         code_challenge_method="S256", default_timeout=oidc.timeout,
                         leeway=0)  # the access token is used at once: even a very short-lived one will do


def begin(rt: Runtime, redirect_uri: str) -> Attempt:
    """Start a login: the provider's authorization address with fresh state, nonce and PKCE verifier."""
    oidc = _settings(rt)
    found = provider(rt)
    verifier, nonce, state = secrets.token_urlsafe(64), secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    with _client(oidc, redirect_uri) as client:
        url, _ = client.create_authorization_url(found.authorization_endpoint, state=state, code_verifier=verifier,
                                                 nonce=nonce)
    return Attempt(url, state, nonce, verifier)


def finish(rt: Runtime, attempt: Mapping[str, str], redirect_uri: str, answer: Mapping[str, str]) -> Identity:
    """Check the provider's answer to `attempt` (state, code), exchange the code, verify the ID token."""
    oidc = _settings(rt)
    expected = attempt.get("state") or ""
    if not expected or not secrets.compare_digest(expected, answer.get("state") or ""):
        raise SignOnRejected("the answer does not belong to a login started in this browser (state)")
    if answer.get("error"):
        raise SignOnRejected(f"the provider refused the login: {answer['error']}")
    if not answer.get("code"):
        raise SignOnRejected("the provider's answer has no authorization code")
    found = provider(rt)
    if answer.get("iss") and answer["iss"] != found.issuer:  # RFC 9207: the answer of another provider
        raise SignOnRejected("the answer comes from another provider (iss)")
    try:
        with _client(oidc, redirect_uri) as client:
            token = client.fetch_token(found.token_endpoint, code=answer["code"],
                                       code_verifier=attempt.get("code_verifier"))
            id_token = token.get("id_token")
            if not isinstance(id_token, str):
                raise SignOnRejected("the provider's token answer has no ID token")
            claims = _verified_claims(rt, found, id_token, attempt.get("nonce") or "")
            if found.userinfo_endpoint and token.get("access_token"):
                response = client.get(found.userinfo_endpoint)
                response.raise_for_status()
                extra = response.json()
                if not isinstance(extra, dict) or extra.get("sub") != claims["sub"]:
                    raise SignOnRejected("the provider's user information is about someone else")
                claims = {**extra, **claims}
    except (AuthlibBaseError, requests.RequestException, ValueError) as exc:
        raise SignOnRejected(f"the provider did not complete the login: {type(exc).__name__}: {exc}") from None
    return _identity(rt, oidc, found, claims, id_token)


def _verified_claims(rt: Runtime, found: Provider, id_token: str, nonce: str) -> dict[str, Any]:
    oidc = _settings(rt)
    try:
        decoded = jwt.decode(id_token, _keys(rt, found), algorithms=list(found.algorithms))
    except JoseError:
        try:  # the provider may have rotated its keys since they were read
            decoded = jwt.decode(id_token, _keys(rt, found, refresh=True), algorithms=list(found.algorithms))
        except JoseError as exc:
            raise SignOnRejected(f"the ID token's signature does not verify: {exc}") from None
    claims = dict(decoded.claims)
    registry = jwt.JWTClaimsRegistry(
        now=int(rt.wall_now().timestamp()), leeway=LEEWAY,
        iss={"essential": True, "value": found.issuer}, aud={"essential": True, "value": oidc.client_id},
        sub={"essential": True}, exp={"essential": True}, iat={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    try:
        registry.validate(claims)
    except ExpiredTokenError:
        raise TokenExpired("the ID token had expired when it arrived") from None
    except JoseError as exc:
        raise SignOnRejected(f"the ID token is not for this service: {exc}") from None
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != oidc.client_id:
        raise SignOnRejected("the ID token was issued to another party (azp)")
    return claims


def _values(claim: object) -> list[str]:
    if isinstance(claim, str):
        return claim.replace(",", " ").split()
    if isinstance(claim, Iterable) and not isinstance(claim, Mapping):
        return [str(v) for v in claim]
    return []


def mapped_role(oidc: OidcSettings, claims: Mapping[str, Any], declared: Iterable[str]) -> str | None:
    """The role the claims give: the first mapping whose value they carry (or, unmapped, a declared role)."""
    if not oidc.roles_claim:
        return None
    values, known = _values(claims.get(oidc.roles_claim)), set(declared)
    if oidc.role_map:
        return next((role for value, role in oidc.role_map if value in values and role in known), None)
    return next((value for value in values if value in known), None)


def _identity(rt: Runtime, oidc: OidcSettings, found: Provider, claims: Mapping[str, Any], id_token: str) -> Identity:
    subject = str(claims["sub"])
    email = claims.get("email") if isinstance(claims.get("email"), str) else None
    username = next((str(v).strip() for v in (claims.get(oidc.username_claim), email, subject)
                     if isinstance(v, str) and v.strip()), subject)
    name = claims.get("name") or " ".join(str(claims[k]) for k in ("given_name", "family_name") if claims.get(k))
    zones = None
    if oidc.zones_claim:
        zones = tuple(sorted({z for z in _values(claims.get(oidc.zones_claim)) if not rt.zones or z in rt.zones}))
    return Identity(
        issuer=found.issuer, subject=subject, username=_clean(username, 150), email=_clean(email, 255) or None,
        email_verified=claims.get("email_verified") is True, full_name=_clean(str(name), 255) or None,
        role=mapped_role(oidc, claims, declared_roles.current().names()), zones=zones, id_token=id_token,
    )


def _clean(text: str | None, limit: int) -> str:
    return "".join(c for c in (text or "") if c.isprintable())[:limit].strip()


def sign_in(rt: Runtime, identity: Identity, remote: str | None = None) -> User:
    """Find (or create) the account of the person the provider vouched for and note the login.

    The account is found by issuer and subject, or the first time by its verified e-mail address.
    Role and zones follow the claims when they carry them; a person without a role is refused, or
    waits for an administrator (GOL_OIDC_UNKNOWN_USERS).
    """
    oidc = _settings(rt)
    now = rt.now()
    from_claims = identity.role is not None
    with rt.uow() as uow:
        row = uow.users.by_identity(identity.issuer, identity.subject)
        if row is None and identity.email and identity.email_verified:
            matches = uow.users.unlinked_by_email(identity.email)
            row = matches[0] if len(matches) == 1 else None
            if row is not None:
                uow.users.update(row["id"], {"oidc_issuer": identity.issuer, "oidc_subject": identity.subject})
                uow.audit.record(now, CLAIMS_ACTOR, "user.linked", data={"user": row["username"]})
        if row is None:
            if not from_claims and oidc.unknown_users == "refuse":
                uow.audit.record(now, identity.username, "user.login_refused",
                                 data={"reason": "no_role", "remote": remote, "method": "oidc"})
                uow.commit()
                raise Refused(f"{identity.username} has no role for this service")
            user_id = uow.users.add({
                "username": _free_username(uow, identity), "full_name": identity.full_name, "email": identity.email,
                "password_hash": None, "role": identity.role or "", "zones": list(identity.zones or ()),
                "services": [], "active": from_claims, "pending": not from_claims, "failed_logins": 0,
                "created_at": now, "oidc_issuer": identity.issuer, "oidc_subject": identity.subject,
                "access_from_claims": from_claims,
            })
            row = uow.users.get(user_id)
            assert row is not None
            uow.audit.record(now, CLAIMS_ACTOR, "user.created",
                             data={"user": row["username"], "role": identity.role, "zones": list(identity.zones or ()),
                                   "pending": not from_claims})
        elif not row["active"] and not row["pending"]:
            uow.audit.record(now, row["username"], "user.login_failed",
                             data={"reason": "disabled", "remote": remote, "method": "oidc"})
            uow.commit()
            raise AccountDisabled(f"the account {row['username']!r} is disabled")
        else:
            row = _follow_claims(uow, row, identity, now)
        if row["pending"]:
            uow.commit()
            raise NotEnabled(f"{row['username']} waits for an administrator to give a role", row["username"])
        uow.users.record_login(row["id"], now)
        uow.audit.record(now, row["username"], "user.login", data={"remote": remote, "method": "oidc"})
        row = uow.users.get(row["id"])
        uow.commit()
    assert row is not None
    return user_from_row(row)


def _follow_claims(uow: UnitOfWork, row: Mapping[str, Any], identity: Identity, now: datetime) -> Mapping[str, Any]:
    """Bring an account's role, zones, name and e-mail in line with the claims; open sessions end on a change."""
    values: dict[str, Any] = {}
    if identity.role is not None:
        if identity.role != row["role"] or row["pending"] or not row["active"]:
            values.update(role=identity.role, pending=False, active=True)
        if not row["access_from_claims"]:
            values["access_from_claims"] = True
        if identity.zones is not None and sorted(identity.zones) != sorted(row["zones"] or ()):
            values["zones"] = list(identity.zones)
    elif row["access_from_claims"]:
        # The provider took the role back: the account waits again instead of keeping what it had.
        values.update(role="", pending=True, active=False, access_from_claims=False)
    access = {k: v for k, v in values.items() if k in ("role", "zones", "pending", "active")}
    if identity.full_name and identity.full_name != row["full_name"]:
        values["full_name"] = identity.full_name
    if identity.email and identity.email != row["email"]:
        values["email"] = identity.email
    if not values:
        return row
    uow.users.update(row["id"], values)
    if access:
        ended = uow.sessions.end_for_user(row["id"])
        uow.audit.record(now, CLAIMS_ACTOR, "user.access_changed",
                         data={"user": row["username"], **access, "sessions_ended": ended})
    updated = uow.users.get(row["id"])
    assert updated is not None
    return updated


def _free_username(uow: UnitOfWork, identity: Identity) -> str:
    """The claim's username, or (when a local account has it) the same with a suffix from the subject."""
    if uow.users.by_username(identity.username) is None:
        return identity.username
    suffix = hashlib.sha256(f"{identity.issuer} {identity.subject}".encode()).hexdigest()[:8]
    return f"{identity.username[:140]}.{suffix}"


def logout_url(rt: Runtime, id_token: str | None, post_logout_redirect_uri: str) -> str | None:
    """Where to send the browser so the provider ends its session too (RP-initiated logout); None if it cannot."""
    if rt.settings.oidc is None or not id_token:
        return None
    try:
        found = provider(rt)
    except ProviderUnavailable:
        return None  # the service's own session is over either way
    if not found.end_session_endpoint:
        return None
    query = urlencode({"id_token_hint": id_token, "post_logout_redirect_uri": post_logout_redirect_uri,
                       "client_id": rt.settings.oidc.client_id})
    separator = "&" if "?" in found.end_session_endpoint else "?"
    return f"{found.end_session_endpoint}{separator}{query}"
