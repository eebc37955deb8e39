"""Scan every text and JSON value of every table for a person's PII (encrypted values are decrypted first)."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import inspect
from sqlalchemy.orm import Session

from upswing.core.crypto import DecryptionError, get_key_ring, is_encrypted


def _as_text(value: Any) -> str | None:
    if value is None or isinstance(value, bool | int | float):
        return None
    if isinstance(value, bytes | memoryview):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, dict | list):
        return orjson.dumps(value).decode()
    return str(value)


def _reveal(table: str, column: str, text: str) -> str:
    """The plaintext of a ciphertext (context "table.column" as most domains encrypt, or the compliance
    domain's one context), else the text itself."""
    if not is_encrypted(text):
        return text
    ring = get_key_ring()
    for context in (f"{table}.{column}", "compliance.target", ""):
        try:
            return ring.decrypt(text, context=context)
        except DecryptionError:
            continue
    return text


def find_pii(session: Session, needles: list[str]) -> list[tuple[str, str, str]]:
    """``(table, column, needle)`` for every stored value containing a needle (case-insensitive).

    Reads the values as stored (no column types), so what is checked is what the database holds.
    """
    connection = session.connection()
    lowered = [n.lower() for n in needles]
    hits: list[tuple[str, str, str]] = []
    for table in inspect(connection).get_table_names():
        result = connection.exec_driver_sql(f'SELECT * FROM "{table}"')  # noqa: S608 - names from the catalog
        columns = list(result.keys())
        for row in result:
            for column, value in zip(columns, row, strict=True):
                text = _as_text(value)
                if text is None:
                    continue
                plain = _reveal(table, column, text).lower()
                hits.extend((table, column, needle) for needle in lowered if needle in plain)
    return sorted(set(hits))
