"""Settings from the environment: safe local defaults, refusals in production, one local secret."""

from __future__ import annotations

import stat
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from gol_workflow.config import ConfigurationError, load_settings
from gol_workflow.persistence.database import create_db_engine


def test_the_local_default_is_sqlite_under_var_with_a_kept_secret(tmp_path: Path) -> None:
    first = load_settings({"GOL_VAR_DIR": str(tmp_path)})
    again = load_settings({"GOL_VAR_DIR": str(tmp_path)})
    assert first.database_url == f"sqlite:///{tmp_path / 'gol-workflow.sqlite3'}"
    assert len(first.secret_key) >= 48 and again.secret_key == first.secret_key
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0  # readable by the owner only
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]  # no draft left behind


def test_processes_starting_together_agree_on_one_secret(tmp_path: Path) -> None:
    # Web workers and CLI runs start at the same moment; every one must end with the same key.
    for attempt in range(20):
        var_dir = tmp_path / str(attempt)
        start = threading.Barrier(12)

        def secret() -> str:
            start.wait()
            return load_settings({"GOL_VAR_DIR": str(var_dir)}).secret_key

        with ThreadPoolExecutor(12) as pool:
            keys = list(pool.map(lambda _: secret(), range(12)))
        assert len(set(keys)) == 1 and keys[0] == (var_dir / "secret_key").read_text().strip()


def test_production_requires_a_secret_from_the_environment(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="GOL_SECRET_KEY is required"):
        load_settings({"GOL_VAR_DIR": str(tmp_path), "GOL_PRODUCTION": "1"})
    assert not (tmp_path / "secret_key").exists()


def test_an_unknown_clock_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="GOL_CLOCK must be"):
        load_settings({"GOL_VAR_DIR": str(tmp_path), "GOL_SECRET_KEY": "k", "GOL_CLOCK": "fast"})


def test_script_limits_come_from_the_environment(tmp_path: Path) -> None:
    settings = load_settings(
        {"GOL_VAR_DIR": str(tmp_path), "GOL_SCRIPT_TIME_LIMIT": "0.5", "GOL_SCRIPT_MEMORY_LIMIT": "64"}
    )
    assert (settings.script_time_limit, settings.script_memory_limit) == (0.5, 64)
    assert load_settings({"GOL_VAR_DIR": str(tmp_path)}).script_memory_limit == 128
    with pytest.raises(ConfigurationError, match="must be positive"):
        load_settings({"GOL_VAR_DIR": str(tmp_path), "GOL_SCRIPT_MEMORY_LIMIT": "0"})


def test_local_data_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    settings = load_settings({"GOL_VAR_DIR": str(var_dir)})
    engine = create_db_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
            conn.commit()
    finally:
        engine.dispose()
    assert stat.S_IMODE(var_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((var_dir / "secret_key").stat().st_mode) == 0o600
    for name in ("gol-workflow.sqlite3", "gol-workflow.sqlite3-wal", "gol-workflow.sqlite3-shm"):
        if (var_dir / name).exists():
            assert stat.S_IMODE((var_dir / name).stat().st_mode) == 0o600, name


def test_an_existing_world_readable_database_file_is_narrowed(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    path.touch(mode=0o644)
    path.chmod(0o644)
    create_db_engine(f"sqlite:///{path}").dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_security_settings_come_from_the_environment(tmp_path: Path) -> None:
    settings = load_settings({"GOL_VAR_DIR": str(tmp_path), "GOL_SESSION_IDLE_MINUTES": "15",
                              "GOL_SESSION_MAX_HOURS": "8", "GOL_PROXY_HOPS": "1", "GOL_LOGIN_MAX_FAILURES": "4",
                              "GOL_RATELIMIT_STORAGE_URI": "redis://cache:6379"})
    assert (settings.session_idle_minutes, settings.session_max_hours, settings.proxy_hops) == (15, 8, 1)
    assert settings.login_max_failures == 4 and settings.ratelimit_storage_uri == "redis://cache:6379"
    defaults = load_settings({"GOL_VAR_DIR": str(tmp_path)})
    assert (defaults.session_idle_minutes, defaults.session_max_hours, defaults.proxy_hops) == (30, 10, 0)
    with pytest.raises(ConfigurationError):
        load_settings({"GOL_VAR_DIR": str(tmp_path), "GOL_SESSION_IDLE_MINUTES": "0"})
def test_the_request_body_cap_is_configurable(tmp_path) -> None:
    base = {"GOL_VAR_DIR": str(tmp_path), "GOL_SECRET_KEY": "k"}
    assert load_settings(base).max_request_bytes == 1024 * 1024
    assert load_settings({**base, "GOL_MAX_REQUEST_BYTES": "65536"}).max_request_bytes == 65536
    with pytest.raises(ConfigurationError, match="GOL_MAX_REQUEST_BYTES"):
        load_settings({**base, "GOL_MAX_REQUEST_BYTES": "100"})
    with pytest.raises(ConfigurationError, match="GOL_MAX_REQUEST_BYTES must be a number of bytes"):
        load_settings({**base, "GOL_MAX_REQUEST_BYTES": "tanti"})


def test_the_example_alerts_name_only_metrics_the_service_exports() -> None:
    import re

    import yaml

    from gol_workflow.observability.metrics import Metrics

    root = Path(__file__).resolve().parents[2]
    rules = yaml.safe_load((root / "docs" / "operations" / "alerts.yml").read_text())["groups"][0]["rules"]
    exported = {m.name for m in Metrics().registry.collect()}
    exported |= {f"{name}_{suffix}" for name in exported for suffix in ("total", "bucket", "count", "sum")}
    exported |= {f"gol_{key}" for key in ("outbox_waiting", "outbox_failed", "instances_in_error", "timers_overdue",
                                          "oldest_timer_lateness_seconds", "cutoffs_overdue", "heartbeat_age_seconds")}
    named = {name for rule in rules for name in re.findall(r"\bgol_[a-z_]+", rule["expr"])}
    assert named and named <= exported, named - exported


def test_a_transaction_pooler_refuses_the_embedded_scheduler_and_sqlite(tmp_path: Path) -> None:
    url = "postgresql://gol@127.0.0.1:6432/gol"
    base = {"GOL_VAR_DIR": str(tmp_path), "GOL_DATABASE_URL": url, "GOL_DATABASE_POOLER": "transaction"}
    with pytest.raises(ConfigurationError, match="GOL_EMBEDDED_SCHEDULER=0"):
        load_settings(base)
    with pytest.raises(ConfigurationError, match="needs a PostgreSQL"):
        load_settings({**base, "GOL_DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite3", "GOL_EMBEDDED_SCHEDULER": "0"})
    settings = load_settings({**base, "GOL_EMBEDDED_SCHEDULER": "0", "GOL_DATABASE_POOL_SIZE": "4"})
    assert (settings.database_pooler, settings.database_pool_size) == ("transaction", 4)
    assert load_settings({"GOL_VAR_DIR": str(tmp_path)}).database_pooler == "none"
