"""``upswing privacy …`` against a fresh database of each kind: config, the request queue, export, erasure,
purge; and the erasure is visible in ``upswing audit``."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

LEADS = ("external_id,first_name,last_name,email,phone,phone_type,linkedin_url\n"
         "CLI-1,Marisol,Featherstonehaugh,marisol.f@example.com,(737) 555-0142,cell,"
         "https://www.linkedin.com/in/marisol-fsh\n"
         "CLI-2,Bram,Okonkwo,bram@example.com,,,\n")


def run(cli: Callable[..., Any], *args: str, code: int = 0) -> str:
    result = cli(*args)
    assert result.exit_code == code, result.output
    return str(result.output)


def test_dsar_export_then_erase_from_the_command_line(cli: Callable[..., Any], tmp_path: Path) -> None:
    run(cli, "db", "upgrade")
    leads = tmp_path / "leads.csv"
    leads.write_text(LEADS)
    run(cli, "leads", "import", str(leads))
    assert json.loads(run(cli, "privacy", "config"))["mode"] == "standard"

    access = json.loads(run(cli, "privacy", "dsar", "create", "--type", "access", "--email", "MARISOL.F@example.com",
                            "--regime", "ccpa", "--received-at", "2026-11-02T09:00:00Z"))
    assert (access["status"], access["acknowledge_by"], len(access["lead_ids"])) == (
        "received", "2026-11-16T09:00:00Z", 1)
    listed = json.loads(run(cli, "privacy", "dsar", "list", "--json"))
    assert [item["id"] for item in listed] == [access["id"]]
    archive = tmp_path / "out" / "marisol.zip"
    assert "exported" in run(cli, "privacy", "dsar", "export", access["id"], "--out", str(archive))
    with zipfile.ZipFile(archive) as opened:
        assert "marisol.f@example.com" in opened.read("leads.csv").decode()
    directory = tmp_path / "out" / "marisol"
    run(cli, "privacy", "dsar", "export", access["id"], "--out", str(directory))
    assert (directory / "export.json").exists() and (directory / "leads.csv").exists()
    assert json.loads(run(cli, "privacy", "dsar", "complete", access["id"]))["status"] == "completed"

    erasure = json.loads(run(cli, "privacy", "dsar", "create", "--type", "erasure", "--phone", "737-555-0142"))
    aborted = cli("privacy", "dsar", "erase", erasure["id"], input="n\n")
    assert aborted.exit_code == 1  # asked to confirm, said no: nothing happened
    assert "Marisol" in run(cli, "leads", "list")
    erased = json.loads(run(cli, "privacy", "dsar", "erase", erasure["id"], "--yes"))
    assert erased["status"] == "completed" and erased["outcome"]["deleted"]["leads"] == 1
    listing = run(cli, "leads", "list")
    assert "Marisol" not in listing and "Bram" in listing
    run(cli, "leads", "import", str(leads))
    assert "Marisol" not in run(cli, "leads", "list")  # the tombstone keeps her out

    entries = [json.loads(line) for line in run(cli, "audit", "list", "--entity-type", "privacy_request",
                                                "--jsonl").splitlines()]
    assert {e["action"] for e in entries} >= {"privacy.dsar.create", "privacy.dsar.export", "privacy.dsar.erase"}
    assert "intact" in run(cli, "audit", "verify")
    purge = run(cli, "privacy", "purge", "--dry-run")
    assert "dry run" in purge and "raw payloads emptied" in purge


def test_errors_are_clear(cli: Callable[..., Any]) -> None:
    run(cli, "db", "upgrade")
    assert "at least one identifier" in run(cli, "privacy", "dsar", "create", "--type", "access", code=1)
    assert "not a date" in run(cli, "privacy", "dsar", "create", "--type", "access", "--birth-date", "1/2/90",
                               code=1)
    assert "not found" in run(cli, "privacy", "dsar", "show", "nope", code=1)
    created = json.loads(run(cli, "privacy", "dsar", "create", "--type", "correction", "--email", "a@b.org"))
    assert "field=value" in run(cli, "privacy", "dsar", "correct", created["id"], "--set", "oops", code=1)
    assert "cannot be corrected" in run(cli, "privacy", "dsar", "correct", created["id"], "--set", "balance=0",
                                        code=1)


def test_the_purge_is_a_daily_scheduled_task(cli: Callable[..., Any]) -> None:
    from datetime import timedelta

    from upswing.core import tasks
    from upswing.privacy import tasks as privacy_tasks

    run(cli, "db", "upgrade")
    assert any(s.task_name == "privacy.purge" and s.every == timedelta(days=1) for s in tasks._SCHEDULES)
    assert tasks._TASKS["privacy.purge"].fn is privacy_tasks.purge.fn
    report = privacy_tasks.purge()
    assert report["dry_run"] is False and report["mode"] == "standard"
    assert "privacy.purge" in run(cli, "audit", "list", "--action", "privacy.purge")
