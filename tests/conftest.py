"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

The schema is built by the migrations once per database and test process; each test runs inside
a transaction that is rolled back afterwards (commits inside the code under test become SAVEPOINT
releases). PostgreSQL runs when ``UPSWING_TEST_POSTGRES_URL`` is set (then it must work) or when
the local server answers; otherwise those tests are skipped with a reason.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from upswing.core import migrate
from upswing.core.db import make_engine, read_only

os.environ.setdefault("UPSWING_ENVIRONMENT", "test")
os.environ.setdefault("UPSWING_SECRET_KEY", "test-secret-key-that-is-long-enough-0123456789")

LOCAL_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _postgres_admin_url() -> str | None:
    explicit = os.environ.get("UPSWING_TEST_POSTGRES_URL")
    if explicit:
        return explicit
    try:
        engine = create_engine(LOCAL_POSTGRES, connect_args={"connect_timeout": 2})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except Exception:
        return None
    return LOCAL_POSTGRES


POSTGRES_ADMIN_URL = _postgres_admin_url()


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def create_postgres_database(name: str) -> str:
    """Create (anew) a scratch database on the test server and return its URL."""
    assert POSTGRES_ADMIN_URL is not None
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(name: str) -> None:
    assert POSTGRES_ADMIN_URL is not None
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def db_kind(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql" and POSTGRES_ADMIN_URL is None:
        pytest.skip("PostgreSQL not reachable and UPSWING_TEST_POSTGRES_URL not set")
    return str(request.param)


@pytest.fixture(scope="session")
def fresh_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A factory for empty databases of either kind (for migration tests)."""
    created: list[str] = []

    def make(kind: str) -> str:
        if kind == "sqlite":
            return f"sqlite:///{tmp_path_factory.mktemp('fresh') / 'fresh.db'}"
        name = f"upswing_fresh_{_worker()}_{uuid.uuid4().hex[:8]}"
        created.append(name)
        return create_postgres_database(name)

    yield make
    for name in created:
        drop_postgres_database(name)


@pytest.fixture(scope="session")
def migrated_engine(db_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    if db_kind == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'upswing.db'}"
        name = None
    else:
        name = f"upswing_test_{_worker()}_{os.getpid()}"  # unique per process: parallel runs never collide
        url = create_postgres_database(name)
    engine = make_engine(url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()
    if name:
        drop_postgres_database(name)


@pytest.fixture
def db_connection(migrated_engine: Engine) -> Iterator[Connection]:
    # The test's one transaction takes no write lock up front (SQLite): code that opens a second connection to
    # read (readiness, a thread) is not held up by it. Every write of the test goes through this connection.
    connection = read_only(migrated_engine).connect()
    outer = connection.begin()
    try:
        yield connection
    finally:
        outer.rollback()
        connection.close()


@pytest.fixture
def session_factory(db_connection: Connection) -> sessionmaker[Session]:
    return sessionmaker(bind=db_connection, join_transaction_mode="create_savepoint", expire_on_commit=False)


@pytest.fixture
def db_session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    session = session_factory()
    try:
        yield session
    finally:
        session.close()


@pytest.fixture
def deliver_events(session_factory: sessionmaker[Session]) -> Callable[[], Any]:
    """Hand the test transaction's pending outbox events to their consumers (as the events.deliver task does)."""
    from upswing.core import outbox

    return lambda: outbox.deliver_pending(session_factory)


#: 18:30 UTC on a Tuesday: between 08:00 and 21:00 in every US time zone, Hawaii included.
US_DAYTIME = "2026-12-08T18:30:00+00:00"


@pytest.fixture
def us_daytime(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Actions on signals happen at a time the contact guard allows everywhere in the US (tests of other things
    than the time window would otherwise depend on the hour they run at)."""
    from datetime import datetime

    moment = datetime.fromisoformat(US_DAYTIME)
    monkeypatch.setattr("upswing.casework.service.utcnow", lambda: moment)
    return moment


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture
def app(migrated_engine: Engine, session_factory: sessionmaker[Session]) -> object:
    from upswing.app import create_app
    from upswing.settings import Settings

    application = create_app(Settings(database_url=migrated_engine.url.render_as_string(hide_password=False)))
    application.state.engine = migrated_engine
    application.state.session_factory = session_factory
    return application


@pytest.fixture
def client(app: object) -> Iterator[object]:
    from fastapi.testclient import TestClient

    with TestClient(app) as test_client:  # type: ignore[arg-type]
        yield test_client


@pytest.fixture(params=["sqlite", "postgresql"])
def cli(request: pytest.FixtureRequest, fresh_database_url: Callable[[str], str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Any]]:
    """Runs ``upswing`` commands against a fresh database of each kind: ``cli("leads", "list", VAR="x")``."""
    from typer.testing import CliRunner

    from upswing.cli import app as cli_app
    from upswing.core import cli_support
    from upswing.settings import get_settings

    if request.param == "postgresql" and POSTGRES_ADMIN_URL is None:
        pytest.skip("PostgreSQL not reachable and UPSWING_TEST_POSTGRES_URL not set")
    monkeypatch.setenv("UPSWING_DATABASE_URL", fresh_database_url(request.param))
    monkeypatch.setenv("UPSWING_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    for console in (cli_support.console, cli_support.err_console):  # wide enough that lines never wrap
        monkeypatch.setattr(console, "width", 250)
    runner = CliRunner()

    def invoke(*args: str, **env: str) -> Any:
        return runner.invoke(cli_app, list(args), env={"COLUMNS": "250", **env}, catch_exceptions=False)

    yield invoke
    get_settings.cache_clear()


@pytest.fixture(params=["sqlite", "postgresql"])
def settings_database(request: pytest.FixtureRequest, fresh_database_url: Callable[[str], str],
                      monkeypatch: pytest.MonkeyPatch) -> Iterator[sessionmaker[Session]]:
    """A migrated database of each kind, reached through the settings as in a deployment (for code, such as
    tasks, that opens its own transactions); the embedded task runner is selected."""
    from upswing.core.db import get_engine, session_factory
    from upswing.settings import get_settings

    if request.param == "postgresql" and POSTGRES_ADMIN_URL is None:
        pytest.skip("PostgreSQL not reachable and UPSWING_TEST_POSTGRES_URL not set")
    monkeypatch.setenv("UPSWING_DATABASE_URL", fresh_database_url(request.param))
    monkeypatch.setenv("UPSWING_TASK_RUNNER", "embedded")
    get_settings.cache_clear()
    migrate.upgrade(get_engine())
    yield session_factory()
    get_engine().dispose()
    get_settings.cache_clear()
