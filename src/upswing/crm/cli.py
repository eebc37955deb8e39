"""``upswing crm …``: connect a CRM, see how its sync is doing, sync or reconcile now, disconnect (thin)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from upswing.core.cli_support import console, fail, user_errors

app = typer.Typer(help="CRM connections: connect, status, sync, reconcile, disconnect.", no_args_is_help=True)
_NAME = typer.Argument(..., help="The connection's name (or id)")
_ACTOR = "cli"


def _read_json(path: Path | None, option: str) -> dict[str, str] | None:
    if path is None:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        fail(f"{option} {path}: {exc}")
    if not isinstance(data, dict):
        fail(f"{option} {path}: expected a JSON object")
    return data


@app.command("connect")
def connect(name: str = _NAME,
            system: str | None = typer.Option(None, help="hubspot or salesforce (to create the connection)"),
            config_file: Path | None = typer.Option(None, "--config", help="JSON file: base URL and credentials"),
            owner_map_file: Path | None = typer.Option(None, "--owner-map",
                                                       help="JSON file: Upswing user id → CRM owner id"),
            budget: int = typer.Option(10_000, help="API calls allowed per UTC day")) -> None:
    """Create the connection (with --system and --config) if it does not exist, then check its credentials and
    create our fields in the CRM."""
    from upswing.core.db import transaction
    from upswing.crm import service
    from upswing.crm.connector import CrmError
    from upswing.crm.models import CrmConnection

    config = _read_json(config_file, "--config")
    owners = _read_json(owner_map_file, "--owner-map")
    from sqlalchemy import select

    with transaction() as session, user_errors():
        connection = session.scalar(select(CrmConnection).where(CrmConnection.name == name))
        if connection is None:
            if system is None or config is None:
                fail(f"no connection {name!r}: give --system and --config to create it")
            connection = service.create_connection(session, system=system, name=name, config=config,
                                                   owner_map=owners, daily_budget=budget, actor=_ACTOR)
    with transaction() as session, user_errors():
        connection = service.get_connection(session, name)
        try:
            info = service.connect(session, connection, actor=_ACTOR)
        except CrmError as exc:
            console.print(f"[red]{name}: {exc}[/red]")
            raise typer.Exit(1) from None
    console.print(f"{name}: connected ({', '.join(f'{k}={v}' for k, v in info.items()) or 'ok'})")


@app.command("status")
def status(name: str | None = typer.Argument(None, help="One connection (default: all)")) -> None:
    """Each connection: state, last error, pushes by state, API calls today against the budget, open conflicts."""
    from rich.table import Table

    from upswing.core.db import transaction
    from upswing.crm import service

    with transaction() as session, user_errors():
        connections = [service.get_connection(session, name)] if name else service.list_connections(session)
        rows = [service.status(session, c) for c in connections]
    table = Table("name", "system", "status", "pending", "sent", "failed", "calls today", "conflicts", "last error")
    for row in rows:
        table.add_row(row["name"], row["system"], row["status"], str(row["pushes"]["pending"]),
                      str(row["pushes"]["sent"]), str(row["pushes"]["failed"]),
                      f"{row['calls_today']}/{row['daily_budget']}", str(row["open_conflicts"]),
                      (row["last_error"] or "")[:60])
    console.print(table)


@app.command("sync")
def sync(name: str = _NAME) -> None:
    """Push every due signal now, then apply the CRM's changes (Salesforce is polled; HubSpot sends webhooks)."""
    from upswing.core.db import session_factory
    from upswing.crm import service

    with user_errors():
        pushed, pulled = service.sync(session_factory(), name)
    console.print(f"{name}: {pushed.sent} pushed, {pushed.retried} to retry, {pushed.failed} failed, "
                  f"{pushed.api_calls} API calls" + (f"; {pulled.applied} changes applied, {pulled.echoes} echoes, "
                                                     f"{pulled.conflicts} conflicts" if pulled else ""))


@app.command("reconcile")
def reconcile(name: str = _NAME,
              dry_run: bool = typer.Option(False, "--dry-run", help="Report, repair nothing")) -> None:
    """Compare both sides and repair drift: signals missing in the CRM re-queued, fields set from the side that
    owns them (exit 1 when differences were found)."""
    from upswing.core.db import transaction
    from upswing.crm import service

    with transaction() as session, user_errors():
        report = service.reconcile(session, service.get_connection(session, name), repair=not dry_run)
    console.print(f"{name}: {report.leads_checked} records checked, {report.missing} signals missing in the CRM, "
                  f"{report.unsent} never queued, {report.fields} fields differing, {report.records_missing} "
                  "records gone from the CRM" + ("" if dry_run or not report.differences else " (repaired)"))
    for item in report.field_details:
        console.print(f"  lead {item['lead_id']}: {item['field']} upswing={item['upswing']} crm={item['crm']} → "
                      f"{'kept in' if dry_run else 'written to'} {item['repaired']}")
    if report.differences:
        raise typer.Exit(1)


@app.command("disconnect")
def disconnect(name: str = _NAME) -> None:
    """Stop syncing this connection (pending pushes are kept)."""
    from upswing.core.db import transaction
    from upswing.crm import service

    with transaction() as session, user_errors():
        service.disconnect(session, service.get_connection(session, name), actor=_ACTOR)
    console.print(f"{name}: disconnected")
