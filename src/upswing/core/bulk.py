"""Fast multi-row writes for the hot paths (lead import, profile ingest, signals), and the on-disk helpers that
keep a bulk job's memory flat whatever its size.

PostgreSQL with psycopg: COPY, several times faster than executemany (under row-level security, which refuses
COPY into the table, COPY into a temporary table and one ``INSERT … SELECT``). Elsewhere: executemany (Core
on the table for ``bulk_insert``; the ORM bulk path would split rows into one statement per distinct set of
non-null values, and costs more per row).

For jobs too large to hold (a million-row lead import): ``Spill`` sets rows aside in a temporary file,
``FirstSeen`` remembers keys on disk, ``encoders`` turn values into what the driver takes ahead of time (sealed,
serialized), and ``insert_encoded``/``update_encoded`` write such rows with nothing left to compute, so a write
transaction lasts no longer than the writes themselves.
"""

from __future__ import annotations

import itertools
import pickle
import sqlite3
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import orjson
from psycopg import sql as pg_sql
from sqlalchemy import JSON, Table, insert
from sqlalchemy.orm import Session

from upswing.core import crypto

#: Rows per executemany batch.
WRITE_CHUNK = 5000

Encoder = Callable[[Any], Any] | None


def psycopg_cursor(session: Session) -> Any | None:
    """A raw psycopg cursor in the session's transaction, or None on any other database/driver."""
    connection = session.connection()
    if connection.dialect.name == "postgresql" and connection.dialect.driver == "psycopg":
        driver_connection: Any = connection.connection.driver_connection
        return driver_connection.cursor()
    return None


def uses_copy(session: Session) -> bool:
    """Whether rows reach this session's database through COPY (PostgreSQL with psycopg)."""
    dialect = session.get_bind().dialect
    return dialect.name == "postgresql" and dialect.driver == "psycopg"


def json_columns(table: Table) -> frozenset[str]:
    return frozenset(c.name for c in table.columns if isinstance(c.type, JSON))


def copy_rows(cursor: Any, table: str, columns: Sequence[str], rows: Iterable[dict[str, Any]],
              json_cols: frozenset[str], *, sealers: Mapping[str, Callable[[Any], Any]] | None = None) -> None:
    """COPY rows (dicts keyed by column name) into a table; JSON columns are sent as JSON text.

    COPY bypasses SQLAlchemy's column types: ``sealers`` (``crypto.sealers``) encrypt the encrypted columns."""
    statement = _copy_statement(table, columns)
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


def _copy_statement(table: str, columns: Sequence[str]) -> pg_sql.Composed:
    return pg_sql.SQL("COPY {} ({}) FROM STDIN").format(
        pg_sql.Identifier(table), pg_sql.SQL(", ").join(map(pg_sql.Identifier, columns)))


def _json_text(value: Any) -> str:
    return orjson.dumps(value, default=str).decode()


def _row_security_active(cursor: Any, table: str) -> bool:
    """Whether row-level security policies apply to this connection's role on the table: PostgreSQL refuses
    COPY FROM then (docs/security.md), so those inserts go through a temporary table."""
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
    if cursor is not None:
        columns = list(rows[0])
        with cursor, _CopyTarget(cursor, table.name, columns) as target:
            copy_rows(cursor, target, columns, rows, json_columns(table), sealers=crypto.sealers(table, columns))
        return
    for chunk in chunks(rows):
        session.execute(insert(table), chunk)


class _CopyTarget:
    """The table to COPY into: the table itself, or under row-level security (which refuses COPY) a temporary
    table of the same columns, moved into the table on exit with one ``INSERT … SELECT`` (the policies' checks
    apply to it as to any insert)."""

    def __init__(self, cursor: Any, table: str, columns: Sequence[str]) -> None:
        self._cursor, self._table, self._columns = cursor, table, columns
        self._temp: str | None = None

    def __enter__(self) -> str:
        if not _row_security_active(self._cursor, self._table):
            return self._table
        self._temp = _temp_name("insert")
        self._cursor.execute(pg_sql.SQL("CREATE TEMP TABLE {} AS SELECT {} FROM {} WITH NO DATA").format(
            pg_sql.Identifier(self._temp), _idents(self._columns), pg_sql.Identifier(self._table)))
        return self._temp

    def __exit__(self, exc_type: object, *_: object) -> None:
        if self._temp is None or exc_type is not None:  # a failed transaction takes the temporary table with it
            return
        temp = pg_sql.Identifier(self._temp)
        self._cursor.execute(pg_sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {}").format(
            pg_sql.Identifier(self._table), _idents(self._columns), _idents(self._columns), temp))
        self._cursor.execute(pg_sql.SQL("DROP TABLE {}").format(temp))


def _idents(columns: Sequence[str]) -> pg_sql.Composed:
    return pg_sql.SQL(", ").join(map(pg_sql.Identifier, columns))


def _temp_name(purpose: str) -> str:
    return f"_upswing_{purpose}_{uuid.uuid4().hex[:12]}"


# --------------------------------------------------------------------------------------------
# Rows prepared ahead of the write
# --------------------------------------------------------------------------------------------


def encoders(session: Session, table: Table, columns: Sequence[str]) -> list[Encoder]:
    """Per column, what turns a Python value into what ``insert_encoded``/``update_encoded`` send (None: as it
    is). For COPY (PostgreSQL): encrypted columns sealed, JSON as text, the rest as psycopg adapts it. Elsewhere:
    each column type's own bind conversion (sealing, JSON text, UUID and UTC date-time forms, numbers)."""
    seal = crypto.sealers(table, columns)
    if uses_copy(session):
        json_cols = json_columns(table)
        return [seal.get(c) or (_json_text if c in json_cols else None) for c in columns]
    dialect = session.get_bind().dialect
    return [seal.get(c) or table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in columns]


def encode(values: Sequence[Any], encoders_: Sequence[Encoder]) -> tuple[Any, ...]:
    return tuple(v if f is None or v is None else f(v) for v, f in zip(values, encoders_, strict=True))


def insert_encoded(session: Session, table: Table, columns: Sequence[str],
                   batches: Iterable[Sequence[Sequence[Any]]]) -> int:
    """Insert rows already encoded (``encoders``), given in batches, in the session's transaction. Returns the
    number of rows."""
    count = 0
    cursor = psycopg_cursor(session)
    if cursor is not None:
        with cursor, _CopyTarget(cursor, table.name, columns) as target, \
                cursor.copy(_copy_statement(target, columns)) as copy:
            for batch in batches:
                for row in batch:
                    copy.write_row(row)
                count += len(batch)
        return count
    connection = session.connection()
    # Quoted identifiers of our own table; every value is a parameter.
    statement = (f"INSERT INTO {_quote(session, table.name)} "  # noqa: S608
                 f"({', '.join(_quote(session, c) for c in columns)}) "
                 f"VALUES ({', '.join([_marker(session)] * len(columns))})")
    for batch in batches:
        if batch:
            connection.exec_driver_sql(statement, [tuple(row) for row in batch])
            count += len(batch)
    return count


def update_encoded(session: Session, table: Table, key: str, columns: Sequence[str],
                   batches: Iterable[Sequence[tuple[Any, int, tuple[Any, ...]]]]) -> int:
    """Update rows by ``key`` with values already encoded. Each row is ``(key value, mask, values)``: bit ``i`` of
    the mask set means ``columns[i]`` changes, and ``values`` holds the new values of those columns, in order.
    Only the columns that change are written.

    PostgreSQL: one COPY into a temporary table and one ``UPDATE … FROM`` for all rows. Elsewhere: per batch,
    one executemany per distinct set of columns. Returns the number of rows."""
    count = 0
    cursor = psycopg_cursor(session)
    if cursor is not None:
        temp = _temp_name("update")
        names = [key, *columns]
        with cursor:
            cursor.execute(pg_sql.SQL("CREATE TEMP TABLE {} AS SELECT {} FROM {} WITH NO DATA").format(
                pg_sql.Identifier(temp), _idents(names), pg_sql.Identifier(table.name)))
            cursor.execute(pg_sql.SQL("ALTER TABLE {} ADD COLUMN _mask bigint").format(pg_sql.Identifier(temp)))
            with cursor.copy(_copy_statement(temp, [*names, "_mask"])) as copy:
                width = len(columns)
                for batch in batches:
                    for key_value, mask, values in batch:
                        full: list[Any] = [None] * width
                        position = iter(values)
                        for i in range(width):
                            if mask >> i & 1:
                                full[i] = next(position)
                        copy.write_row((key_value, *full, mask))
                    count += len(batch)
            cursor.execute(pg_sql.SQL("ANALYZE {}").format(pg_sql.Identifier(temp)))
            target, source = pg_sql.Identifier(table.name), pg_sql.Identifier(temp)
            assignments = pg_sql.SQL(", ").join(
                pg_sql.SQL("{c} = CASE WHEN u._mask & {bit} <> 0 THEN u.{c} ELSE {t}.{c} END").format(
                    c=pg_sql.Identifier(column), bit=pg_sql.Literal(1 << i), t=target)
                for i, column in enumerate(columns))
            cursor.execute(pg_sql.SQL("UPDATE {t} SET {a} FROM {s} u WHERE {t}.{k} = u.{k}").format(
                t=target, a=assignments, s=source, k=pg_sql.Identifier(key)))
            cursor.execute(pg_sql.SQL("DROP TABLE {}").format(source))
        return count
    connection = session.connection()
    statements: dict[int, str] = {}
    for batch in batches:
        by_mask: dict[int, list[tuple[Any, ...]]] = {}
        for key_value, mask, values in batch:
            by_mask.setdefault(mask, []).append((*values, key_value))
        for mask, params in by_mask.items():
            statement = statements.get(mask)
            if statement is None:
                changed = [c for i, c in enumerate(columns) if mask >> i & 1]
                statement = statements[mask] = (  # quoted identifiers of our own table; values are parameters
                    f"UPDATE {_quote(session, table.name)} SET "  # noqa: S608
                    f"{', '.join(f'{_quote(session, c)} = {_marker(session)}' for c in changed)} "
                    f"WHERE {_quote(session, key)} = {_marker(session)}")
            connection.exec_driver_sql(statement, params)
        count += len(batch)
    return count


def analyze(session: Session, table: Table) -> None:
    """Refresh PostgreSQL's statistics of a table after a bulk write, in the same transaction (the planner then
    knows the new rows at once, not when autovacuum gets to them: without that, a look-up right after a large
    import can be planned as a scan of the whole table). Nothing elsewhere. A role that does not own the table
    gets a warning from PostgreSQL and the statistics stay as they were."""
    if session.get_bind().dialect.name == "postgresql":
        session.connection().exec_driver_sql(f"ANALYZE {_quote(session, table.name)}")


def _quote(session: Session, name: str) -> str:
    return str(session.get_bind().dialect.identifier_preparer.quote(name))


def _marker(session: Session) -> str:
    return "?" if session.get_bind().dialect.paramstyle == "qmark" else "%s"


# --------------------------------------------------------------------------------------------
# On disk, for jobs too large to hold
# --------------------------------------------------------------------------------------------


class Spill:
    """Rows set aside on disk for a later pass: batches appended, then read back in order (as often as needed).

    An unnamed temporary file (removed by ``close``, or by the system if the process dies). Batches are pickled:
    the file has no name, so only this process can have written what it reads back."""

    def __init__(self) -> None:
        self._file: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        self.rows = 0

    def append(self, batch: list[Any]) -> None:
        if batch:
            pickle.dump(batch, self._file, protocol=pickle.HIGHEST_PROTOCOL)
            self.rows += len(batch)

    def __iter__(self) -> Iterator[list[Any]]:
        self._file.flush()
        end = self._file.tell()
        self._file.seek(0)
        try:
            while self._file.tell() < end:
                yield pickle.load(self._file)  # noqa: S301 - our own unnamed file (see the class)
        finally:
            if not self._file.closed:
                self._file.seek(end)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> Spill:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class FirstSeen:
    """Which keys a job has met before, and where first: a disk-backed ``key → position`` map (a private SQLite
    file in a temporary folder, with an 8 MiB page cache), for checks such as "external id repeated in the file"
    over millions of rows in flat memory.

    ``check`` takes a batch of ``(key, position)``: for each, the position the key was first seen at (an earlier
    batch, or earlier in this one), or None when it is new, and then remembers the new ones."""

    _LOOKUP = 500

    def __init__(self) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="upswing-keys-")
        self._db = sqlite3.connect(Path(self._folder.name) / "keys.db", isolation_level=None)
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-8192", "temp_store=FILE"):
            self._db.execute(f"PRAGMA {pragma}")
        self._db.execute("CREATE TABLE seen (key TEXT PRIMARY KEY, first INTEGER NOT NULL) WITHOUT ROWID")
        self._lookup = self._select(self._LOOKUP)

    @staticmethod
    def _select(count: int) -> str:
        return f"SELECT key, first FROM seen WHERE key IN ({', '.join('?' * count)})"  # noqa: S608 - markers only

    def check(self, batch: Sequence[tuple[str, int]]) -> list[int | None]:
        keys = list(dict.fromkeys(key for key, _ in batch))
        known: dict[str, int] = {}
        for start in range(0, len(keys), self._LOOKUP):
            part = keys[start:start + self._LOOKUP]
            statement = self._lookup if len(part) == self._LOOKUP else self._select(len(part))
            known.update(self._db.execute(statement, part))
        found: list[int | None] = []
        new: list[tuple[str, int]] = []
        for key, position in batch:
            first = known.get(key)
            if first is None:
                known[key] = position
                new.append((key, position))
            found.append(first)
        if new:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT INTO seen (key, first) VALUES (?, ?)", new)
            self._db.execute("COMMIT")
        return found

    def close(self) -> None:
        self._db.close()
        self._folder.cleanup()

    def __enter__(self) -> FirstSeen:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Lists of ``size`` items (the last one shorter)."""
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch
