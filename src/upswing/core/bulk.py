"""Fast multi-row inserts for the hot paths (lead import, profile ingest, signals).

PostgreSQL with psycopg: COPY, several times faster than executemany. Elsewhere: Core executemany
on the table (the ORM bulk path would split rows into one statement per distinct set of non-null
values, and costs more per row).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import orjson
from psycopg import sql as pg_sql
from sqlalchemy import JSON, Table, insert
from sqlalchemy.orm import Session

from upswing.core import crypto

#: Rows per executemany batch.
WRITE_CHUNK = 5000


def psycopg_cursor(session: Session) -> Any | None:
    """A raw psycopg cursor in the session's transaction, or None on any other database/driver."""
    connection = session.connection()
    if connection.dialect.name == "postgresql" and connection.dialect.driver == "psycopg":
        driver_connection: Any = connection.connection.driver_connection
        return driver_connection.cursor()
    return None


def json_columns(table: Table) -> frozenset[str]:
    return frozenset(c.name for c in table.columns if isinstance(c.type, JSON))


def copy_rows(cursor: Any, table: str, columns: Sequence[str], rows: Iterable[dict[str, Any]],
              json_cols: frozenset[str], *, sealers: Mapping[str, Callable[[Any], Any]] | None = None) -> None:
    """COPY rows (dicts keyed by column name) into a table; JSON columns are sent as JSON text.

    COPY bypasses SQLAlchemy's column types: ``sealers`` (``crypto.sealers``) encrypt the encrypted columns."""
    statement = pg_sql.SQL("COPY {} ({}) FROM STDIN").format(
        pg_sql.Identifier(table), pg_sql.SQL(", ").join(map(pg_sql.Identifier, columns)))
    sealers = sealers or {}
    if sealers:
        convert = [sealers.get(c) or (_json_text if c in json_cols else None) for c in columns]
        with cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row([f(row[c]) if f is not None else row[c]
                                for c, f in zip(columns, convert, strict=True)])
        return
    encode = [c in json_cols for c in columns]
    with cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row([orjson.dumps(row[c], default=str).decode() if is_json else row[c]
                            for c, is_json in zip(columns, encode, strict=True)])


def _json_text(value: Any) -> str:
    return orjson.dumps(value, default=str).decode()


def _row_security_active(cursor: Any, table: str) -> bool:
    """Whether row-level security policies apply to this connection's role on the table: PostgreSQL refuses
    COPY FROM then (docs/security.md), so those inserts go through executemany instead."""
    cursor.execute("SELECT row_security_active(%s)", (table,))
    row = cursor.fetchone()
    return bool(row and row[0])


def chunks(items: list[dict[str, Any]], size: int | None = None) -> Iterator[list[dict[str, Any]]]:
    size = size or WRITE_CHUNK
    for start in range(0, len(items), size):
        yield items[start:start + size]


def bulk_insert(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert rows that all have the same keys (column names) in the session's transaction."""
    if not rows:
        return
    cursor = psycopg_cursor(session)
    if cursor is not None and not _row_security_active(cursor, table.name):
        columns = list(rows[0])
        with cursor:
            copy_rows(cursor, table.name, columns, rows, json_columns(table),
                      sealers=crypto.sealers(table, columns))
        return
    if cursor is not None:
        cursor.close()
    for chunk in chunks(rows):
        session.execute(insert(table), chunk)
