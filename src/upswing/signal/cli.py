from __future__ import annotations

import sys
import uuid
from enum import StrEnum

import orjson
import typer
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from upswing.account.models import User
from upswing.core.cli_support import console, fail, progress_bar, timestamp_option, user_errors
from upswing.core.db import transaction
from upswing.signal import service
from upswing.signal.models import DismissReason, Priority, Signal, SignalAction, SignalOutcome
from upswing.signal.schemas import EvidenceContract, SignalContract, SignalRead

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
        score=signal.score, priority=signal.priority.value, score_breakdown=signal.score_breakdown,
        evidence=[EvidenceContract(url=item.url, snippet=item.snippet, source=item.source,
                                   observed_at=item.observed_at.isoformat(), observation_id=str(item.observation_id))
                  for item in signal.evidence],
    )


@app.command("list")
def list_signals(
    output_format: OutputFormat = typer.Option(OutputFormat.TABLE, "--format",
                                               help="table for people; jsonl is a stable contract"),
    since: str | None = typer.Option(None, help="Only signals detected at or after this ISO 8601 time"),
    priority: Priority | None = typer.Option(None, help="Only this priority"),
    by_score: bool = typer.Option(False, "--by-score", help="Highest score first (default: oldest first)"),
) -> None:
    """List signals, oldest first."""
    since_at = timestamp_option(since, "--since")
    with transaction() as session:
        signals = service.iter_all_signals(session, since=since_at)
    if priority is not None:
        signals = [s for s in signals if s.priority is priority]
    if by_score:
        signals.sort(key=lambda s: (-s.score, -s.detected_at.timestamp()))
    if output_format is OutputFormat.JSONL:
        out = sys.stdout
        for signal in signals:
            out.write(to_contract(signal).model_dump_json() + "\n")
        return
    table = Table("detected", "lead", "type", "title", "organization", "effective", "conf.", "score", "priority",
                  "status", title=f"{len(signals)} signal(s)")
    for signal in signals:
        table.add_row(signal.detected_at.strftime("%Y-%m-%d %H:%M"),
                      f"{signal.lead_external_id} {signal.lead_name}", signal.type.value, signal.title or "",
                      signal.organization or "",
                      signal.effective_date.isoformat() if signal.effective_date else "",
                      f"{signal.confidence:.2f}", str(signal.score), signal.priority.value, signal.status.value)
    console.print(table)


@app.command("show")
def show(signal_id: uuid.UUID = typer.Argument(..., help="Signal id")) -> None:
    """One signal as JSON: score breakdown, evidence, lifecycle."""
    with transaction() as session, user_errors():
        signal = service.get_signal(session, signal_id, user=None)
    console.print_json(orjson.dumps(signal.model_dump(mode="json")).decode())


@app.command("rescore")
def rescore() -> None:
    """Recompute every signal's score (recency decays; balances and outcomes change)."""
    with transaction() as session:
        leads = session.scalar(select(func.count(Signal.lead_id.distinct()))) or 0
        with progress_bar("Rescoring (leads)", leads) as advance:
            result = service.rescore(session, progress=advance)
    console.print(f"{result.signals} signal(s) rescored, {result.changed} changed")


def _user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.is_active:
        fail(f"no active user {username!r}")
    return user


_AS = typer.Option(..., "--as", help="Username the change is made as (audited)")
_NOTE = typer.Option(None, help="Free-text note")


@app.command("ack")
def ack(signal_id: uuid.UUID, username: str = _AS) -> None:
    """Acknowledge a signal."""
    with transaction() as session, user_errors():
        signal = service.acknowledge(session, signal_id, user=_user(session, username))
    console.print(f"signal {signal.id}: {signal.status.value}")


@app.command("action")
def action(signal_id: uuid.UUID, kind: SignalAction = typer.Argument(..., help="What was done"),
           username: str = _AS, note: str | None = _NOTE) -> None:
    """Record an action taken on a signal (call, email, letter, crm_task)."""
    with transaction() as session, user_errors():
        signal = service.record_action(session, signal_id, kind, user=_user(session, username), note=note)
    console.print(f"signal {signal.id}: {signal.status.value} ({kind.value})")


@app.command("outcome")
def outcome(signal_id: uuid.UUID, result: SignalOutcome = typer.Argument(..., help="What came of the action"),
            username: str = _AS, note: str | None = _NOTE) -> None:
    """Record the outcome of an action."""
    with transaction() as session, user_errors():
        signal = service.record_outcome(session, signal_id, result, user=_user(session, username), note=note)
    console.print(f"signal {signal.id}: {signal.status.value} ({result.value})")


@app.command("dismiss")
def dismiss(signal_id: uuid.UUID, reason: DismissReason = typer.Argument(..., help="Why"),
            username: str = _AS, note: str | None = _NOTE) -> None:
    """Dismiss a signal (wrong_person also tells the linker this subject is not the lead)."""
    with transaction() as session, user_errors():
        signal = service.dismiss(session, signal_id, reason, user=_user(session, username), note=note)
    console.print(f"signal {signal.id}: {signal.status.value} ({reason.value})")
