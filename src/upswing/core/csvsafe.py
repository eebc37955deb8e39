"""CSV that is safe to open in a spreadsheet: every cell a person might open in Excel or Sheets is neutralised
against formula injection (OWASP "CSV Injection"): a value starting with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return is prefixed with a single quote, so the spreadsheet shows it as text instead of running it.
A plain number (digits with an optional sign and decimals: ``-12.50``, ``+15551234567``) cannot be a formula and
is left as it is.

Every CSV the product writes (exports, data-subject exports, rejects files) goes through ``safe_cell`` or
``SafeWriter``.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any, Protocol

_DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")


def safe_cell(value: Any) -> str:
    """The text of one cell, neutralised when a spreadsheet could read it as a formula."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if text.startswith(_DANGEROUS_START) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


class _Writable(Protocol):
    def write(self, text: str, /) -> Any: ...


class SafeWriter:
    """``csv.writer`` whose every cell goes through ``safe_cell``."""

    def __init__(self, target: _Writable, **options: Any) -> None:
        self._writer = csv.writer(target, **options)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([safe_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


class SafeDictWriter:
    """``csv.DictWriter`` whose every cell goes through ``safe_cell`` (header names included)."""

    def __init__(self, target: _Writable, fieldnames: list[str], **options: Any) -> None:
        self._writer = csv.DictWriter(target, fieldnames=fieldnames, **options)
        self.fieldnames = fieldnames

    def writeheader(self) -> None:
        self._writer.writerow({name: safe_cell(name) for name in self.fieldnames})

    def writerow(self, row: dict[str, Any]) -> None:
        self._writer.writerow({key: safe_cell(value) for key, value in row.items()})

    def writerows(self, rows: Iterable[dict[str, Any]]) -> None:
        for row in rows:
            self.writerow(row)
