"""Key rotation: which key encrypts each stored value, and re-encrypting them with the active key.

Encrypted values live in columns declared with the encrypted types (``crypto.EncryptedType``) and in columns
other code fills with ``KeyRing.encrypt`` itself (``crypto.register_sealed_column``). Both are found here as
``Location``s. Rotation works a batch at a time in primary-key order and each batch is its own transaction (the
caller commits), so a stopped rotation resumes where it stopped: only values not under the active key are
selected. Values are read and written as raw text, bypassing the column types. Services never commit.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Column, Table, Text, and_, bindparam, column, func, inspect, literal, or_, select, table, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import TableClause

import upswing.models  # noqa: F401 - every table is on the metadata
from upswing.core.crypto import PREFIX, DecryptionError, EncryptedJSON, EncryptedType, KeyRing, sealed_columns
from upswing.core.db import Base

#: What ``key_status`` reports for values not encrypted at all (written before encryption, or by hand).
CLEAR = "clear"


@dataclass(frozen=True)
class Location:
    """One column holding encrypted values, and how to rebuild a value's encryption context from its row."""

    table: Table
    column: str
    context: Callable[[Mapping[str, Any]], str]
    needs: tuple[str, ...] = ()
    #: The column type, for the encrypted types (a clear value there is encrypted by rotation too).
    kind: EncryptedType | None = None

    @property
    def name(self) -> str:
        return f"{self.table.name}.{self.column}"

    @property
    def key(self) -> Column[Any]:
        return next(iter(self.table.primary_key.columns))


def _fixed(context: str) -> Callable[[Mapping[str, Any]], str]:
    return lambda _row: context


def locations(session: Session) -> list[Location]:
    """Every column of this database that holds encrypted values (tables that do not exist are left out)."""
    existing = set(inspect(session.connection()).get_table_names())
    found: list[Location] = []
    for model_table in Base.metadata.sorted_tables:
        if model_table.name not in existing or len(model_table.primary_key.columns) != 1:
            continue
        for model_column in model_table.columns:
            if isinstance(model_column.type, EncryptedType):
                found.append(Location(model_table, model_column.name, _fixed(model_column.type.context),
                                      kind=model_column.type))
    for (table_name, column_name), sealed in sorted(sealed_columns().items()):
        sealed_table = Base.metadata.tables.get(table_name)
        if (sealed_table is None or table_name not in existing or column_name not in sealed_table.c
                or len(sealed_table.primary_key.columns) != 1):
            continue
        found.append(Location(sealed_table, column_name, sealed.context, sealed.needs))
    return found


def _raw(location: Location) -> TableClause:
    """The location's table with its key, the encrypted column as plain text (ciphertexts are read and written
    as they are, bypassing the column type) and the columns the context needs."""
    key = location.key
    others = [column(name, location.table.c[name].type) for name in location.needs]
    return table(location.table.name, column(key.name, key.type), column(location.column, Text), *others)


def key_status(session: Session, ring: KeyRing) -> dict[str, dict[str, int]]:
    """Per location, how many values each key id encrypts (``CLEAR``: not encrypted; empty lists not counted)."""
    status: dict[str, dict[str, int]] = {}
    for location in locations(session):
        counts: Counter[str] = Counter()
        stored = _raw(location).c[location.column]
        query = select(stored).where(stored.is_not(None))
        for (value,) in session.execute(query.execution_options(yield_per=5000)):
            kid = ring.key_id_of(value)
            if kid is not None:
                counts[kid] += 1
            elif not _empty(location, value):
                counts[CLEAR] += 1
        status[location.name] = dict(sorted(counts.items()))
    return status


def _empty(location: Location, value: str) -> bool:
    return isinstance(location.kind, EncryptedJSON) and value in ("[]", "{}")


def _pending(raw: TableClause, location: Location, ring: KeyRing) -> Any:
    """Values rotation has to rewrite: encrypted with another key, or (encrypted types) still in clear."""
    stored = raw.c[location.column]
    active = f"{PREFIX}{ring.active_id}:"
    other_key = and_(stored.like(f"{PREFIX}%"), func.substr(stored, 1, len(active)) != literal(active))
    if location.kind is None:
        return other_key
    in_clear = and_(~stored.like(f"{PREFIX}%"), stored.not_in(["[]", "{}"]))
    return and_(stored.is_not(None), or_(other_key, in_clear))


def pending_count(session: Session, ring: KeyRing) -> dict[str, int]:
    """Per location, how many values ``rotate_batch`` still has to rewrite."""
    counts = {}
    for location in locations(session):
        raw = _raw(location)
        counts[location.name] = session.scalar(
            select(func.count()).select_from(raw).where(_pending(raw, location, ring))) or 0
    return counts


@dataclass
class BatchResult:
    rewritten: int = 0
    #: Rows looked at (rewritten, failed, or already right).
    seen: int = 0
    #: Values no key of the ring opens (with the context rebuilt from their row): left as they are.
    failed: list[str] = field(default_factory=list)
    #: Primary key of the last row looked at (the next batch starts after it); None when nothing was left.
    last_key: Any = None


def rotate_batch(session: Session, location: Location, ring: KeyRing, *, after: Any = None,
                 size: int = 1000) -> BatchResult:
    """Re-encrypt up to ``size`` pending values of one location with the active key (rows after ``after``)."""
    raw = _raw(location)
    key, stored = raw.c[location.key.name], raw.c[location.column]
    query = select(raw).where(_pending(raw, location, ring)).order_by(key).limit(size)
    if after is not None:
        query = query.where(key > after)
    result = BatchResult()
    updates = []
    for row in session.execute(query):
        mapping = row._mapping
        value: str = mapping[stored]
        result.last_key = mapping[key]
        result.seen += 1
        context = location.context({name: mapping[raw.c[name]] for name in location.needs})
        try:
            if value.startswith(PREFIX):
                new = ring.reencrypt(value, context=context)
            else:  # a clear value in an encrypted column: read it as the type does, then seal it
                assert location.kind is not None
                new = location.kind.seal(location.kind.from_text(value), ring) or value
        except (DecryptionError, ValueError, TypeError):
            result.failed.append(str(result.last_key))
            continue
        updates.append({"_key": result.last_key, "_old": value, "_new": new})
    # Only a value nobody changed since it was read is replaced.
    statement = (update(raw).where(key == bindparam("_key"), stored == bindparam("_old"))
                 .values({location.column: bindparam("_new")}))
    for start in range(0, len(updates), 500):
        session.execute(statement, updates[start:start + 500])
    result.rewritten = len(updates)
    return result


def reindex_leads(session: Session, ring: KeyRing, *, after: uuid.UUID | None = None,
                  size: int = 1000) -> BatchResult:
    """Recompute the blind indexes of up to ``size`` leads (after the lead id ``after``) with the ring's index
    key: needed after a change of UPSWING_BLIND_INDEX_KEY."""
    from upswing.lead.models import Lead
    from upswing.lead.pii import INDEX_FIELDS, blind_indexes

    query = select(Lead.id, Lead.email, Lead.emails, Lead.phone, Lead.phones, *(getattr(Lead, f) for f in INDEX_FIELDS))
    query = query.order_by(Lead.id).limit(size)
    if after is not None:
        query = query.where(Lead.id > after)
    result = BatchResult()
    updates = []
    for row in session.execute(query):
        result.last_key = row.id
        result.seen += 1
        indexes = blind_indexes(row.email, row.emails, row.phone, row.phones, ring)
        if any(indexes[name] != getattr(row, name) for name in INDEX_FIELDS):
            updates.append({"id": row.id, **indexes})
    if updates:
        session.execute(update(Lead), updates)
    result.rewritten = len(updates)
    return result
