"""Settings read once from the environment, with safe defaults for a local run."""

from __future__ import annotations

import os
import secrets
import tempfile
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path

DEFAULT_VAR_DIR = Path("var")
DEFAULT_MAX_REQUEST_BYTES = 1024 * 1024


class ConfigurationError(RuntimeError):
    """A required setting is missing or malformed."""


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

    def with_overrides(self, **changes: object) -> "Settings":
        """Return a copy with some settings replaced (tests, CLI flags)."""
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def attachments_path(self) -> Path:
        """Folder where uploaded attachments are stored."""
        return self.attachments_dir or self.var_dir / "attachments"


def _positive(value: str | None, name: str, default: float) -> float:
    """A positive number of seconds from the environment, or `default` when unset."""
    if not value:
        return default
    try:
        number = float(value)
    except ValueError:
        raise ConfigurationError(f"{name} must be a number of seconds") from None
    if number <= 0:
        raise ConfigurationError(f"{name} must be positive")
    return number


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
    """Read the settings from environment variables (GOL_*)."""
    env = dict(os.environ if env is None else env)
    var_dir = Path(env.get("GOL_VAR_DIR", DEFAULT_VAR_DIR))
    production = _flag(env.get("GOL_PRODUCTION"), False)
    database_url = env.get("GOL_DATABASE_URL") or f"sqlite:///{var_dir / 'gol-workflow.sqlite3'}"
    secret = env.get("GOL_SECRET_KEY")
    if not secret:
        if production:
            raise ConfigurationError("GOL_SECRET_KEY is required when GOL_PRODUCTION is set")
        secret = _local_secret(var_dir)
    clock = env.get("GOL_CLOCK", "system").strip().lower()
    if clock not in {"system", "simulated"}:
        raise ConfigurationError(f"GOL_CLOCK must be 'system' or 'simulated', not {clock!r}")
    security = env.get("GOL_SMTP_SECURITY", "none").strip().lower()
    if security not in {"none", "starttls", "tls"}:
        raise ConfigurationError("GOL_SMTP_SECURITY must be none, starttls or tls")
    try:
        smtp = SmtpSettings(
            host=env.get("GOL_SMTP_HOST", "localhost"),
            port=int(env.get("GOL_SMTP_PORT", "25")),
            security=security,
            username=env.get("GOL_SMTP_USERNAME") or None,
            password=env.get("GOL_SMTP_PASSWORD") or None,
            sender=env.get("GOL_SMTP_SENDER", "gol-workflow@localhost"),
        )
        cache_size = int(env.get("GOL_WORKFLOW_CACHE_SIZE", "512"))
        script_limit = float(env.get("GOL_SCRIPT_TIME_LIMIT", "2.0"))
        script_memory = int(env.get("GOL_SCRIPT_MEMORY_LIMIT", "128"))
        digest_hour = int(env.get("GOL_DIGEST_HOUR", "7"))
        mail_expiry = timedelta(days=float(env.get("GOL_MAIL_EXPIRY_DAYS", "7")))
        max_attempts = int(env.get("GOL_SCHEDULER_MAX_ATTEMPTS", "5"))
        step_timeout = float(env.get("GOL_SCHEDULER_STEP_TIMEOUT", "1.5"))
        lease = float(env.get("GOL_SCHEDULER_LEASE", "300"))
        max_request = int(env.get("GOL_MAX_REQUEST_BYTES", str(DEFAULT_MAX_REQUEST_BYTES)))
        protection = _security_settings(env)
    except ValueError as exc:
        raise ConfigurationError(f"malformed numeric setting: {exc}") from exc
    if max_attempts < 1 or step_timeout <= 0 or lease <= step_timeout or mail_expiry <= timedelta(0):
        raise ConfigurationError("GOL_SCHEDULER_MAX_ATTEMPTS must be at least 1, GOL_MAIL_EXPIRY_DAYS positive and "
                                 "GOL_SCHEDULER_LEASE longer than GOL_SCHEDULER_STEP_TIMEOUT")
    if script_limit <= 0 or script_memory <= 0:
        raise ConfigurationError("GOL_SCRIPT_TIME_LIMIT and GOL_SCRIPT_MEMORY_LIMIT must be positive")
    if not 0 <= digest_hour <= 23:
        raise ConfigurationError("GOL_DIGEST_HOUR must be an hour from 0 to 23")
    if max_request < 16 * 1024:
        raise ConfigurationError("GOL_MAX_REQUEST_BYTES must be at least 16384")
    attachments = env.get("GOL_ATTACHMENTS_DIR")
    return Settings(
        database_url=database_url,
        processes_dir=Path(env.get("GOL_PROCESSES_DIR", "processes")),
        forms_dir=Path(env.get("GOL_FORMS_DIR", "forms")),
        roles_file=Path(env.get("GOL_ROLES_FILE") or Path(env.get("GOL_PROCESSES_DIR", "processes")) / "roles.toml"),
        zones_dir=Path(env.get("GOL_ZONES_DIR", "zones")),
        var_dir=var_dir,
        secret_key=secret,
        timezone=env.get("GOL_TIMEZONE", "Europe/Rome"),
        production=production,
        clock=clock,
        smtp=smtp,
        idol_url=env.get("GOL_IDOL_URL") or None,
        idol_token=env.get("GOL_IDOL_TOKEN") or None,
        idol_timeout=_positive(env.get("GOL_IDOL_TIMEOUT"), "GOL_IDOL_TIMEOUT", 15.0),
        service_name=(env.get("GOL_SERVICE_NAME") or "Regione Toscana").strip(),
        attachments_dir=Path(attachments) if attachments else None,
        embedded_scheduler=_flag(env.get("GOL_EMBEDDED_SCHEDULER"), not production),
        workflow_cache_size=cache_size,
        script_time_limit=script_limit,
        script_memory_limit=script_memory,
        digest_hour=digest_hour,
        base_url=(env.get("GOL_BASE_URL") or "http://127.0.0.1:8000").rstrip("/"),
        mail_expiry=mail_expiry,
        scheduler_max_attempts=max_attempts,
        scheduler_step_timeout=step_timeout,
        scheduler_lease=lease,
        **protection,  # type: ignore[arg-type]
        max_request_bytes=max_request,
    )


def _security_settings(env: dict[str, str]) -> dict[str, object]:
    """Session lifetimes, proxy hops and login limits (GOL_SESSION_*, GOL_PROXY_HOPS, GOL_LOGIN_*)."""
    values: dict[str, object] = {
        "session_idle_minutes": float(env.get("GOL_SESSION_IDLE_MINUTES", "30")),
        "session_max_hours": float(env.get("GOL_SESSION_MAX_HOURS", "10")),
        "proxy_hops": int(env.get("GOL_PROXY_HOPS", "0")),
        "login_window_minutes": float(env.get("GOL_LOGIN_WINDOW_MINUTES", "15")),
        "login_max_failures": int(env.get("GOL_LOGIN_MAX_FAILURES", "5")),
        "login_max_failures_per_address": int(env.get("GOL_LOGIN_MAX_FAILURES_PER_ADDRESS", "20")),
        "login_max_failures_per_account": int(env.get("GOL_LOGIN_MAX_FAILURES_PER_ACCOUNT", "50")),
        "login_rate_limit": env.get("GOL_LOGIN_RATE_LIMIT", "30 per minute").strip(),
        "ratelimit_storage_uri": env.get("GOL_RATELIMIT_STORAGE_URI", "").strip() or "memory://",
        "login_concurrent_hashes": int(env.get("GOL_LOGIN_CONCURRENT_HASHES", "2")),
    }
    for name in ("session_idle_minutes", "session_max_hours", "login_window_minutes"):
        if float(values[name]) <= 0:  # type: ignore[arg-type]
            raise ConfigurationError(f"GOL_{name.upper()} must be positive")
    for name in ("proxy_hops", "login_max_failures", "login_max_failures_per_address",
                 "login_max_failures_per_account", "login_concurrent_hashes"):
        if int(values[name]) < (0 if name == "proxy_hops" else 1):  # type: ignore[call-overload]
            raise ConfigurationError(f"GOL_{name.upper()} is out of range")
    return values
