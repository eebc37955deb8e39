"""The command line end to end on a fresh database of each kind, including the jsonl contract."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

CONTRACT_FIELDS = {"id", "lead_external_id", "lead_name", "type", "title", "organization", "effective_date",
                   "detected_at", "confidence", "evidence_url", "evidence_snippet", "status", "score", "priority",
                   "score_breakdown", "evidence"}


def _date(text: str | None) -> dict[str, object]:
    if text is None:
        return {"text": "Present"}
    month, year = text.split()
    return {"month": month, "year": int(year), "text": text}


def _item(public_id: str, jobs: list[tuple[str, str, str, str | None]], scraped_at: str) -> dict[str, object]:
    return {"publicIdentifier": public_id, "linkedinUrl": f"https://www.linkedin.com/in/{public_id}",
            "firstName": "Rosa", "lastName": "Delgado", "scrapedAt": scraped_at,
            "experience": [{"position": t, "companyName": c, "startDate": _date(s), "endDate": _date(e)}
                           for t, c, s, e in jobs]}


def test_import_ingest_and_list_signals_as_jsonl(cli: Callable[..., object], tmp_path: Path, us_daytime: Any) -> None:
    assert cli("db", "upgrade").exit_code == 0  # type: ignore[attr-defined]
    created = cli("users", "create", "boss", "--role", "admin", UPSWING_NEW_USER_PASSWORD="long-password-1")
    assert created.exit_code == 0, created.output  # type: ignore[attr-defined]

    leads = tmp_path / "leads.csv"
    leads.write_text("external_id,first_name,last_name,linkedin_url\n"
                     "R-1,Rosa,Delgado,https://www.linkedin.com/in/rosa-delgado\n")
    imported = cli("leads", "import", str(leads), "--portfolio", "cli")
    assert imported.exit_code == 0 and "1 created" in imported.output  # type: ignore[attr-defined]
    again = cli("leads", "import", str(leads), "--portfolio", "cli")
    assert "0 created, 0 updated, 1 unchanged" in again.output  # type: ignore[attr-defined]

    before = tmp_path / "sept.json"
    before.write_text(json.dumps([_item("rosa-delgado", [("Cashier", "Target", "May 2022", None)],
                                        "2026-09-01T06:00:00Z"),
                                  _item("stranger", [], "2026-09-01T06:00:00Z")]))
    after = tmp_path / "oct.jsonl"
    after.write_text(json.dumps(_item("rosa-delgado", [("Cashier", "Target", "May 2022", "Sep 2026"),
                                                       ("Dental Assistant", "Bright Smiles", "Sep 2026", None)],
                                      "2026-10-01T06:00:00Z")) + "\n")
    assert cli("ingest", "apify", str(before)).exit_code == 0  # type: ignore[attr-defined]
    ingested = cli("ingest", "apify", str(after), "--actor", "harvestapi")
    assert "signals: 1 new" in ingested.output  # type: ignore[attr-defined]
    assert cli("ingest", "apify", str(after)).exit_code == 0  # type: ignore[attr-defined]

    listed = cli("signals", "list", "--format", "jsonl")
    lines = [json.loads(line) for line in listed.output.splitlines()]  # type: ignore[attr-defined]
    assert len(lines) == 1
    assert set(lines[0]) >= CONTRACT_FIELDS
    assert (lines[0]["lead_external_id"], lines[0]["type"], lines[0]["title"], lines[0]["organization"],
            lines[0]["effective_date"]) == ("R-1", "new_employment", "Dental Assistant", "Bright Smiles",
                                            "2026-09-01")
    assert lines[0]["evidence_url"] == "https://www.linkedin.com/in/rosa-delgado"
    line = lines[0]
    assert isinstance(line["score"], int) and 0 < line["score"] <= 100
    assert line["priority"] in ("urgent", "high", "medium", "low")
    assert set(line["score_breakdown"]) == {"strength", "confidence", "recency", "corroboration", "balance",
                                            "delinquency", "outcomes"}
    assert abs(sum(line["score_breakdown"].values()) - line["score"]) <= 0.5
    assert isinstance(line["evidence"], list) and len(line["evidence"]) == 1
    assert line["evidence"][0] == {"url": "https://www.linkedin.com/in/rosa-delgado",
                                   "snippet": line["evidence_snippet"], "source": "apify-file",
                                   "observed_at": "2026-10-01T06:00:00+00:00",
                                   "observation_id": line["evidence"][0]["observation_id"]}

    rescored = cli("signals", "rescore")
    assert rescored.exit_code == 0 and "1 signal(s) rescored" in rescored.output  # type: ignore[attr-defined]
    shown = cli("signals", "show", line["id"])
    assert shown.exit_code == 0 and '"score_breakdown"' in shown.output  # type: ignore[attr-defined]
    acted = cli("signals", "action", line["id"], "call", "--as", "boss", "--note", "spoke to Rosa")
    assert acted.exit_code == 0 and "actioned (call)" in acted.output  # type: ignore[attr-defined]
    early = cli("signals", "dismiss", line["id"], "duplicate", "--as", "boss")
    assert early.exit_code == 1 and "can be dismissed" in early.output  # type: ignore[attr-defined]
    resolved = cli("signals", "outcome", line["id"], "payment", "--as", "boss")
    assert resolved.exit_code == 0 and "resolved (payment)" in resolved.output  # type: ignore[attr-defined]
    assert cli("signals", "ack", line["id"], "--as", "nobody").exit_code == 1  # type: ignore[attr-defined]
    after = json.loads(cli("signals", "list", "--format", "jsonl").output)  # type: ignore[attr-defined]
    assert after["status"] == "resolved"
    future = cli("signals", "list", "--format", "jsonl", "--since", "2999-01-01T00:00:00Z")
    assert future.output == ""  # type: ignore[attr-defined]
    assert "Rosa Delgado" in cli("signals", "list").output  # type: ignore[attr-defined]

    unlinked = cli("observations", "unlinked")
    assert "li:stranger" in unlinked.output  # type: ignore[attr-defined]


def test_bad_lead_file_names_row_and_field_and_writes_nothing(cli: Callable[..., object], tmp_path: Path) -> None:
    assert cli("db", "upgrade").exit_code == 0  # type: ignore[attr-defined]
    bad = tmp_path / "bad.csv"
    bad.write_text("external_id,first_name,last_name,email,days_delinquent\n"
                   "X-1,Ann,Lee,ann@example.com,100\n"
                   "X-2,Bo,,bo@example,abc\n")
    result = cli("leads", "import", str(bad))
    assert result.exit_code == 1  # type: ignore[attr-defined]
    output = result.output  # type: ignore[attr-defined]
    assert "nothing was written" in output
    assert "row 3, field 'last_name'" in output and "row 3, field 'email'" in output
    assert "row 3, field 'days_delinquent'" in output
    assert "0 lead(s)" in cli("leads", "list").output  # type: ignore[attr-defined]

    skipped = cli("leads", "import", str(bad), "--skip-invalid")
    assert "1 created" in skipped.output  # type: ignore[attr-defined]
    assert (tmp_path / "bad.rejects.csv").exists()


def test_invalid_options_are_clear_errors(cli: Callable[..., object], tmp_path: Path) -> None:
    not_migrated = cli("signals", "list")
    assert not_migrated.exit_code == 1 and "upswing db upgrade" in not_migrated.output  # type: ignore[attr-defined]
    assert cli("db", "upgrade").exit_code == 0  # type: ignore[attr-defined]
    export = tmp_path / "x.json"
    export.write_text("[]")
    wrong_actor = cli("ingest", "apify", str(export), "--actor", "linkedin")
    assert wrong_actor.exit_code != 0 and "--actor" in wrong_actor.output  # type: ignore[attr-defined]
    wrong_time = cli("signals", "list", "--since", "yesterday")
    assert wrong_time.exit_code != 0 and "--since" in wrong_time.output  # type: ignore[attr-defined]


# --------------------------------------------------------------------------------------------------
# --help anywhere: no database, no file, and a fast start (nothing heavy imported)
# --------------------------------------------------------------------------------------------------

_HELP_EVERYWHERE = """
import json
from typer.core import TyperGroup
from typer.testing import CliRunner
from upswing.cli import COMMANDS, app

runner = CliRunner()
results = {}

def run(words):
    result = runner.invoke(app, [*words, "--help"], env={"COLUMNS": "200"})
    results[" ".join(words) or "upswing"] = [result.exit_code, result.output]

def walk(words, command):
    run(words)
    if isinstance(command, TyperGroup):
        for name, sub in command.commands.items():
            walk([*words, name], sub)

run([])
for name, lazy in COMMANDS.items():
    walk([name], lazy.load(name))
print(json.dumps(results))
"""

_HEAVY_IMPORTS = """
import json, sys
from typer.testing import CliRunner
from upswing.cli import app

heavy = ("sklearn", "scipy", "numpy", "pandas", "celery", "redis", "fastapi", "starlette", "uvicorn", "httpx",
         "trafilatura", "sqlalchemy", "psycopg", "alembic", "upswing.signal.service", "upswing.signal.models")
seen = {}
for words in (["--help"], ["signals", "--help"], ["signals", "list", "--help"], ["signals", "ack", "--help"]):
    result = CliRunner().invoke(app, words)
    seen[" ".join(words)] = [result.exit_code, sorted(m for m in heavy if m in sys.modules)]
print(json.dumps(seen))
"""


def _python(code: str, tmp_path: Path) -> dict[str, Any]:
    """Run ``code`` in a fresh interpreter, in an empty folder, with an empty data dir and no database URL."""
    work, data = tmp_path / "work", tmp_path / "data"
    work.mkdir()
    data.mkdir()
    env = {key: value for key, value in os.environ.items()
           if key != "UPSWING_DATABASE_URL" and not key.startswith("PYTEST")}
    env["UPSWING_DATA_DIR"] = str(data)
    done = subprocess.run([sys.executable, "-c", code], cwd=work, env=env, capture_output=True, text=True,  # noqa: S603
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def test_help_of_every_command_needs_no_database_and_creates_no_file(tmp_path: Path) -> None:
    results = _python(_HELP_EVERYWHERE, tmp_path)
    from upswing.cli import COMMANDS

    assert {"upswing", "signals list", "signals ack", "ingest apify", "privacy dsar", "demo run", "serve"} <= set(
        results)
    assert set(COMMANDS) <= set(results)
    for words, (exit_code, output) in results.items():
        assert exit_code == 0, (words, output)
        assert "Usage: " in output and "Error" not in output, (words, output)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == ["data", "work"]


def test_help_imports_nothing_heavy(tmp_path: Path) -> None:
    seen = _python(_HEAVY_IMPORTS, tmp_path)
    assert seen == {"--help": [0, []], "signals --help": [0, []], "signals list --help": [0, []],
                    "signals ack --help": [0, []]}


def test_the_lazy_command_list_matches_the_commands() -> None:
    from upswing.cli import COMMANDS, app
    from upswing.signal.cli import app as signals_app

    for name, lazy in COMMANDS.items():
        command = lazy.load(name)
        assert command.name == name
        assert (command.help or "").split("\n")[0].strip() == lazy.help, name
    assert COMMANDS["signals"].load("signals").help == signals_app.info.help
    listed = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"}).output
    assert all(f" {name} " in listed for name in COMMANDS)


def test_commands_that_need_the_schema_still_check_it(cli: Callable[..., Any]) -> None:
    for words in (["leads", "list"], ["signals", "show", "0123abcd"], ["audit", "verify"]):
        refused = cli(*words)
        assert refused.exit_code == 1 and "run `upswing db upgrade` first" in refused.output, words
    assert cli("signals", "show", "--help").exit_code == 0
    assert cli("db", "upgrade").exit_code == 0
    assert cli("leads", "list").exit_code == 0
