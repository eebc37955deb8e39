"""``upswing outcomes …``: import the lender's outcomes file, list outcomes, a lead's dollars recovered."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from upswing.core.cli_support import cli_actor, console, fail, user_errors

app = typer.Typer(help="Outcomes: payments, promises, arrangements, disputes, complaints, closures.",
                  no_args_is_help=True)


@app.command("import")
def import_outcomes(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV, XLSX or JSON outcomes file"),
    portfolio: str | None = typer.Option(None, help="The leads' portfolio (when lead ids repeat across them)"),
    dry_run: bool = typer.Option(False, help="Check and count, write nothing"),
) -> None:
    """Import outcomes keyed by each row's external_id (a re-import changes nothing; any bad row: nothing
    written, each row and field named)."""
    from upswing.core.db import transaction
    from upswing.outcome import service

    with user_errors(), transaction() as session:
        try:
            report = service.import_outcomes(session, file, actor=cli_actor(), portfolio=portfolio,
                                             dry_run=dry_run)
        except service.OutcomeImportFailed as exc:
            fail(str(exc), exc.errors)
    suffix = " (dry run: nothing written)" if dry_run else ""
    console.print(f"{report.total} row(s): {report.created} created, {report.updated} updated, "
                  f"{report.unchanged} unchanged{suffix}")


@app.command("list")
def list_outcomes(lead: str | None = typer.Option(None, help="Only this lead (its external id)"),
                  kind: str | None = typer.Option(None, help="payment, promise, arrangement, dispute, complaint, "
                                                             "closure"),
                  limit: int = typer.Option(20, min=1, max=1000)) -> None:
    """Outcomes, newest first."""
    from sqlalchemy import select

    from upswing.core.db import transaction
    from upswing.lead.models import Lead
    from upswing.outcome import service
    from upswing.outcome.schemas import OutcomeFilters

    with user_errors(), transaction() as session:
        lead_id = None
        if lead is not None:
            lead_id = session.scalar(select(Lead.id).where(Lead.external_id == lead))
            if lead_id is None:
                fail(f"no lead {lead!r}")
        try:
            filters = OutcomeFilters.model_validate({"lead_id": lead_id, "kind": kind, "limit": limit})
        except ValueError as exc:
            fail(f"--kind: {kind!r} is not an outcome kind" if kind else str(exc))
        page = service.page_outcomes(session, filters, user=None)
    table = Table("occurred", "lead", "kind", "amount", "due", "promise", "source", "external id",
                  title=f"{len(page.items)} outcome(s)")
    for item in page.items:
        table.add_row(str(item.occurred_on), item.lead_external_id, item.kind.value,
                      f"{item.amount:,.2f}" if item.amount is not None else "", str(item.due_on or ""),
                      item.promise_status.value if item.promise_status else "", item.source, item.external_id or "")
    console.print(table)


@app.command("summary")
def summary(lead: str = typer.Argument(..., help="The lead's external id")) -> None:
    """Dollars recovered, first payment and promises of one lead."""
    from sqlalchemy import select

    from upswing.core.db import transaction
    from upswing.lead.models import Lead
    from upswing.outcome import service

    with user_errors(), transaction() as session:
        found = session.scalar(select(Lead).where(Lead.external_id == lead))
        if found is None:
            fail(f"no lead {lead!r}")
        result = service.summaries(session, [found])[found.id]
    days = "-" if result.days_to_first_payment is None else str(result.days_to_first_payment)
    console.print(f"{lead}: ${result.recovered:,.2f} recovered in {result.payments} payment(s); first payment "
                  f"{result.first_payment_on or '-'} ({days} days after placement); promises "
                  f"{result.promises_kept} kept, {result.promises_broken} broken, {result.promises_pending} pending")
