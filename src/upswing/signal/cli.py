from __future__ import annotations

import sys
from enum import StrEnum

import typer
from rich.table import Table

from upswing.core.cli_support import console, fail
from upswing.core.db import transaction
from upswing.observation.reader import parse_timestamp
from upswing.signal import service
from upswing.signal.schemas import SignalContract, SignalRead

app = typer.Typer(help="Detected signals.", no_args_is_help=True)


class OutputFormat(StrEnum):
    TABLE = "table"
    JSONL = "jsonl"


def to_contract(signal: SignalRead) -> SignalContract:
    return SignalContract(
        id=str(signal.id), lead_external_id=signal.lead_external_id, lead_name=signal.lead_name,
        type=signal.type.value, title=signal.title, organization=signal.organization,
        effective_date=signal.effective_date.isoformat() if signal.effective_date else None,
        detected_at=signal.detected_at.isoformat(), confidence=round(signal.confidence, 4),
        evidence_url=signal.evidence_url, evidence_snippet=signal.evidence_snippet, status=signal.status.value,
    )


@app.command("list")
def list_signals(
    output_format: OutputFormat = typer.Option(OutputFormat.TABLE, "--format",
                                               help="table for people; jsonl is a stable contract"),
    since: str | None = typer.Option(None, help="Only signals detected at or after this ISO 8601 time"),
) -> None:
    """List signals, oldest first."""
    since_at = None
    if since is not None:
        since_at = parse_timestamp(since)
        if since_at is None:
            fail(f"--since is not an ISO 8601 timestamp: {since!r}")
    with transaction() as session:
        signals = service.iter_all_signals(session, since=since_at)
    if output_format is OutputFormat.JSONL:
        out = sys.stdout
        for signal in signals:
            out.write(to_contract(signal).model_dump_json() + "\n")
        return
    table = Table("detected", "lead", "type", "title", "organization", "effective", "conf.", "status",
                  title=f"{len(signals)} signal(s)")
    for signal in signals:
        table.add_row(signal.detected_at.strftime("%Y-%m-%d %H:%M"),
                      f"{signal.lead_external_id} {signal.lead_name}", signal.type.value, signal.title or "",
                      signal.organization or "",
                      signal.effective_date.isoformat() if signal.effective_date else "",
                      f"{signal.confidence:.2f}", signal.status.value)
    console.print(table)
