"""Supabase (managed PostgreSQL) as the database: the connection path of docs/deployment.md, on the local server.

Supabase's ``postgres`` role is not a superuser: it has CREATEROLE, CREATEDB and BYPASSRLS and owns the database.
Here a role with exactly those attributes owns a fresh database, runs the migrations, and serves requests: the
migrations must create the row-level security role and let the owner switch to it (BYPASSRLS would otherwise skip
every policy), and an agent must see only their leads through the API. The transaction pooler (port 6543) and
the URL's SSL mode are checked on the engine the app builds.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from conftest import POSTGRES_ADMIN_URL
from factories import auth, make_lead, make_portfolio, make_team, make_user
from upswing.account.deps import AnyUser
from upswing.account.models import Role
from upswing.core import migrate
from upswing.core.db import is_transaction_pooler, make_engine, session_factory
from upswing.core.deps import DbSession
from upswing.settings import Settings

pytestmark = pytest.mark.skipif(POSTGRES_ADMIN_URL is None,
                                reason="PostgreSQL not reachable and UPSWING_TEST_POSTGRES_URL not set")


@dataclass
class Owned:
    role: str
    url: str  # the owner's URL to its own database


@pytest.fixture(scope="module")
def owned() -> Iterator[Owned]:
    """A Supabase-like owner (NOSUPERUSER CREATEROLE CREATEDB BYPASSRLS) and a database it owns."""
    assert POSTGRES_ADMIN_URL is not None
    suffix = uuid.uuid4().hex[:8]
    role, database, password = f"upswing_owner_{suffix}", f"upswing_supabase_{suffix}", uuid.uuid4().hex
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE ROLE {role} LOGIN NOSUPERUSER CREATEROLE CREATEDB BYPASSRLS "
                                f"PASSWORD '{password}'"))
        connection.execute(text(f'CREATE DATABASE "{database}" OWNER {role}'))
    base = make_url(POSTGRES_ADMIN_URL)
    url = base.set(username=role, password=password, database=database).render_as_string(hide_password=False)
    try:
        yield Owned(role, url)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            connection.execute(text(f"DROP ROLE IF EXISTS {role}"))
        admin.dispose()


@pytest.fixture(scope="module")
def migrated(owned: Owned) -> Iterator[Engine]:
    engine = make_engine(owned.url)
    migrate.upgrade(engine)  # as the owner: no superuser anywhere
    yield engine
    engine.dispose()


def test_the_owner_is_not_a_superuser_and_migrates_to_head(owned: Owned, migrated: Engine) -> None:
    with migrated.connect() as connection:
        attributes = connection.execute(text(
            "SELECT rolsuper, rolcreaterole, rolbypassrls FROM pg_roles WHERE rolname = current_user")).one()
        assert tuple(attributes) == (False, True, True)
        assert connection.execute(text("SELECT current_user")).scalar() == owned.role
        # The row-level security role exists and the owner may switch to it (not only administer it).
        assert connection.execute(text("SELECT pg_has_role(current_user, 'upswing_app', 'MEMBER')")).scalar()
        connection.execute(text("SET ROLE upswing_app"))
        assert connection.execute(text("SELECT current_user")).scalar() == "upswing_app"
        connection.execute(text("RESET ROLE"))
        assert connection.execute(text("SELECT relforcerowsecurity FROM pg_class WHERE relname = 'leads'")).scalar()
    assert migrate.current_revision(migrated) == migrate.head_revision()


@pytest.mark.parametrize("pooler", [False, True], ids=["direct", "transaction-pooler"])
def test_an_agent_sees_only_their_leads_through_the_api(owned: Owned, migrated: Engine, pooler: bool) -> None:
    from upswing.app import create_app

    settings = Settings(database_url=owned.url, db_transaction_pooler=pooler)
    app = create_app(settings)
    factory = session_factory(migrated)
    with factory() as session:
        team, other_team = make_team(session), make_team(session)
        agent = make_user(session, Role.AGENT, team=team)
        stranger = make_user(session, Role.AGENT, team=other_team)
        portfolio = make_portfolio(session)
        mine = make_lead(session, portfolio, assignee_id=agent.id, team_id=team.id)
        theirs = make_lead(session, portfolio, assignee_id=stranger.id, team_id=other_team.id)
        session.commit()

    def raw_leads(user: AnyUser, session: DbSession) -> dict[str, Any]:
        # No scoping in the query: only the database's policies stand between the agent and the book.
        ids = sorted(str(row[0]) for row in session.execute(text("SELECT id FROM leads")))
        who = session.execute(text("SELECT current_user, session_user")).one()
        return {"ids": ids, "current_user": who[0], "session_user": who[1]}

    app.add_api_route("/test/raw-leads", raw_leads, methods=["GET"])
    with TestClient(app) as client:
        raw = client.get("/test/raw-leads", headers=auth(app, agent))
        assert raw.status_code == 200, raw.text
        assert raw.json() == {"ids": [str(mine.id)], "current_user": "upswing_app", "session_user": owned.role}
        listed = client.get("/api/v1/leads", headers=auth(app, agent))
        assert listed.status_code == 200, listed.text
        assert [item["id"] for item in listed.json()["items"]] == [str(mine.id)]
        assert client.get(f"/api/v1/leads/{theirs.id}", headers=auth(app, agent)).status_code == 404
        assert client.get("/readyz").json()["status"] == "ready"
    app.state.engine.dispose()
    with Session(migrated) as session:  # the owner without claims (CLI, workers) is the system: sees both
        assert {mine.id, theirs.id} <= set(session.scalars(text("SELECT id FROM leads")))


def test_the_transaction_pooler_path_prepares_nothing_and_keeps_the_settings(owned: Owned, migrated: Engine) -> None:
    url = make_url(owned.url)
    assert is_transaction_pooler(url.set(port=6543).render_as_string(hide_password=False))
    assert not is_transaction_pooler(owned.url)
    assert is_transaction_pooler(owned.url, True) and not is_transaction_pooler("sqlite:///x.db")

    engine = make_engine(owned.url, statement_timeout_ms=1234, transaction_pooler=True)
    try:
        with engine.connect() as connection:
            assert connection.connection.driver_connection.prepare_threshold is None  # type: ignore[union-attr]
            for _ in range(20):  # psycopg prepares a statement run 5 times, unless told not to
                connection.execute(text("SELECT count(*) FROM leads WHERE status = :s"), {"s": "new"})
            assert connection.execute(text("SELECT count(*) FROM pg_prepared_statements")).scalar() == 0
            # The settings are transaction-local (no startup options through a pooler), in every transaction.
            assert connection.execute(text("SHOW statement_timeout")).scalar() == "1234ms"
            assert connection.execute(text("SHOW jit")).scalar() == "off"
            connection.commit()
            assert connection.execute(text("SHOW statement_timeout")).scalar() == "1234ms"
            raw = connection.connection.driver_connection
            assert raw is not None and "statement_timeout" not in (raw.info.options or "")
    finally:
        engine.dispose()
    direct = make_engine(owned.url, statement_timeout_ms=1234)
    try:
        with direct.connect() as connection:
            for _ in range(20):
                connection.execute(text("SELECT count(*) FROM leads WHERE status = :s"), {"s": "new"})
            assert connection.execute(text("SELECT count(*) FROM pg_prepared_statements")).scalar() >= 1
    finally:
        direct.dispose()


def test_the_ssl_mode_comes_from_the_url(owned: Owned) -> None:
    with make_engine(owned.url).connect() as connection:
        ssl_on = connection.execute(text("SHOW ssl")).scalar() == "on"
    required = make_engine(make_url(owned.url).update_query_dict({"sslmode": "require"})
                           .render_as_string(hide_password=False))
    try:
        if ssl_on:
            with required.connect() as connection:
                assert connection.execute(text(
                    "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")).scalar() is True
        else:  # this server has no TLS: libpq refuses rather than fall back to plain text
            with pytest.raises(OperationalError, match="SSL"):
                required.connect().close()
    finally:
        required.dispose()
