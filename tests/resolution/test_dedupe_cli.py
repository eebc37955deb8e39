"""``upswing leads dedupe`` end to end on a fresh database of each kind."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from conftest import POSTGRES_ADMIN_URL
from upswing.cli import app
from upswing.core import cli_support
from upswing.settings import get_settings

FIRST = ("external_id,first_name,last_name,email,city,state,postal_code,employer\n"
         "C-1,Robert,Kowalski,rk@example.com,Austin,TX,78701,Acme Corp\n"
         "C-2,Maria,Garcia,maria@example.com,Austin,TX,78701,\n"
         "C-3,Robert,Kowalski,bob.k@example.org,Portland,OR,97201,Nike\n")
SECOND = ("external_id,first_name,last_name,email,city,state,postal_code,employer\n"
          "X-77,Bob,Kowalski,rk@example.com,Austin,TX,,ACME\n"
          "X-78,Aiko,Tanaka,,Austin,TX,,\n")


@pytest.fixture(params=["sqlite", "postgresql"])
def cli(request: pytest.FixtureRequest, fresh_database_url: Callable[[str], str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Any]]:
    if request.param == "postgresql" and POSTGRES_ADMIN_URL is None:
        pytest.skip("PostgreSQL not reachable and UPSWING_TEST_POSTGRES_URL not set")
    monkeypatch.setenv("UPSWING_DATABASE_URL", fresh_database_url(request.param))
    monkeypatch.setenv("UPSWING_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    for console in (cli_support.console, cli_support.err_console):
        monkeypatch.setattr(console, "width", 250)
    runner = CliRunner()

    def invoke(*args: str) -> Any:
        result = runner.invoke(app, list(args), env={"COLUMNS": "250"}, catch_exceptions=False)
        return result

    yield invoke
    get_settings.cache_clear()


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
