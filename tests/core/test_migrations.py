"""Migrations build the schema from empty on both databases, and the models agree with them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select

from conftest import POSTGRES_ADMIN_URL
from upswing.core import migrate
from upswing.core.db import Base, make_engine

CORE_TABLES = {"portfolios", "leads", "sources", "observations", "signals", "users", "teams", "audit_log"}


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_upgrade_from_empty_then_down_and_up_again(kind: str, fresh_database_url: Callable[[str], str]) -> None:
    if kind == "postgresql" and POSTGRES_ADMIN_URL is None:
        pytest.skip("PostgreSQL not reachable and UPSWING_TEST_POSTGRES_URL not set")
    engine = make_engine(fresh_database_url(kind))
    assert migrate.current_revision(engine) is None

    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    assert set(inspect(engine).get_table_names()) >= CORE_TABLES
    lead_columns = {c["name"] for c in inspect(engine).get_columns("leads")}
    assert {"companyDomain", "companyAbout", "external_id", "linkedin_url", "timezone"} <= lead_columns

    with engine.connect() as connection:  # the models and the migrations describe the same schema
        context = MigrationContext.configure(connection, opts={"include_name": migrate.include_in_comparison})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []

    migrate.downgrade(engine, "base")
    assert not CORE_TABLES & set(inspect(engine).get_table_names())
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    engine.dispose()


def _fill(table: Any, **given: Any) -> dict[str, Any]:
    """A row for a reflected table: the given values, and a plausible one for every other required column."""
    import uuid as uuid_module
    from datetime import UTC, datetime

    from sqlalchemy import JSON, Boolean, DateTime, Float, Integer, Numeric, String, Text, Uuid

    row = dict(given)
    for column in table.columns:
        if column.name in row or column.nullable or column.server_default is not None:
            continue
        kind = column.type
        if isinstance(kind, Uuid):
            row[column.name] = uuid_module.uuid4()
        elif isinstance(kind, DateTime):
            row[column.name] = datetime(2026, 11, 1, tzinfo=UTC)
        elif isinstance(kind, Boolean):
            row[column.name] = False
        elif isinstance(kind, Integer | Float | Numeric):
            row[column.name] = 0
        elif isinstance(kind, JSON):
            row[column.name] = {}
        elif isinstance(kind, String | Text):
            row[column.name] = f"{column.name}-{uuid_module.uuid4().hex[:8]}"
        else:
            row[column.name] = "x"
    return row


def test_altering_a_table_on_sqlite_keeps_the_rows_that_refer_to_it(fresh_database_url: Callable[[str], str]) -> None:
    """Migration 0011 rebuilds ``signals`` on SQLite (new CHECK constraints): its evidence must survive."""
    import uuid as uuid_module

    from sqlalchemy import MetaData, func, insert, select

    engine = make_engine(fresh_database_url("sqlite"))
    migrate.upgrade(engine, "0010")
    metadata = MetaData()
    metadata.reflect(engine)
    tables = metadata.tables
    # SQLite keeps UUIDs as 32 hex digits; the reflected tables take them as such.
    ids = {name: uuid_module.uuid4().hex for name in ("portfolio", "lead", "source", "observation", "signal")}
    with engine.begin() as connection:
        connection.execute(insert(tables["portfolios"]), _fill(tables["portfolios"], id=ids["portfolio"]))
        connection.execute(insert(tables["leads"]), _fill(tables["leads"], id=ids["lead"],
                                                          portfolio_id=ids["portfolio"]))
        connection.execute(insert(tables["sources"]), _fill(tables["sources"], id=ids["source"], config={}))
        connection.execute(insert(tables["observations"]), _fill(
            tables["observations"], id=ids["observation"], source_id=ids["source"], lead_id=ids["lead"]))
        connection.execute(insert(tables["signals"]), _fill(
            tables["signals"], id=ids["signal"], lead_id=ids["lead"], priority="high", action="call",
            outcome=None, dismiss_reason=None, observation_ids=[ids["observation"]]))
        connection.execute(insert(tables["evidence"]), _fill(
            tables["evidence"], id=uuid_module.uuid4().hex, signal_id=ids["signal"], observation_id=ids["observation"],
            kind="profile"))

    migrate.upgrade(engine)

    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(tables["evidence"])) == 1
        assert connection.scalar(select(func.count()).select_from(tables["signals"])) == 1
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1  # back on after the migration
    engine.dispose()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_the_last_hours_alerts_still_count_against_the_cap_after_the_counters_arrive(
        kind: str, fresh_database_url: Callable[[str], str]) -> None:
    """Migration 0031 carries each user's rule alerts of the last hour into the hourly cap's counters."""
    import uuid as uuid_module
    from datetime import UTC, datetime, timedelta

    from sqlalchemy.orm import Session

    from factories import make_user
    from upswing.alert.models import Alert, AlertDelivery, AlertSendCount

    if kind == "postgresql" and POSTGRES_ADMIN_URL is None:
        pytest.skip("PostgreSQL not reachable and UPSWING_TEST_POSTGRES_URL not set")
    engine = make_engine(fresh_database_url(kind))
    migrate.upgrade(engine, "0030")
    now = datetime.now(UTC)
    with Session(engine) as session:
        agent, other = make_user(session), make_user(session)
        alert = Alert(id=uuid_module.uuid4(), user_id=agent.id, kind="signal", priority="high", status="unread",
                      title="t", routed_by="owner", signal_count=1, window_ends_at=now, created_at=now,
                      updated_at=now)
        session.add(alert)
        for user, channel, status, minutes_ago, count in (
                (agent, "email", "sent", 10, 3), (agent, "in_app", "sent", 50, 2), (agent, "email", "digest", 5, 4),
                (agent, "email", "sent", 70, 5), (other, "in_app", "pending", 1, 1)):
            session.add_all(AlertDelivery(id=uuid_module.uuid4(), alert_id=alert.id, user_id=user.id,
                                          channel=channel, status=status, attempts=0,
                                          created_at=now - timedelta(minutes=minutes_ago)) for _ in range(count))
        session.commit()
        users = {agent.id: "agent", other.id: "other"}

    migrate.upgrade(engine)

    with Session(engine) as session:
        counted = {(users[row.user_id], row.channel): row.sent for row in session.scalars(select(AlertSendCount))}
    assert counted == {("agent", "email"): 3, ("agent", "in_app"): 2, ("other", "in_app"): 1}
    engine.dispose()
