"""Alembic environment: the URL comes from Upswing's settings (or the caller's config)."""

from __future__ import annotations

from alembic import context

import upswing.models  # noqa: F401 - registers every table on Base.metadata
from upswing.core.db import Base, make_engine
from upswing.core.migrate import include_in_comparison
from upswing.settings import get_settings

config = context.config
url = config.get_main_option("sqlalchemy.url") or get_settings().sqlalchemy_url


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        _run(connectable)
        return
    engine = make_engine(url)
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=Base.metadata,
        render_as_batch=True,  # SQLite needs batch mode to alter tables
        compare_type=True,
        include_name=include_in_comparison,  # derived search tables and one-database indexes
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
