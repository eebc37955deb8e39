"""``upswing`` commands of this domain (thin: the service holds the logic)."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

import orjson
import typer
from rich.table import Table

from upswing.core.cli_support import cli_actor, console, fail, timestamp_option, user_errors
from upswing.core.db import transaction, utcnow
from upswing.privacy import service
from upswing.privacy.models import DataSubjectRequest, RequestStatus, RequestType
from upswing.privacy.policy import Regime
from upswing.privacy.policy import current as current_policy
from upswing.privacy.schemas import RequestRead

app = typer.Typer(help="Privacy: configuration, data-subject requests, retention.", no_args_is_help=True)
dsar_app = typer.Typer(help="Data-subject requests: access/export, erasure, correction, opt-out.",
                       no_args_is_help=True)
app.add_typer(dsar_app, name="dsar")

_ID = typer.Argument(..., help="The request id (see `upswing privacy dsar list`)")


def _print_json(data: object) -> None:
    console.print_json(orjson.dumps(data).decode())


def _show(request: DataSubjectRequest) -> None:
    _print_json(RequestRead.of(request, utcnow()).model_dump(mode="json"))


@app.command("config")
def config() -> None:
    """The privacy mode and what it means (as JSON)."""
    from upswing.settings import get_settings
    from upswing.tracking.policy import policy_for as tracking_policy_for

    _print_json({**current_policy().describe(), "tracking": tracking_policy_for(get_settings()).describe()})


@app.command("purge")
def purge(dry_run: bool = typer.Option(False, "--dry-run", help="Only count what would be purged")) -> None:
    """Apply the retention periods of the privacy mode (also runs daily as the task privacy.purge)."""
    with transaction() as session:
        report = service.purge(session, dry_run=dry_run, actor=cli_actor())
    table = Table("table", "what", "cutoff", "rows", title=f"Retention purge ({report.mode}"
                  f"{', dry run: nothing changed' if dry_run else ''})")
    for item in report.items:
        table.add_row(item.table, item.what, item.cutoff.strftime("%Y-%m-%d %H:%M"), str(item.count))
    console.print(table)


@dsar_app.command("create")
def create(
    request_type: RequestType = typer.Option(..., "--type", help="access, erasure, correction or opt_out"),
    email: str | None = typer.Option(None, help="The person's e-mail address"),
    phone: str | None = typer.Option(None, help="The person's phone number"),
    linkedin: str | None = typer.Option(None, help="LinkedIn profile URL or public id"),
    first_name: str | None = typer.Option(None, "--first-name"),
    last_name: str | None = typer.Option(None, "--last-name"),
    birth_date: str | None = typer.Option(None, "--birth-date", help="YYYY-MM-DD"),
    external_id: str | None = typer.Option(None, "--external-id", help="The lead's account number"),
    lead_ids: list[str] = typer.Option([], "--lead-id", help="A lead id (repeatable)"),
    regime: Regime | None = typer.Option(None, help="gdpr or ccpa (default from the privacy mode)"),
    received_at: str | None = typer.Option(None, "--received-at", help="When it arrived, ISO 8601 (default: now)"),
) -> None:
    """Queue a request; prints it with its deadlines."""
    received = timestamp_option(received_at, "--received-at")
    born = None
    if birth_date is not None:
        try:
            born = date.fromisoformat(birth_date)
        except ValueError:
            fail(f"--birth-date is not a date (YYYY-MM-DD): {birth_date!r}")
    try:
        ids = [uuid.UUID(value) for value in lead_ids]
    except ValueError:
        fail("--lead-id must be a lead id (UUID)")
    subject = service.Subject(email=email, phone=phone, linkedin=linkedin, first_name=first_name,
                              last_name=last_name, birth_date=born, external_id=external_id, lead_ids=ids)
    with transaction() as session, user_errors():
        request = service.create_request(session, type_=request_type, subject=subject, regime=regime,
                                         received_at=received, actor=cli_actor())
    _show(request)


@dsar_app.command("list")
def list_requests(
    status: RequestStatus | None = typer.Option(None, help="Only this status"),
    request_type: RequestType | None = typer.Option(None, "--type", help="Only this type"),
    overdue: bool = typer.Option(False, "--overdue", help="Only open requests past a deadline"),
    as_json: bool = typer.Option(False, "--json", help="JSON instead of a table"),
) -> None:
    """The request queue, soonest deadline first."""
    now = utcnow()
    with transaction() as session:
        requests, total = service.list_requests(session, status=status, type_=request_type, overdue=overdue,
                                                now=now, limit=10_000)
    if as_json:
        _print_json([RequestRead.of(r, now).model_dump(mode="json") for r in requests])
        return
    table = Table("id", "type", "regime", "status", "received", "ack by", "due", "overdue",
                  title=f"{total} request(s)")
    for request in requests:
        table.add_row(str(request.id), request.type, request.regime, request.status,
                      request.received_at.strftime("%Y-%m-%d"),
                      request.acknowledge_by.strftime("%Y-%m-%d") if request.acknowledge_by else "",
                      request.due_at.strftime("%Y-%m-%d"), "yes" if service.is_overdue(request, now) else "")
    console.print(table)


@dsar_app.command("show")
def show(request_id: str = _ID) -> None:
    """One request as JSON."""
    with transaction() as session, user_errors():
        request = service.get_request(session, request_id)
    _show(request)


@dsar_app.command("acknowledge")
def acknowledge(request_id: str = _ID) -> None:
    """Record that the requester was told the request arrived (CCPA: within 10 business days)."""
    with transaction() as session, user_errors():
        request = service.acknowledge(session, request_id, actor=cli_actor())
    _show(request)


@dsar_app.command("start")
def start(request_id: str = _ID) -> None:
    """Mark a request in progress."""
    with transaction() as session, user_errors():
        request = service.start(session, request_id, actor=cli_actor())
    _show(request)


@dsar_app.command("extend")
def extend(request_id: str = _ID) -> None:
    """Extend the deadline once (CCPA +45 days, GDPR +2 months)."""
    with transaction() as session, user_errors():
        request = service.extend(session, request_id, actor=cli_actor())
    _show(request)


@dsar_app.command("reject")
def reject(request_id: str = _ID, reason: str = typer.Option(..., help="Why (no personal data)")) -> None:
    """Close a request without acting on it."""
    with transaction() as session, user_errors():
        request = service.reject(session, request_id, reason=reason, actor=cli_actor())
    _show(request)


@dsar_app.command("export")
def export(request_id: str = _ID,
           out: Path = typer.Option(..., help="A .zip file, or a directory (export.json and one CSV per table)"),
           ) -> None:
    """Write everything held about the person (raw observations included)."""
    with transaction() as session, user_errors():
        result = service.export_request(session, request_id, actor=cli_actor())
    if out.suffix.lower() == ".zip":
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(result.write_zip())
    else:
        result.write_directory(out)
    rows = sum(len(rows) for rows in result.tables.values())
    console.print(f"exported {rows} row(s) from {len(result.tables)} table(s) and {len(result.audit_entries)} "
                  f"audit entr(ies) to {out}")


@dsar_app.command("erase")
def erase(request_id: str = _ID,
          yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation")) -> None:
    """Delete everything about the person; only hashed tombstones remain. Cannot be undone."""
    if not yes:
        typer.confirm("Erase everything about this person? This cannot be undone", abort=True)
    with transaction() as session, user_errors():
        request = service.erase(session, request_id, actor=cli_actor())
    _show(request)


@dsar_app.command("correct")
def correct(request_id: str = _ID,
            changes: list[str] = typer.Option(..., "--set", help="field=value (repeatable), e.g. last_name=Smith"),
            ) -> None:
    """Correct the person's data on every lead that is them."""
    values: dict[str, str | None] = {}
    for change in changes:
        name, sep, value = change.partition("=")
        if not sep or not name.strip():
            fail(f"--set expects field=value, got {change!r}")
        values[name.strip()] = value
    with transaction() as session, user_errors():
        request = service.correct(session, request_id, values, actor=cli_actor())
    _show(request)


@dsar_app.command("opt-out")
def opt_out(request_id: str = _ID) -> None:
    """Suppress every e-mail address and phone number of the person on every channel."""
    with transaction() as session, user_errors():
        request = service.opt_out(session, request_id, actor=cli_actor())
    _show(request)


@dsar_app.command("complete")
def complete(request_id: str = _ID) -> None:
    """Close an access request once its export was sent."""
    with transaction() as session, user_errors():
        request = service.complete(session, request_id, actor=cli_actor())
    _show(request)
