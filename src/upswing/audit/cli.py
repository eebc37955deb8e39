"""``upswing`` commands of this domain (thin: the service holds the logic)."""

from __future__ import annotations

import sys

import orjson
import typer
from rich.table import Table

from upswing.audit import service
from upswing.core.cli_support import console, err_console, timestamp_option
from upswing.core.db import transaction

app = typer.Typer(help="The audit log: read it and verify its hash chain.", no_args_is_help=True)


@app.command("verify")
def verify() -> None:
    """Check every entry's hash and its link to the previous one. Exit 0 when intact; exit 1 and name the
    first broken entry when the log was tampered with."""
    with transaction() as session:
        service.seal_all(session)
    with transaction() as session:
        report = service.verify(session)
    if report.intact:
        console.print(f"audit log intact: {report.entries} entr{'y' if report.entries == 1 else 'ies'}"
                      + (f", last id {report.last_id}, last hash {report.last_hash}" if report.last_id else ""))
        return
    err_console.print(f"[bold red]audit log tampered:[/] first broken entry id {report.first_broken_id} "
                      f"({report.entries - 1} entr{'y' if report.entries == 2 else 'ies'} before it verify)")
    raise typer.Exit(code=1)


@app.command("list")
def list_entries(
    entity_type: str | None = typer.Option(None, "--entity-type", help="e.g. lead, signal, privacy_request"),
    entity_id: str | None = typer.Option(None, "--entity-id", help="The entity's id"),
    actor: str | None = typer.Option(None, help="e.g. user:alice, cli:bob"),
    action: str | None = typer.Option(None, help="e.g. lead.view, privacy.dsar.erase"),
    since: str | None = typer.Option(None, help="At or after this ISO 8601 time"),
    limit: int = typer.Option(100, min=1, max=10_000, help="At most this many (newest first)"),
    jsonl: bool = typer.Option(False, "--jsonl", help="One JSON object per line (all fields)"),
) -> None:
    """List audit entries, newest first."""
    since_at = timestamp_option(since, "--since")
    with transaction() as session:
        entries, total = service.list_entries(session, entity_type=entity_type, entity_id=entity_id, actor=actor,
                                              action=action, since=since_at, limit=limit)
    if jsonl:
        for entry in entries:
            sys.stdout.write(orjson.dumps({
                "id": entry.id, "at": entry.at.isoformat(), "actor": entry.actor, "action": entry.action,
                "entity_type": entry.entity_type, "entity_id": entry.entity_id, "details": entry.details,
                "prev_hash": entry.prev_hash, "hash": entry.hash}).decode() + "\n")
        return
    table = Table("id", "at", "actor", "action", "entity", "details", title=f"{len(entries)} of {total} entr(ies)")
    for entry in entries:
        table.add_row(str(entry.id), entry.at.strftime("%Y-%m-%d %H:%M:%S"), entry.actor, entry.action,
                      f"{entry.entity_type} {entry.entity_id or ''}".strip(),
                      orjson.dumps(entry.details).decode()[:120])
    console.print(table)
