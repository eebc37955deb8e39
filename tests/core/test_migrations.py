"""Migrations build the schema from empty on both databases, and the models agree with them."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

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
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []

    migrate.downgrade(engine, "base")
    assert not CORE_TABLES & set(inspect(engine).get_table_names())
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    engine.dispose()
