"""Fast multi-row inserts for the hot paths (lead import, profile ingest, signals).

PostgreSQL with psycopg: COPY, several times faster than executemany. Elsewhere: Core executemany
on the table (the ORM bulk path would split rows into one statement per distinct set of non-null
values, and costs more per row).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import orjson
from psycopg import sql as pg_sql
from sqlalchemy import JSON, Table, insert
from sqlalchemy.orm import Session

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
              json_cols: frozenset[str]) -> None:
    """COPY rows (dicts keyed by column name) into a table; JSON columns are sent as JSON text."""
    statement = pg_sql.SQL("COPY {} ({}) FROM STDIN").format(
        pg_sql.Identifier(table), pg_sql.SQL(", ").join(map(pg_sql.Identifier, columns)))
    encode = [c in json_cols for c in columns]
    with cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row([orjson.dumps(row[c], default=str).decode() if is_json else row[c]
                            for c, is_json in zip(columns, encode, strict=True)])


def chunks(items: list[dict[str, Any]], size: int | None = None) -> Iterator[list[dict[str, Any]]]:
    size = size or WRITE_CHUNK
    for start in range(0, len(items), size):
        yield items[start:start + size]


def bulk_insert(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert rows that all have the same keys (column names) in the session's transaction."""
    if not rows:
        return
    cursor = psycopg_cursor(session)
    if cursor is not None:
        with cursor:
            copy_rows(cursor, table.name, list(rows[0]), rows, json_columns(table))
        return
    for chunk in chunks(rows):
        session.execute(insert(table), chunk)
