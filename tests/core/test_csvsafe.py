"""Formula injection: every dangerous first character is neutralised; plain numbers and text are not touched."""

from __future__ import annotations

import csv
import io

import pytest

from upswing.core.csvsafe import SafeDictWriter, SafeWriter, safe_cell


@pytest.mark.parametrize("value", ["=1+1", "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0", "@SUM(A1:A9)",
                                   "\t=HYPERLINK(\"http://x\")", "\r=1", "=HYPERLINK(\"http://evil\",\"x\")"])
def test_formulas_are_neutralised(value: str) -> None:
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize(("value", "expected"), [("-12.50", "-12.50"), ("+15", "+15"), ("Jane", "Jane"),
                                                 (None, ""), (42, "42"), ("a=b", "a=b"), ("", "")])
def test_ordinary_values_are_kept(value: object, expected: str) -> None:
    assert safe_cell(value) == expected


def test_the_writers_neutralise_every_cell() -> None:
    buffer = io.StringIO()
    SafeWriter(buffer).writerow(["=evil()", "ok"])
    writer = SafeDictWriter(buffer, fieldnames=["name", "@note"])
    writer.writeheader()
    writer.writerow({"name": "+1+1", "@note": "fine"})
    rows = list(csv.reader(io.StringIO(buffer.getvalue())))
    assert rows == [["'=evil()", "ok"], ["name", "'@note"], ["'+1+1", "fine"]]
