"""``upswing signals``: list signals as the API does (filters, newest first, a user's scope), one signal, its
lifecycle, rescoring.

A signal is named by its id or by a unique prefix of it (the table's ``id`` column shows 8 characters).
The service, the ORM models and SQLAlchemy are imported inside the commands, so ``upswing signals --help``
needs none of them; the choices of the options are ``Literal`` types for the same reason (a test keeps them
equal to the enums in ``upswing.signal.models``).
"""

from __future__ import annotations

import sys
import uuid
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING, Literal

import typer

from upswing.core.cli_support import (
    console,
    fail,
    fail_invalid,
    progress_bar,
    resolve_id,
    short_ids,
    timestamp_option,
    user_errors,
)
from upswing.detection.events import SignalType

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from upswing.account.models import User
    from upswing.signal.schemas import SignalContract, SignalFilters, SignalRead

app = typer.Typer(help="Detected signals.", no_args_is_help=True)

# The values of SignalStatus, Priority, SignalAction, SignalOutcome and DismissReason (upswing.signal.models, which
# imports SQLAlchemy): Typer shows and checks them for --help without that import. Keep them equal (a test does).
StatusChoice = Literal["new", "acknowledged", "actioned", "resolved", "dismissed"]
PriorityChoice = Literal["urgent", "high", "medium", "low"]
ActionChoice = Literal["call", "sms", "email", "letter", "crm_task"]
OutcomeChoice = Literal["promise_to_pay", "payment", "no_response", "dispute", "wrong_person", "conversation"]
DismissChoice = Literal["wrong_person", "not_relevant", "duplicate"]

#: Signals read per query when listing (the service's page limit).
_PAGE = 1000


class OutputFormat(StrEnum):
    TABLE = "table"
    JSONL = "jsonl"


def to_contract(signal: SignalRead) -> SignalContract:
    from upswing.signal.schemas import EvidenceContract, SignalContract

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


def _date_option(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option} is not an ISO 8601 date (YYYY-MM-DD): {value!r}")


def resolve_signal_id(session: Session, given: str, user: User | None) -> uuid.UUID:
    """The signal whose id is ``given`` or starts with it (dashes and case do not matter), among those
    ``user`` may see (``None``: all); a clear error when none or several match."""
    from sqlalchemy import select

    from upswing.lead.access import visible_leads_clause
    from upswing.lead.models import Lead
    from upswing.signal.models import Signal

    query = select(Signal.id).join(Lead, Lead.id == Signal.lead_id)
    if user is not None:
        query = query.where(visible_leads_clause(user))
    return resolve_id(session, query, Signal.id, given, "signal")


def _all_signals(session: Session, filters: SignalFilters, user: User | None) -> list[SignalRead]:
    from upswing.signal import service

    signals: list[SignalRead] = []
    cursor: str | None = None
    while True:
        page = service.page_signals(session, filters.model_copy(update={"cursor": cursor}), user=user)
        signals.extend(page.items)
        if page.next_cursor is None:
            return signals
        cursor = page.next_cursor


@app.command("list")
def list_signals(
    output_format: OutputFormat = typer.Option(OutputFormat.TABLE, "--format",
                                               help="table for people; jsonl is a stable contract"),
    signal_type: SignalType | None = typer.Option(None, "--type", help="Only this type"),
    status: StatusChoice | None = typer.Option(None, help="Only this status"),
    priority: PriorityChoice | None = typer.Option(None, help="Only this priority"),
    assignee: str | None = typer.Option(None, help="me (needs --as), none (the unassigned queue), or a username"),
    lead: str | None = typer.Option(None, "--lead", help="Only this lead (its external id)"),
    since: str | None = typer.Option(None, help="Only signals detected at or after this ISO 8601 time"),
    until: str | None = typer.Option(None, help="Only signals detected before this ISO 8601 time"),
    effective_from: str | None = typer.Option(None, help="Only events dated (effective) on or after this date"),
    effective_to: str | None = typer.Option(None, help="Only events dated (effective) on or before this date"),
    by_score: bool = typer.Option(False, "--by-score", help="Highest score first (default: newest first)"),
    escalated: bool = typer.Option(False, "--escalated", help="Only escalated signals (nobody acknowledged them in "
                                                             "time)"),
    username: str | None = typer.Option(None, "--as",
                                        help="Only what this user may see (default: all, the operator's rights)"),
) -> None:
    """List signals, newest first, with the API's filters."""
    from pydantic import ValidationError

    from upswing.account.cli import active_user
    from upswing.core.db import transaction
    from upswing.signal.schemas import SignalFilters

    if assignee == "me" and username is None:
        fail("--assignee me needs --as USER (whose leads are 'mine')")
    try:
        filters = SignalFilters(
            type=signal_type, status=status, priority=priority, assignee=assignee, lead_external_id=lead,
            since=timestamp_option(since, "--since"), until=timestamp_option(until, "--until"),
            effective_from=_date_option(effective_from, "--effective-from"),
            effective_to=_date_option(effective_to, "--effective-to"),
            escalated=True if escalated else None, sort="score" if by_score else "detected_at", limit=_PAGE)
    except ValidationError as exc:
        fail_invalid(exc)
    with transaction() as session, user_errors():
        user = active_user(session, username) if username is not None else None
        signals = _all_signals(session, filters, user)
    if output_format is OutputFormat.JSONL:
        out = sys.stdout
        for signal in signals:
            out.write(to_contract(signal).model_dump_json() + "\n")
        return
    from rich.table import Table

    table = Table("id", "detected", "lead", "type", "title", "organization", "effective", "conf.", "score",
                  "priority", "status", title=f"{len(signals)} signal(s)")
    for short, signal in zip(short_ids([s.id for s in signals]), signals, strict=True):
        table.add_row(short, signal.detected_at.strftime("%Y-%m-%d %H:%M"),
                      f"{signal.lead_external_id} {signal.lead_name}", signal.type.value, signal.title or "",
                      signal.organization or "",
                      signal.effective_date.isoformat() if signal.effective_date else "",
                      f"{signal.confidence:.2f}", str(signal.score), signal.priority.value, signal.status.value)
    console.print(table)


_ID = typer.Argument(..., help="Signal id, or its first characters (the list's id column)")


@app.command("show")
def show(signal_id: str = _ID,
         username: str | None = typer.Option(None, "--as", help="As this user (only what they may see)")) -> None:
    """One signal as JSON: score breakdown, evidence, lifecycle."""
    import orjson

    from upswing.account.cli import active_user
    from upswing.core.db import transaction
    from upswing.signal import service

    with transaction() as session, user_errors():
        user = active_user(session, username) if username is not None else None
        signal = service.get_signal(session, resolve_signal_id(session, signal_id, user), user=user)
    console.print_json(orjson.dumps(signal.model_dump(mode="json")).decode())


@app.command("rescore")
def rescore() -> None:
    """Recompute every signal's score (recency decays; balances and outcomes change)."""
    from sqlalchemy import func, select

    from upswing.core.db import transaction
    from upswing.signal import service
    from upswing.signal.models import Signal

    with transaction() as session:
        leads = session.scalar(select(func.count(Signal.lead_id.distinct()))) or 0
        with progress_bar("Rescoring (leads)", leads) as advance:
            result = service.rescore(session, progress=advance)
    console.print(f"{result.signals} signal(s) rescored, {result.changed} changed")


_AS = typer.Option(..., "--as", help="Username the change is made as (audited; only signals they may see)")
_NOTE = typer.Option(None, help="Free-text note")


@app.command("ack")
def ack(signal_id: str = _ID, username: str = _AS) -> None:
    """Acknowledge a signal."""
    from upswing.account.cli import active_user
    from upswing.core.db import transaction
    from upswing.signal import service

    with transaction() as session, user_errors():
        user = active_user(session, username)
        signal = service.acknowledge(session, resolve_signal_id(session, signal_id, user), user=user)
    console.print(f"signal {signal.id}: {signal.status.value}")


@app.command("action")
def action(signal_id: str = _ID, kind: ActionChoice = typer.Argument(..., help="What was done"),
           username: str = _AS, note: str | None = _NOTE,
           target: str | None = typer.Option(None, help="Number or address used (default: the lead's primary one)"),
           autodialed: bool = typer.Option(False, "--autodialed", help="Autodialer or prerecorded voice (TCPA)"),
           override_reason: str | None = typer.Option(
               None, "--override-reason", help="Go ahead despite the contact guard's refusal under a documented "
                                               "exception (only roles and reasons the compliance settings allow)"),
           ) -> None:
    """Record an action taken on a signal. call, sms, email and letter are contacts: the contact guard decides
    (a refusal exits 1 with its reasons and the next allowed time) and the contact ledger records them."""
    from upswing.account.cli import active_user
    from upswing.casework import service as casework
    from upswing.core.db import transaction
    from upswing.signal.models import SignalAction

    with transaction() as session, user_errors():
        user = active_user(session, username)
        signal = casework.record_action(session, resolve_signal_id(session, signal_id, user), SignalAction(kind),
                                        user=user, note=note, target=target, autodialed=autodialed,
                                        override_reason=override_reason, source="cli")
    console.print(f"signal {signal.id}: {signal.status.value} ({kind})")


@app.command("outcome")
def outcome(signal_id: str = _ID, result: OutcomeChoice = typer.Argument(..., help="What came of the action"),
            username: str = _AS, note: str | None = _NOTE) -> None:
    """Record the outcome of an action (dispute sets the lead's dispute flag; after a call, an outcome that means
    the borrower was spoken to counts as a conversation for the seven-day rule)."""
    from upswing.account.cli import active_user
    from upswing.casework import service as casework
    from upswing.core.db import transaction
    from upswing.signal.models import SignalOutcome

    with transaction() as session, user_errors():
        user = active_user(session, username)
        signal = casework.record_outcome(session, resolve_signal_id(session, signal_id, user),
                                         SignalOutcome(result), user=user, note=note)
    console.print(f"signal {signal.id}: {signal.status.value} ({result})")


@app.command("dismiss")
def dismiss(signal_id: str = _ID, reason: DismissChoice = typer.Argument(..., help="Why"),
            username: str = _AS, note: str | None = _NOTE) -> None:
    """Dismiss a signal (wrong_person also tells the linker this subject is not the lead)."""
    from upswing.account.cli import active_user
    from upswing.core.db import transaction
    from upswing.signal import service
    from upswing.signal.models import DismissReason

    with transaction() as session, user_errors():
        user = active_user(session, username)
        signal = service.dismiss(session, resolve_signal_id(session, signal_id, user), DismissReason(reason),
                                 user=user, note=note)
    console.print(f"signal {signal.id}: {signal.status.value} ({reason})")


@app.command("low-confidence")
def low_confidence_list(
    label: SignalType | None = typer.Option(None, "--label", help="Only guesses of this event type"),
    limit: int = typer.Option(50, min=1, max=1000, help="At most this many texts"),
    username: str | None = typer.Option(None, "--as",
                                        help="Only what this user may see (default: all, the operator's rights)"),
) -> None:
    """Texts that look like an event but not surely enough to be a signal (below the type's confidence
    threshold), newest first. Label them with `upswing signals label-text`."""
    from rich.table import Table

    from upswing.account.cli import active_user
    from upswing.account.models import Role, User
    from upswing.core.db import transaction
    from upswing.signal import low_confidence

    with transaction() as session, user_errors():
        user = active_user(session, username) if username else User(username="operator", role=Role.ADMIN.value)
        page = low_confidence.list_low_confidence(session, user, label=label.value if label else None, limit=limit)
    table = Table("id", "lead", "guess", "confidence", "observed", "text")
    for item in page.items:
        table.add_row(str(item.observation_id)[:8], item.lead_name, item.best_label, f"{item.confidence:.2f}",
                      item.observed_at.strftime("%Y-%m-%d"), item.snippet[:80])
    console.print(table)
    if not page.items:
        console.print("no low-confidence texts")


@app.command("label-text")
def label_text(observation_id: str = typer.Argument(..., help="The text's id (or a unique prefix)"),
               label: str = typer.Argument(..., help="What it reports: an event type or none"),
               username: str = _AS) -> None:
    """Label a low-confidence text: it leaves the list, trains the model (`upswing model train
    --include-feedback`), and an event label makes its signal."""
    from sqlalchemy import select

    from upswing.account.cli import active_user
    from upswing.core.db import transaction
    from upswing.lead.access import visible_leads_clause
    from upswing.lead.models import Lead
    from upswing.observation.models import Observation
    from upswing.signal import low_confidence

    with transaction() as session, user_errors():
        user = active_user(session, username)
        query = (select(Observation.id).join(Lead, Lead.id == Observation.lead_id)
                 .where(Observation.guess_label.is_not(None), visible_leads_clause(user)))
        outcome = low_confidence.label_text(session, resolve_id(session, query, Observation.id, observation_id,
                                                                "low-confidence text"), label, user=user)
    made = f", {outcome.signals_created} signal made" if outcome.signals_created else ""
    console.print(f"text {outcome.observation_id}: {outcome.label} (guess was {outcome.previous_label}){made}")
