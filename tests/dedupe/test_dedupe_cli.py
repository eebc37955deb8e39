"""``upswing leads dedupe`` end to end on a fresh database of each kind."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

FIRST = ("external_id,first_name,last_name,email,city,state,postal_code,employer\n"
         "C-1,Robert,Kowalski,rk@example.com,Austin,TX,78701,Acme Corp\n"
         "C-2,Maria,Garcia,maria@example.com,Austin,TX,78701,\n"
         "C-3,Robert,Kowalski,bob.k@example.org,Portland,OR,97201,Nike\n")
SECOND = ("external_id,first_name,last_name,email,city,state,postal_code,employer\n"
          "X-77,Bob,Kowalski,rk@example.com,Austin,TX,,ACME\n"
          "X-78,Aiko,Tanaka,,Austin,TX,,\n")



def test_leads_dedupe_proposes_then_applies(cli: Callable[..., Any], tmp_path: Path) -> None:
    assert cli("db", "upgrade").exit_code == 0
    (tmp_path / "first.csv").write_text(FIRST)
    (tmp_path / "second.csv").write_text(SECOND)
    for name in ("first.csv", "second.csv"):
        imported = cli("leads", "import", str(tmp_path / name), "--portfolio", "book")
        assert imported.exit_code == 0, imported.output

    proposed = cli("leads", "dedupe", "--portfolio", "book", "--format", "jsonl")
    assert proposed.exit_code == 0, proposed.output
    lines = [json.loads(line) for line in proposed.stdout.splitlines() if line.strip()]
    assert len(lines) == 1
    line = lines[0]
    assert (line["survivor_external_id"], line["merged_external_id"]) == ("C-1", "X-77")
    assert line["status"] == "proposed" and line["merge_id"] and line["score"] > 0.99
    assert line["agreed"]["first_name"] == "nickname: robert / bob"
    assert set(line) >= {"portfolio", "survivor_id", "merged_id", "survivor_name", "merged_name", "weight",
                         "disagreed"}

    table = cli("leads", "dedupe", "--threshold", "0.5")
    assert table.exit_code == 0, table.output
    assert "1 probable duplicate(s)" in table.output and "C-1 Robert Kowalski" in table.output
    assert "X-77 Bob Kowalski" in table.output and line["merge_id"] in table.output

    applied = cli("leads", "dedupe", "--portfolio", "book", "--apply", "--format", "jsonl")
    assert applied.exit_code == 0, applied.output
    assert [json.loads(x)["status"] for x in applied.stdout.splitlines()] == ["applied"]
    listed = cli("leads", "list", "--portfolio", "book")
    assert "X-77" not in listed.output and "C-1" in listed.output and "4 lead(s)" in listed.output
    assert cli("leads", "dedupe", "--format", "jsonl").stdout.strip() == ""

    missing = cli("leads", "dedupe", "--portfolio", "nope")
    assert missing.exit_code == 1 and "portfolio 'nope' not found" in missing.output
