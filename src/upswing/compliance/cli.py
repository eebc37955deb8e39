"""``upswing compliance`` commands (thin: the service holds the logic).

``check`` prints one JSON object on stdout and nothing else (a stable contract); the other commands print a
short line for people. ``--at`` takes ISO 8601; a time without a zone is UTC. ``--lead`` is the lead's
external id (``--portfolio`` picks one when the id exists in several portfolios).
"""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path

import typer
from rich.table import Table

from upswing.compliance import service
from upswing.compliance.rules import Channel, Direction, Flag, TargetType
from upswing.compliance.schemas import BlockedWindowCreate, ContactCreate
from upswing.core.cli_support import cli_actor, console, fail, user_errors
from upswing.core.db import transaction

app = typer.Typer(help="Contact rules: check before contact, the ledger, flags, consent, suppression.",
                  no_args_is_help=True)

_LEAD = typer.Option(..., "--lead", help="The lead's external id")
_PORTFOLIO = typer.Option(None, "--portfolio", help="Portfolio name, when the external id is in several")


@app.command("check")
def check(
    lead: str = _LEAD,
    channel: Channel = typer.Option(..., "--channel", help="How the lead would be contacted"),
    at: str | None = typer.Option(None, "--at", help="ISO 8601 time of the contact (default now; no zone = UTC)"),
    autodialed: bool = typer.Option(False, "--autodialed", help="Autodialer or prerecorded voice"),
    target: str | None = typer.Option(None, "--target", help="Number or address (default: the lead's primary)"),
    portfolio: str | None = _PORTFOLIO,
) -> None:
    """May we contact this lead now? Prints {"allowed", "reasons", "next_allowed_at"} as one JSON object."""
    with transaction() as session, user_errors():
        found = service.find_lead(session, lead, portfolio=portfolio)
        decision = service.check_contact(session, found, channel, service.parse_time(at), autodialed=autodialed,
                                         target=target)
    sys.stdout.write(json.dumps(decision.as_contract()) + "\n")


@app.command("log-contact")
def log_contact(
    lead: str = _LEAD,
    channel: Channel = typer.Option(..., "--channel", help="How the lead was contacted"),
    at: str = typer.Option(..., "--at", help="ISO 8601 time it happened (no zone = UTC)"),
    conversation: bool = typer.Option(False, "--conversation", help="A telephone conversation took place"),
    autodialed: bool = typer.Option(False, "--autodialed", help="Autodialer or prerecorded voice"),
    target: str | None = typer.Option(None, "--target", help="Number or address used"),
    target_type: TargetType | None = typer.Option(None, "--target-type", help="Overrides the type on file"),
    inbound: bool = typer.Option(False, "--inbound", help="The consumer contacted us (not an attempt of ours)"),
    outcome: str | None = typer.Option(None, "--outcome", help="e.g. no_answer, voicemail, promise_to_pay"),
    note: str | None = typer.Option(None, "--note"),
    portfolio: str | None = _PORTFOLIO,
) -> None:
    """Record a contact attempt or conversation in the ledger."""
    with transaction() as session, user_errors():
        found = service.find_lead(session, lead, portfolio=portfolio)
        data = ContactCreate(lead_id=found.id, channel=channel, at=service.parse_time(at),
                             conversation=conversation, autodialed=autodialed, target=target,
                             target_type=target_type, direction=Direction.INBOUND if inbound else Direction.OUTBOUND,
                             outcome=outcome, note=note)
        result = service.log_contact(session, data, actor=cli_actor(), source="cli")
    console.print(f"logged {result.channel} with {lead} at {result.occurred_at.isoformat()} ({result.id})")
    if result.reasons_at_the_time:
        console.print(f"[yellow]note:[/] the guard would have refused it then: {', '.join(result.reasons_at_the_time)}")


@app.command("flag")
def flag(
    lead: str = _LEAD,
    name: Flag = typer.Option(..., "--set", help="The flag"),
    clear: bool = typer.Option(False, "--clear", help="Clear the flag instead of setting it"),
    note: str | None = typer.Option(None, "--note"),
    portfolio: str | None = _PORTFOLIO,
) -> None:
    """Set (or with --clear, clear) a hard-block flag: cease, attorney, bankruptcy, deceased, dispute."""
    with transaction() as session, user_errors():
        found = service.find_lead(session, lead, portfolio=portfolio)
        flags = service.set_flag(session, found, name, active=not clear, note=note, actor=cli_actor())
    console.print(f"{lead}: {name.value} {'cleared' if clear else 'set'}; active flags: "
                  f"{', '.join(flags.active) or 'none'}")


@app.command("consent")
def consent(
    lead: str = _LEAD,
    target: str = typer.Option(..., "--target", help="The phone number"),
    revoke: bool = typer.Option(False, "--revoke", help="The consumer revoked consent"),
    reassigned: bool = typer.Option(False, "--reassigned", help="The number now belongs to someone else"),
    source: str | None = typer.Option(None, "--source", help="Where consent was given (e.g. application form)"),
    portfolio: str | None = _PORTFOLIO,
) -> None:
    """Record TCPA prior express consent for a number (or its revocation, or that it was reassigned)."""
    if revoke and reassigned:
        fail("give --revoke or --reassigned, not both")
    action = "revoke" if revoke else "reassigned" if reassigned else "grant"
    with transaction() as session, user_errors():
        found = service.find_lead(session, lead, portfolio=portfolio)
        records = service.record_consent(session, found, target, action=action, source=source, actor=cli_actor())
    valid = any(r.valid for r in records)
    console.print(f"{lead}: consent {action} recorded for {records[-1].target_hint}; "
                  f"consent now {'valid' if valid else 'not valid'}")


@app.command("suppress")
def suppress(
    target: str = typer.Option(..., "--target", help="Phone number, e-mail or postal address"),
    reason: str | None = typer.Option(None, "--reason"),
) -> None:
    """Put a number or address on the suppression (opt-out) list: never contacted again."""
    with transaction() as session, user_errors():
        row = service.suppress(session, target, reason=reason, source="cli", actor=cli_actor())
    console.print(f"suppressed {row.target_kind} {row.target_hint} (id {row.id})")


@app.command("suppressions")
def suppressions(limit: int = typer.Option(100, min=1, max=10_000, help="At most this many")) -> None:
    """The suppression (opt-out) list: id, kind, masked target, reason, who and when."""
    with transaction(read=True) as session:
        rows, total = service.list_suppressions(session, limit=limit)
    for row in rows:
        console.print(f"{row.id}  {row.target_kind:<7} {row.target_hint:<24} {row.created_at:%Y-%m-%d}  "
                      f"{row.created_by}  {row.reason or ''}")
    console.print(f"{total} suppression(s)")


@app.command("unsuppress")
def unsuppress(
    suppression_id: str = typer.Argument(..., help="The suppression's id (see `upswing compliance suppressions`)"),
    reason: str = typer.Option(..., "--reason", help="Why it is removed (audited)"),
) -> None:
    """Take a number or address off the suppression list (audited with the reason)."""
    import uuid

    try:
        parsed = uuid.UUID(suppression_id)
    except ValueError:
        fail(f"not a suppression id: {suppression_id!r}")
    with transaction() as session, user_errors():
        service.remove_suppression(session, parsed, reason=reason, actor=cli_actor())
    console.print(f"suppression {parsed} removed")


@app.command("import-contacts")
def import_contacts(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV (or JSON/JSONL) of contacts"),
    portfolio: str | None = _PORTFOLIO,
) -> None:
    """Import ledger entries: all or nothing; errors name the row and field."""
    with transaction() as session, user_errors():
        report = service.import_contacts(session, file, portfolio=portfolio, actor=cli_actor())
    console.print(f"{report.created} contact(s) imported from {report.file}")


@app.command("contacts")
def contacts(lead: str = _LEAD, portfolio: str | None = _PORTFOLIO,
             limit: int = typer.Option(100, min=1, max=10_000)) -> None:
    """A lead's ledger, newest first."""
    with transaction() as session, user_errors():
        found = service.find_lead(session, lead, portfolio=portfolio)
        items, total = service.list_contacts(session, found.id, user=None, limit=limit)
    table = Table("time (UTC)", "channel", "dir.", "target", "type", "autodialed", "conversation", "outcome",
                  "source", title=f"{total} contact(s) with {lead}")
    for item in items:
        table.add_row(item.occurred_at.strftime("%Y-%m-%d %H:%M"), item.channel, item.direction,
                      item.target_hint or "", item.target_type or "", "yes" if item.autodialed else "",
                      "yes" if item.conversation else "", item.outcome or "", item.source)
    console.print(table)


@app.command("block-window")
def block_window(
    lead: str = _LEAD,
    start: str = typer.Option("00:00", "--from", help="HH:MM, the consumer's local time"),
    end: str = typer.Option("24:00", "--to", help="HH:MM (at or before --from wraps past midnight)"),
    days: str | None = typer.Option(None, "--days", help="Comma-separated mon..sun (default every day)"),
    channels: list[Channel] = typer.Option([], "--channel", help="Channels covered (repeatable; default all)"),
    note: str | None = typer.Option(None, "--note"),
    portfolio: str | None = _PORTFOLIO,
) -> None:
    """Record a time the consumer said is inconvenient ("no calls 12:00-13:00", "not on Sundays")."""
    with transaction() as session, user_errors():
        found = service.find_lead(session, lead, portfolio=portfolio)
        try:
            data = BlockedWindowCreate(start=start, end=end, channels=channels, note=note,
                                       days=[d for d in (days or "").split(",") if d.strip()])
        except ValueError as exc:
            fail(f"invalid blocked window: {exc}")
        window = service.add_blocked_window(session, found, data, actor=cli_actor())
    console.print(f"{lead}: blocked {window.start}-{window.end} {','.join(window.days) or 'every day'} "
                  f"({','.join(window.channels) or 'all timed channels'}) id {window.id}")


@app.command("unblock-window")
def unblock_window(window_id: uuid.UUID = typer.Argument(..., help="Blocked window id")) -> None:
    """Remove a consumer-designated blocked window."""
    with transaction() as session, user_errors():
        service.remove_blocked_window(session, window_id, actor=cli_actor())
    console.print(f"removed blocked window {window_id}")


@app.command("rules")
def show_rules() -> None:
    """The guard's rule settings (defaults plus the admin's changes) as JSON."""
    with transaction() as session:
        config = service.get_rules(session)
    console.print_json(config.model_dump_json())


@app.command("set-rule")
def set_rule(
    name: str = typer.Argument(..., help="Setting name, e.g. window_end"),
    value: str = typer.Argument(..., help='JSON value (e.g. "20:00", true, 5) or "default"'),
) -> None:
    """Change one rule setting (audited); "default" restores the default."""
    parsed: object
    if value == "default":
        parsed = None
    else:
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            parsed = value  # a bare string such as 20:00
    with transaction() as session, user_errors():
        config = service.update_rules(session, {name: parsed}, actor=cli_actor())
    console.print(f"{name} = {json.dumps(config.model_dump(mode='json')[name])}")
