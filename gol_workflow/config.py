"""Settings read once from the environment, with safe defaults for a local run."""

from __future__ import annotations

import os
import secrets
import tempfile
from dataclasses import dataclass, field, replace
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
    production: bool = False
    clock: str = "system"  # system | simulated
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    idol_url: str | None = None
    idol_token: str | None = None
    attachments_dir: Path | None = None
    embedded_scheduler: bool = True
    workflow_cache_size: int = 512
    script_time_limit: float = 2.0
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES  # request bodies, except file uploads

    def with_overrides(self, **changes: object) -> "Settings":
        """Return a copy with some settings replaced (tests, CLI flags)."""
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def attachments_path(self) -> Path:
        """Folder where uploaded attachments are stored."""
        return self.attachments_dir or self.var_dir / "attachments"


def _local_secret(var_dir: Path) -> str:
    """Generate the local secret once and keep it under var/ for later runs."""
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # Written whole under a private name, then linked into place: several processes starting
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
        max_request = int(env.get("GOL_MAX_REQUEST_BYTES", str(DEFAULT_MAX_REQUEST_BYTES)))
    except ValueError as exc:
        raise ConfigurationError(f"malformed numeric setting: {exc}") from exc
    if max_request < 16 * 1024:
        raise ConfigurationError("GOL_MAX_REQUEST_BYTES must be at least 16384")
    attachments = env.get("GOL_ATTACHMENTS_DIR")
    return Settings(
        database_url=database_url,
        processes_dir=Path(env.get("GOL_PROCESSES_DIR", "processes")),
        forms_dir=Path(env.get("GOL_FORMS_DIR", "forms")),
        zones_dir=Path(env.get("GOL_ZONES_DIR", "zones")),
        var_dir=var_dir,
        secret_key=secret,
        timezone=env.get("GOL_TIMEZONE", "Europe/Rome"),
        production=production,
        clock=clock,
        smtp=smtp,
        idol_url=env.get("GOL_IDOL_URL") or None,
        idol_token=env.get("GOL_IDOL_TOKEN") or None,
        attachments_dir=Path(attachments) if attachments else None,
        embedded_scheduler=_flag(env.get("GOL_EMBEDDED_SCHEDULER"), not production),
        workflow_cache_size=cache_size,
        script_time_limit=script_limit,
        max_request_bytes=max_request,
    )
