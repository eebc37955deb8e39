"""On SQLite an import holds the database's one write lock only while it writes: the file is read and checked in
a read-only transaction (CLI), or after the request's transaction has ended (API), so other writers do not wait
for a large file to be checked. On both databases the two steps give the same result as one."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import POSTGRES_ADMIN_URL
from factories import auth, make_user
from upswing.account.models import Role
from upswing.app import create_app
from upswing.core import migrate
from upswing.core.db import make_engine, session_factory
from upswing.lead import service
from upswing.settings import Settings

CSV = "external_id,first_name,last_name,email,state\n" + "".join(
    f"K-{n},Kim,Lee{n},kim{n}@example.com,TX\n" for n in range(1, 301))


def _write_elsewhere(database: str) -> None:
    """Begin a write on another connection without waiting: fails at once while anyone holds the write lock."""
    other = sqlite3.connect(database, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
    finally:
        other.close()


def _plan_then_write_elsewhere(monkeypatch: pytest.MonkeyPatch, database: str | None) -> list[str]:
    """While the import is between its two steps, another connection writes (SQLite) — or just note the step."""
    steps: list[str] = []
    plan_import = service.plan_import

    def planned(*args: Any, **kwargs: Any) -> service.ImportPlan:
        plan = plan_import(*args, **kwargs)
        if database is not None:
            _write_elsewhere(database)
        steps.append("planned")
        return plan

    monkeypatch.setattr(service, "plan_import", planned)
    return steps


def test_the_cli_checks_the_file_without_the_write_lock(cli: Callable[..., Any], tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    assert cli("db", "upgrade").exit_code == 0
    url = os.environ["UPSWING_DATABASE_URL"]
    database = url.split("///", 1)[1] if url.startswith("sqlite") else None
    steps = _plan_then_write_elsewhere(monkeypatch, database)
    path = tmp_path / "leads.csv"
    path.write_text(CSV)
    result = cli("leads", "import", str(path))
    assert result.exit_code == 0, result.output
    assert "300 rows into portfolio 'default': 300 created" in result.output and steps == ["planned"]
    assert "300 unchanged" in cli("leads", "import", str(path)).output


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_the_api_checks_an_upload_without_the_write_lock(kind: str, fresh_database_url: Callable[[str], str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    if kind == "postgresql" and POSTGRES_ADMIN_URL is None:
        pytest.skip("PostgreSQL not reachable and UPSWING_TEST_POSTGRES_URL not set")
    url = fresh_database_url(kind)
    engine = make_engine(url)
    migrate.upgrade(engine)
    app = create_app(Settings(database_url=url))  # sessions on the engine, as deployed (not a test connection)
    with session_factory(engine)() as session:
        headers = auth(app, make_user(session, Role.MANAGER))
        session.commit()
    steps = _plan_then_write_elsewhere(monkeypatch, url.split("///", 1)[1] if kind == "sqlite" else None)
    with TestClient(app) as client:
        for expected in ({"created": 300}, {"unchanged": 300}):
            response = client.post("/api/v1/leads/import", headers=headers, data={"portfolio": "locks"},
                                   files={"file": ("leads.csv", CSV.encode(), "text/csv")})
            assert response.status_code == 200, response.text
            assert {key: response.json()[key] for key in expected} == expected
    assert steps == ["planned", "planned"]
    app.state.engine.dispose()
    engine.dispose()
