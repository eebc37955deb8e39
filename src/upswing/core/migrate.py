"""Run Alembic migrations programmatically (the CLI, the demo and the tests all use this)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine
from sqlalchemy import text as sa_text

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
#: The PostgreSQL advisory lock migrations hold (transaction-scoped, so it also works through a pooler).
MIGRATION_LOCK_KEY = 0x5570_5357  # "UpSW"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    _run(engine, lambda config: command.upgrade(config, revision))


def downgrade(engine: Engine, revision: str = "base") -> None:
    _run(engine, lambda config: command.downgrade(config, revision))


def _run(engine: Engine, step: Callable[[Config], None]) -> None:
    """Run a migration step in one transaction.

    SQLite alters a table by copying it and dropping the original; with foreign keys on, that DROP deletes
    (ON DELETE CASCADE) every row that refers to the table, e.g. all evidence of all signals. So on SQLite the
    step runs with foreign keys off (the pragma only takes effect outside a transaction) and the result is
    checked with ``PRAGMA foreign_key_check`` before it commits.
    """
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    if engine.dialect.name != "sqlite":
        with engine.begin() as connection:
            # One migrator at a time per database (the migrate job and API replicas starting together): the
            # others wait here, then read the revision the first one left and have nothing to do.
            connection.execute(sa_text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            config.attributes["connection"] = connection
            step(config)
        return
    with engine.connect() as connection:
        raw = connection.connection.driver_connection
        assert raw is not None
        raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                step(config)
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"migration left {len(broken)} rows with broken foreign keys: {broken[:5]}")
        finally:
            raw.execute("PRAGMA foreign_keys=ON")


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    from upswing.core.db import read_only

    with read_only(engine).connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


#: Tables the migrations keep as indexes derived from others, by triggers, with no model of their own: lead
#: search (PostgreSQL's trigram table, SQLite's FTS5 table and its shadow tables).
DERIVED_TABLES = ("lead_search", "leads_fts")
#: Indexes of one database only (PostgreSQL's GIN on the contact blind indexes), made by the migrations.
DIALECT_INDEXES = frozenset({"ix_leads_contact_bidx"})


def include_in_comparison(name: str | None, type_: str, _parent: object) -> bool:
    """For comparing the models with a migrated database (autogenerate): leave the derived tables and the
    one-database indexes out."""
    if name is None:
        return True
    if type_ == "table":
        return not name.startswith(DERIVED_TABLES)
    return not (type_ == "index" and name in DIALECT_INDEXES)
