"""Settings read once from the environment, with safe defaults for a local run."""

from __future__ import annotations

import os
import secrets
import tempfile
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

DEFAULT_VAR_DIR = Path("var")
DEFAULT_MAX_REQUEST_BYTES = 1024 * 1024


class ConfigurationError(RuntimeError):
    """One or more settings are missing or malformed; `problems` lists each in plain words."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [message]


@dataclass(frozen=True)
class SmtpSettings:
    """Where outgoing e-mail goes."""

    host: str = "localhost"
    port: int = 25
    security: str = "none"  # none | starttls | tls
    username: str | None = None
    password: str | None = None
    sender: str = "gol-workflow@localhost"
    timeout: float = 10.0


@dataclass(frozen=True)
class OidcSettings:
    """The region's OpenID Connect identity provider and how its claims become roles and zones."""

    issuer: str
    client_id: str
    client_secret: str
    scopes: str = "openid profile email"
    username_claim: str = "preferred_username"  # the account's name; email, then sub, when missing
    roles_claim: str | None = None  # None: an administrator gives each new person a role
    role_map: tuple[tuple[str, str], ...] = ()  # claim value -> role, first match wins; empty: values are roles
    zones_claim: str | None = None  # None: zones are given by an administrator
    unknown_users: str = "pending"  # pending: a person without a role waits for an administrator | refuse
    timeout: float = 10.0  # seconds the provider has to answer one request


@dataclass(frozen=True)
class Settings:
    """Everything the service needs to know about where it runs."""

    database_url: str
    processes_dir: Path
    forms_dir: Path
    zones_dir: Path
    var_dir: Path
    secret_key: str
    timezone: str = "Europe/Rome"
    roles_file: Path = Path("processes/roles.toml")  # the roles, their labels and what each may see
    production: bool = False
    clock: str = "system"  # system | simulated
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    idol_url: str | None = None
    idol_token: str | None = None
    idol_timeout: float = 15.0  # seconds IDOL has to answer one request before it counts as a failure
    service_name: str = "Regione Toscana"  # header title of the pages; the territory follows when there is one
    attachments_dir: Path | None = None
    embedded_scheduler: bool = True
    workflow_cache_size: int = 512
    workflow_cache_mb: float = 128.0  # serialised-state megabytes the workflow cache may hold per process
    archive_after_months: int | None = None  # the scheduler archives cases closed this long ago (None: it does not)
    database_pool_size: int = 10  # connections each process keeps open (as many again may be opened at peaks)
    database_pooler: str = "none"  # "transaction": a transaction-pooling proxy (PgBouncer) is in front
    script_time_limit: float = 2.0
    script_memory_limit: int = 128  # MB one script, condition or expression may add to the process
    digest_hour: int = 7  # local hour of the daily digest of new and overdue tasks
    base_url: str = "http://127.0.0.1:8000"  # the operator web's address, for links in e-mail
    mail_expiry: timedelta = timedelta(days=7)  # an e-mail not sent by then is given up ("expired")
    scheduler_max_attempts: int = 5  # a due item failing or timing out this often becomes an incident
    scheduler_step_timeout: float = 1.5  # seconds a scheduler waits for one step before going on without it
    scheduler_lease: float = 300.0  # seconds a claimed item is left to its scheduler before another takes it
    session_idle_minutes: float = 30.0
    session_max_hours: float = 10.0
    proxy_hops: int = 0
    login_window_minutes: float = 15.0
    login_max_failures: int = 5  # per username and client address, in the window
    login_max_failures_per_address: int = 20  # per client address, whatever the username
    login_max_failures_per_account: int = 50  # per username from every address: then only known addresses
    login_rate_limit: str = "30 per minute"  # POST /accesso per client address (Flask-Limiter); "" disables
    ratelimit_storage_uri: str = "memory://"
    login_concurrent_hashes: int = 2  # password hashes computed at once by one process
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES  # request bodies, except file uploads
    log_format: str = "text"  # json: one JSON object per line (the default in production)
    metrics_token: str | None = None  # when set, /metrics asks for it as a bearer token
    ready_heartbeat_seconds: float = 60.0  # /readyz fails when no scheduler beat for this long
    ready_max_outbox: int = 1000  # /readyz fails with more e-mail than this waiting
    ready_max_incidents: int = 100  # /readyz fails with more instances in error and overdue cut-offs than this
    oidc: OidcSettings | None = None  # single sign-on through the region's identity provider, when set
    local_login: str = "all"  # all | admins: who may log in with a local username and password

    def with_overrides(self, **changes: object) -> "Settings":
        """Return a copy with some settings replaced (tests, CLI flags)."""
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def attachments_path(self) -> Path:
        """Folder where uploaded attachments are stored."""
        return self.attachments_dir or self.var_dir / "attachments"


class _Reader:
    """Reads settings from the environment and collects every problem instead of stopping at the first."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.problems: list[str] = []

    def text(self, name: str, default: str) -> str:
        return self.env.get(name, default)

    def number(self, name: str, default: float, kind: type = float, minimum: float | None = None,
               maximum: float | None = None, what: str = "a number") -> Any:
        raw = self.env.get(name)
        if raw is None or raw.strip() == "":
            return kind(default)
        try:
            value = kind(raw)
        except ValueError:
            self.problems.append(f"{name} must be {what}, not {raw!r}")
            return kind(default)
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            self.problems.append(f"{name} is out of range: {raw!r}" + _range(minimum, maximum))
            return kind(default)
        return value

    def positive(self, name: str, default: float) -> float:
        raw = self.env.get(name)
        if not raw:
            return default
        try:
            number = float(raw)
        except ValueError:
            self.problems.append(f"{name} must be a number of seconds")
            return default
        if number <= 0:
            self.problems.append(f"{name} must be positive")
            return default
        return number

    def choice(self, name: str, default: str, allowed: tuple[str, ...]) -> str:
        value = self.env.get(name, default).strip().lower() or default
        if value not in allowed:
            self.problems.append(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
            return default
        return value


def _range(minimum: float | None, maximum: float | None) -> str:
    if minimum is not None and maximum is not None:
        return f" (from {minimum:g} to {maximum:g})"
    if minimum is not None:
        return f" (at least {minimum:g})"
    return f" (at most {maximum:g})"


def _local_secret(var_dir: Path) -> str:
    """Generate the local secret once and keep it under var/ for later runs."""
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    make_private_dir(var_dir)
    key = secrets.token_urlsafe(48)
    # Written whole under a private name (mkstemp: mode 0600), then linked into place: several processes starting
    # together (web workers, CLI runs) agree on the first key and never read a half-written one.
    fd, draft = tempfile.mkstemp(dir=var_dir, prefix=".secret_key.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(key)
        try:
            os.link(draft, path)
        except FileExistsError:
            return path.read_text(encoding="utf-8").strip()
    finally:
        os.unlink(draft)
    return key


def make_private_dir(path: Path) -> None:
    """Create a folder only its owner can enter (0700); an existing one is left as it is."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)


def _flag(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Read the settings from environment variables (GOL_*); every problem is reported at once."""
    settings, problems = read_settings(env)
    if problems:
        raise ConfigurationError("; ".join(problems), problems)
    assert settings is not None
    return settings


def read_settings(env: dict[str, str] | None = None) -> tuple[Settings | None, list[str]]:
    """The settings and every problem found in them (no settings when there is one)."""
    env = dict(os.environ if env is None else env)
    read = _Reader(env)
    var_dir = Path(env.get("GOL_VAR_DIR", DEFAULT_VAR_DIR))
    production = _flag(env.get("GOL_PRODUCTION"), False)
    database_url = env.get("GOL_DATABASE_URL") or f"sqlite:///{var_dir / 'gol-workflow.sqlite3'}"
    if not database_url.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:", "postgres:")):
        read.problems.append("GOL_DATABASE_URL must be a sqlite:/// or postgresql:// URL")
    secret = env.get("GOL_SECRET_KEY")
    if not secret and production:
        read.problems.append("GOL_SECRET_KEY is required when GOL_PRODUCTION is set")
    elif production and len(secret or "") < 32:
        read.problems.append("GOL_SECRET_KEY must be at least 32 characters long in production")
    clock = env.get("GOL_CLOCK", "system").strip().lower()
    if clock not in {"system", "simulated"}:
        read.problems.append(f"GOL_CLOCK must be 'system' or 'simulated', not {clock!r}")
        clock = "system"
    security = env.get("GOL_SMTP_SECURITY", "none").strip().lower()
    if security not in {"none", "starttls", "tls"}:
        read.problems.append("GOL_SMTP_SECURITY must be none, starttls or tls")
        security = "none"
    smtp = SmtpSettings(
        host=env.get("GOL_SMTP_HOST", "localhost"),
        port=read.number("GOL_SMTP_PORT", 25, int, 1, 65535, "a port number"),
        security=security,
        username=env.get("GOL_SMTP_USERNAME") or None,
        password=env.get("GOL_SMTP_PASSWORD") or None,
        sender=env.get("GOL_SMTP_SENDER", "gol-workflow@localhost"),
    )
    cache_size = read.number("GOL_WORKFLOW_CACHE_SIZE", 512, int, 0, what="a whole number")
    cache_mb = read.number("GOL_WORKFLOW_CACHE_MB", 128.0, float, 0, what="a number of MB")
    archive_after = env.get("GOL_ARCHIVE_AFTER_MONTHS", "").strip()
    archive_months = read.number("GOL_ARCHIVE_AFTER_MONTHS", 12, int, 0, what="a whole number") if archive_after else None
    pool_size = read.number("GOL_DATABASE_POOL_SIZE", 10, int, 1, 1000, what="a whole number")
    pooler = read.choice("GOL_DATABASE_POOLER", "none", ("none", "transaction"))
    if pooler == "transaction" and not database_url.startswith(("postgresql://", "postgres://", "postgresql+")):
        read.problems.append("GOL_DATABASE_POOLER=transaction needs a PostgreSQL GOL_DATABASE_URL")
    if pooler == "transaction" and _flag(env.get("GOL_EMBEDDED_SCHEDULER"), not production):
        # Its lock is a session advisory lock: through transaction pooling it would not hold.
        read.problems.append("GOL_DATABASE_POOLER=transaction needs GOL_EMBEDDED_SCHEDULER=0 "
                             "(run `gol-workflow scheduler` processes instead)")
    script_limit = read.number("GOL_SCRIPT_TIME_LIMIT", 2.0)
    script_memory = read.number("GOL_SCRIPT_MEMORY_LIMIT", 128, int, what="a whole number of MB")
    if script_limit <= 0 or script_memory <= 0:
        read.problems.append("GOL_SCRIPT_TIME_LIMIT and GOL_SCRIPT_MEMORY_LIMIT must be positive")
    digest_hour = read.number("GOL_DIGEST_HOUR", 7, int, what="an hour")
    if not 0 <= digest_hour <= 23:
        read.problems.append("GOL_DIGEST_HOUR must be an hour from 0 to 23")
    mail_expiry = timedelta(days=read.number("GOL_MAIL_EXPIRY_DAYS", 7.0))
    max_attempts = read.number("GOL_SCHEDULER_MAX_ATTEMPTS", 5, int, what="a whole number")
    step_timeout = read.number("GOL_SCHEDULER_STEP_TIMEOUT", 1.5)
    lease = read.number("GOL_SCHEDULER_LEASE", 300.0)
    if max_attempts < 1 or step_timeout <= 0 or lease <= step_timeout or mail_expiry <= timedelta(0):
        read.problems.append("GOL_SCHEDULER_MAX_ATTEMPTS must be at least 1, GOL_MAIL_EXPIRY_DAYS positive and "
                             "GOL_SCHEDULER_LEASE longer than GOL_SCHEDULER_STEP_TIMEOUT")
    max_request = read.number("GOL_MAX_REQUEST_BYTES", DEFAULT_MAX_REQUEST_BYTES, int, what="a number of bytes")
    if max_request < 16 * 1024:
        read.problems.append("GOL_MAX_REQUEST_BYTES must be at least 16384")
    protection = _security_settings(read)
    operations = _operations_settings(read, production)
    sign_on = _sign_on_settings(read, production)
    idol_timeout = read.positive("GOL_IDOL_TIMEOUT", 15.0)
    if not secret and not read.problems:
        secret = _local_secret(var_dir)
    if read.problems:
        return None, read.problems
    attachments = env.get("GOL_ATTACHMENTS_DIR")
    return Settings(
        database_url=database_url,
        processes_dir=Path(env.get("GOL_PROCESSES_DIR", "processes")),
        forms_dir=Path(env.get("GOL_FORMS_DIR", "forms")),
        roles_file=Path(env.get("GOL_ROLES_FILE") or Path(env.get("GOL_PROCESSES_DIR", "processes")) / "roles.toml"),
        zones_dir=Path(env.get("GOL_ZONES_DIR", "zones")),
        var_dir=var_dir,
        secret_key=secret or "",
        timezone=env.get("GOL_TIMEZONE", "Europe/Rome"),
        production=production,
        clock=clock,
        smtp=smtp,
        idol_url=env.get("GOL_IDOL_URL") or None,
        idol_token=env.get("GOL_IDOL_TOKEN") or None,
        idol_timeout=idol_timeout,
        service_name=(env.get("GOL_SERVICE_NAME") or "Regione Toscana").strip(),
        attachments_dir=Path(attachments) if attachments else None,
        embedded_scheduler=_flag(env.get("GOL_EMBEDDED_SCHEDULER"), not production),
        workflow_cache_size=cache_size,
        workflow_cache_mb=cache_mb,
        archive_after_months=archive_months,
        database_pool_size=pool_size,
        database_pooler=pooler,
        script_time_limit=script_limit,
        script_memory_limit=script_memory,
        digest_hour=digest_hour,
        base_url=(env.get("GOL_BASE_URL") or "http://127.0.0.1:8000").rstrip("/"),
        mail_expiry=mail_expiry,
        scheduler_max_attempts=max_attempts,
        scheduler_step_timeout=step_timeout,
        scheduler_lease=lease,
        **protection,  # type: ignore[arg-type]
        **operations,  # type: ignore[arg-type]
        **sign_on,  # type: ignore[arg-type]
        max_request_bytes=max_request,
    ), []


def _operations_settings(read: _Reader, production: bool) -> dict[str, object]:
    """Logs, metrics and readiness thresholds (GOL_LOG_FORMAT, GOL_METRICS_TOKEN, GOL_READY_*)."""
    return {
        "log_format": read.choice("GOL_LOG_FORMAT", "json" if production else "text", ("json", "text")),
        "metrics_token": read.text("GOL_METRICS_TOKEN", "").strip() or None,
        "ready_heartbeat_seconds": read.number("GOL_READY_HEARTBEAT_SECONDS", 60.0, float, 1),
        "ready_max_outbox": read.number("GOL_READY_MAX_OUTBOX", 1000, int, 0, what="a whole number"),
        "ready_max_incidents": read.number("GOL_READY_MAX_INCIDENTS", 100, int, 0, what="a whole number"),
    }


def _sign_on_settings(read: _Reader, production: bool) -> dict[str, object]:
    """Single sign-on (GOL_OIDC_*) and who may still log in locally (GOL_LOCAL_LOGIN)."""
    env = read.env
    local_login = read.choice("GOL_LOCAL_LOGIN", "all", ("all", "admins"))
    issuer = env.get("GOL_OIDC_ISSUER", "").strip().rstrip("/")
    client_id = env.get("GOL_OIDC_CLIENT_ID", "").strip()
    client_secret = env.get("GOL_OIDC_CLIENT_SECRET", "").strip()
    others = sorted(name for name in env if name.startswith("GOL_OIDC_") and env[name].strip()
                    and name not in {"GOL_OIDC_ISSUER", "GOL_OIDC_CLIENT_ID", "GOL_OIDC_CLIENT_SECRET"})
    if not issuer:
        if client_id or client_secret or others:
            named = ", ".join(n for n in ["GOL_OIDC_CLIENT_ID" if client_id else "",
                                          "GOL_OIDC_CLIENT_SECRET" if client_secret else "", *others] if n)
            read.problems.append(f"{named} set without GOL_OIDC_ISSUER: single sign-on needs the provider's address")
        if local_login == "admins":
            read.problems.append("GOL_LOCAL_LOGIN=admins needs single sign-on (GOL_OIDC_ISSUER): "
                                 "otherwise only administrators could log in")
        return {"oidc": None, "local_login": local_login}
    problem = _issuer_problem(issuer, production)
    if problem:
        read.problems.append(problem)
    if not client_id or not client_secret:
        missing = " and ".join(n for n, v in (("GOL_OIDC_CLIENT_ID", client_id),
                                              ("GOL_OIDC_CLIENT_SECRET", client_secret)) if not v)
        read.problems.append(f"GOL_OIDC_ISSUER is set but {missing} is not: the client id and secret go together")
    scopes = " ".join(env.get("GOL_OIDC_SCOPES", "").split()) or "openid profile email"
    if "openid" not in scopes.split():
        read.problems.append(f"GOL_OIDC_SCOPES must include openid, not {scopes!r}")
    roles_claim = env.get("GOL_OIDC_ROLES_CLAIM", "").strip() or None
    role_map = _role_map(read, env.get("GOL_OIDC_ROLE_MAP", ""))
    if role_map and not roles_claim:
        read.problems.append("GOL_OIDC_ROLE_MAP is set but GOL_OIDC_ROLES_CLAIM is not: say which claim holds the "
                             "values it maps")
    oidc = OidcSettings(
        issuer=issuer, client_id=client_id, client_secret=client_secret, scopes=scopes,
        username_claim=env.get("GOL_OIDC_USERNAME_CLAIM", "").strip() or "preferred_username",
        roles_claim=roles_claim, role_map=role_map,
        zones_claim=env.get("GOL_OIDC_ZONES_CLAIM", "").strip() or None,
        unknown_users=read.choice("GOL_OIDC_UNKNOWN_USERS", "pending", ("pending", "refuse")),
        timeout=read.positive("GOL_OIDC_TIMEOUT", 10.0),
    )
    return {"oidc": oidc, "local_login": local_login}


def _issuer_problem(issuer: str, production: bool) -> str | None:
    parts = urlsplit(issuer)
    loopback = parts.hostname in {"localhost", "127.0.0.1", "::1"}
    if parts.scheme not in {"https", "http"} or not parts.hostname or parts.query or parts.fragment:
        return f"GOL_OIDC_ISSUER must be the provider's https:// address, not {issuer!r}"
    if parts.scheme == "http" and (production or not loopback):
        return f"GOL_OIDC_ISSUER must use https (plain http only for a provider on this machine): {issuer!r}"
    return None


def _role_map(read: _Reader, raw: str) -> tuple[tuple[str, str], ...]:
    """`value=role` pairs separated by commas or new lines, e.g. `gol-cpi=cpi, gol-admin=admin`."""
    pairs: list[tuple[str, str]] = []
    for item in (part.strip() for chunk in raw.splitlines() for part in chunk.split(",")):
        if not item:
            continue
        value, sep, role = (p.strip() for p in item.rpartition("="))
        if not sep or not value or not role:
            read.problems.append(f"GOL_OIDC_ROLE_MAP: {item!r} is not claim-value=role")
            continue
        pairs.append((value, role))
    return tuple(pairs)


def _security_settings(read: _Reader) -> dict[str, object]:
    """Session lifetimes, proxy hops and login limits (GOL_SESSION_*, GOL_PROXY_HOPS, GOL_LOGIN_*)."""
    env = read.env
    positive = {"session_idle_minutes": ("GOL_SESSION_IDLE_MINUTES", 30.0),
                "session_max_hours": ("GOL_SESSION_MAX_HOURS", 10.0),
                "login_window_minutes": ("GOL_LOGIN_WINDOW_MINUTES", 15.0)}
    counts = {"proxy_hops": ("GOL_PROXY_HOPS", 0, 0), "login_max_failures": ("GOL_LOGIN_MAX_FAILURES", 5, 1),
              "login_max_failures_per_address": ("GOL_LOGIN_MAX_FAILURES_PER_ADDRESS", 20, 1),
              "login_max_failures_per_account": ("GOL_LOGIN_MAX_FAILURES_PER_ACCOUNT", 50, 1),
              "login_concurrent_hashes": ("GOL_LOGIN_CONCURRENT_HASHES", 2, 1)}
    values: dict[str, object] = {}
    for key, (name, default) in positive.items():
        value = read.number(name, default)
        if value <= 0:
            read.problems.append(f"{name} must be positive")
        values[key] = value
    for key, (name, whole, minimum) in counts.items():
        number = read.number(name, whole, int, what="a whole number")
        if number < minimum:
            read.problems.append(f"{name} is out of range")
        values[key] = number
    values["login_rate_limit"] = env.get("GOL_LOGIN_RATE_LIMIT", "30 per minute").strip()
    values["ratelimit_storage_uri"] = env.get("GOL_RATELIMIT_STORAGE_URI", "").strip() or "memory://"
    return values
