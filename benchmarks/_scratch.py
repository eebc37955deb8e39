"""Scratch PostgreSQL databases for the benchmarks (imported by the scripts beside it)."""

from __future__ import annotations

import sys

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


def postgres_database(admin_url: str, name: str, *, drop_only: bool = False) -> str | None:
    """Create (anew) a scratch database and return its URL; ``drop_only`` just drops it. None, with a note on
    stderr, when no server answers."""
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            if not drop_only:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    except Exception as exc:
        print(f"PostgreSQL skipped: {exc.__class__.__name__}: {exc}", file=sys.stderr)
        return None
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)
