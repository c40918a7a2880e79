"""Shared fixtures: a migrated database (SQLite, or PostgreSQL via GOL_TEST_DATABASE_URL) and a runtime."""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
from collections.abc import Iterator
from typing import Any
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, text
from werkzeug.serving import make_server

from gol_workflow.bootstrap import bootstrap
from gol_workflow.clock import ManualClock
from gol_workflow.config import Settings
from gol_workflow.domain.model import Actor
from gol_workflow.persistence import schema
from gol_workflow.persistence.database import create_db_engine, normalise_url
from gol_workflow.persistence.tables import metadata
from gol_workflow.services.administration import deployment
from gol_workflow.services.workflow.runtime import CachedWorkflow, Runtime

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
CORPORA = Path(os.environ.get("GOL_CORPORA") or ROOT.parent / "shared" / "corpora")  # the real models
ROME = ZoneInfo("Europe/Rome")
ADMIN = Actor(username="admin", role="admin")

PG_URL = os.environ.get("GOL_TEST_DATABASE_URL")
# "transaction" when GOL_TEST_DATABASE_URL reaches PostgreSQL through PgBouncer in transaction mode.
PG_POOLER = os.environ.get("GOL_TEST_DATABASE_POOLER", "none")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """One headless Chromium for the whole session, shared by every browser test.

    Defined only here: Playwright's sync API cannot open a second session while one is alive.
    """
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not AXE.is_file():
        pytest.fail("axe-core is missing: run `npm install` (make frontend)")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@contextlib.contextmanager
def scratch_database(db_url: str, tmp_path: Path, suffix: str) -> Iterator[str]:
    """An empty database of the same kind as the test's (a SQLite file in `tmp_path/suffix/`, not made here, or
    PostgreSQL `<db>_<suffix>`), dropped after."""
    if not db_url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / suffix / 'gol.sqlite3'}"
        return
    base, _, name = db_url.rpartition("/")
    target = f"{name}_{suffix}"
    admin = create_db_engine(f"{base}/postgres", pool_size=0)
    try:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{target}"')
        yield f"{base}/{target}"
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
    finally:
        admin.dispose()


def on_postgres() -> bool:
    """True when this test run uses PostgreSQL."""
    return bool(PG_URL)


@pytest.fixture(scope="session")
def _template_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    engine = create_db_engine(f"sqlite:///{path}")
    schema.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def _migrated_postgres() -> str | None:
    if not PG_URL:
        return None
    engine = create_db_engine(PG_URL, pool_size=0, transaction_pooler=PG_POOLER == "transaction")
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    schema.upgrade(engine)
    engine.dispose()
    return normalise_url(PG_URL)


def _truncate(engine: Engine) -> None:
    names = ", ".join(t.name for t in metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture
def db_url(tmp_path: Path, _template_sqlite: Path, _migrated_postgres: str | None) -> Iterator[str]:
    """A migrated, empty database for one test."""
    if _migrated_postgres:
        engine = create_db_engine(_migrated_postgres, pool_size=0, transaction_pooler=PG_POOLER == "transaction")
        _truncate(engine)
        engine.dispose()
        yield _migrated_postgres
        return
    path = tmp_path / "gol.sqlite3"
    shutil.copy(_template_sqlite, path)
    yield f"sqlite:///{path}"


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    """Settings for a test: temporary folders, the test database, real process files."""
    return Settings(
        database_url=db_url,
        processes_dir=ROOT / "processes",
        forms_dir=ROOT / "forms",
        zones_dir=ROOT / "zones",
        var_dir=tmp_path / "var",
        secret_key="test-secret-key",
        # A step slowed by a busy test machine would otherwise go on past the pass that started it;
        # the tests of the time limit set their own.
        scheduler_step_timeout=30.0,
        database_pooler=PG_POOLER if db_url.startswith("postgresql") else "none",
        embedded_scheduler=PG_POOLER != "transaction",
    )


@pytest.fixture
def clock() -> ManualClock:
    """A clock that starts on Monday 5 January 2026, 08:00 in Rome, and only moves when told."""
    return ManualClock(datetime(2026, 1, 5, 8, 0, tzinfo=ROME))


@pytest.fixture
def runtime(settings: Settings, clock: ManualClock) -> Iterator[Runtime]:
    """A wired service on the test database and the manual clock."""
    rt = bootstrap(settings, clock=clock)
    assert_cache_matches_database(rt)
    yield rt
    rt.db.dispose()


def assert_cache_matches_database(rt: Runtime) -> None:
    """After every commit, what the workflow cache says of a task and its instance is what the database holds."""
    if rt.settings.workflow_cache_size <= 0:
        return  # nothing is kept
    put = rt.workflows.put

    def checked_put(instance_id: str, entry: CachedWorkflow) -> None:
        put(instance_id, entry)
        with rt.uow(write=False) as uow:
            header = uow.instances.header(instance_id)
            if header is None or header["row_version"] != entry.row_version:
                return  # another thread has moved the instance on since: the entry is merely old
            for task_id, row in entry.inbox.items():
                assert (dict(row), dict(entry.header or {})) == uow.inbox.get_with_instance(task_id), task_id

    rt.workflows.put = checked_put  # type: ignore[method-assign]


TEST_OPERATORS = ("test_registra",)  # service tasks of tests/data; each test installs the behaviour it needs


def _not_configured(call: object) -> None:
    raise LookupError("this test did not configure the connector")


def deploy_dir(rt: Runtime, processes: Path, forms: Path) -> deployment.DeployReport:
    """Deploy a folder of test processes as the administrator (deploy accepts only registered operators)."""
    for name in TEST_OPERATORS:
        rt.connectors.setdefault(name, _not_configured)
    return deployment.deploy(rt, deployment.read_sources(processes, forms), ADMIN)


@pytest.fixture
def test_processes(runtime: Runtime) -> Runtime:
    """The runtime with the small test processes of tests/data deployed."""
    deploy_dir(runtime, DATA / "processes", DATA / "forms")
    return runtime


@contextlib.contextmanager
def served(app: Any) -> Iterator[str]:
    """The app on a threaded WSGI server on an ephemeral loopback port; yields its base URL."""
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        thread.join(timeout=10)
