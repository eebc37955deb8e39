from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path

import orjson
import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy import func, select

from upswing.core.cli_support import cli_actor, console, fail, progress_bar
from upswing.core.db import transaction
from upswing.core.errors import UpswingError
from upswing.lead import service
from upswing.lead.importer import count_rows
from upswing.lead.models import Lead, Portfolio
from upswing.lead.service import LeadImportFailed

app = typer.Typer(help="Leads (borrowers) and their import.", no_args_is_help=True)


@app.command("import")
def import_leads(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True,
                                help="CSV, JSON, JSONL or XLSX (first sheet) file"),
    portfolio: str = typer.Option(service.DEFAULT_PORTFOLIO, help="Portfolio (book of leads) to import into"),
    dry_run: bool = typer.Option(False, help="Validate and count, write nothing"),
    skip_invalid: bool = typer.Option(False, help="Write the valid rows; save the rejected ones to "
                                                  "NAME.rejects.csv beside FILE (leads.csv → leads.rejects.csv)"),
    encoding: str | None = typer.Option(None, help="Text encoding of a CSV/JSON file, e.g. utf-8, cp1252, "
                                                   "latin-1 (default: detected — UTF-8, else Windows-1252)"),
) -> None:
    """Import leads; re-importing the same file changes nothing (upsert on external_id)."""
    file = file.absolute()
    try:
        total = count_rows(file, encoding=encoding)
        with transaction() as session, progress_bar(f"Importing {file.name}", total) as advance:
            report = service.import_leads(session, file, encoding=encoding, portfolio_name=portfolio,
                                          dry_run=dry_run, skip_invalid=skip_invalid, actor=cli_actor(),
                                          progress=advance)
    except LeadImportFailed as exc:
        fail(f"{exc} — nothing was written", [e for e in exc.errors])
    except UpswingError as exc:
        fail(escape(str(exc)))
    if report.encoding and not report.encoding.startswith("utf-8"):
        console.print(f"Read {escape(report.file or file.name)} as {report.encoding} text", soft_wrap=True)
    prefix = "Dry run (nothing written): " if report.dry_run else ""
    console.print(f"{prefix}{report.total} rows into portfolio '{escape(report.portfolio)}': {report.created} created, "
                  f"{report.updated} updated, {report.unchanged} unchanged, {report.rejected} rejected")
    for warning in report.warnings:
        console.print(f"[yellow]warning:[/] {escape(warning)}")
    if report.rejected:
        for error in report.errors[:20]:
            console.print(f"  row {error.row}, field '{error.field}': {escape(error.message)}")
        if report.rejects_file:
            console.print(f"Rejected rows saved to {escape(report.rejects_file)}", soft_wrap=True)


@app.command("list")
def list_leads(portfolio: str | None = typer.Option(None, help="Only this portfolio"),
               limit: int = typer.Option(20, min=1, help="How many to show")) -> None:
    """Show leads, most delinquent first."""
    with transaction() as session:
        query = (select(Lead, Portfolio.name).join(Portfolio, Portfolio.id == Lead.portfolio_id)
                 .where(Lead.merged_into_id.is_(None)))
        if portfolio:
            query = query.where(Portfolio.name == portfolio)
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        rows = session.execute(query.order_by(Lead.days_delinquent.desc().nulls_last()).limit(limit)).all()
    table = Table("portfolio", "external id", "name", "city", "employer", "days late", "status",
                  title=f"{total} lead(s)")
    for lead, portfolio_name in rows:
        table.add_row(portfolio_name, lead.external_id, lead.full_name,
                      f"{lead.city or ''}, {lead.state or ''}", lead.employer or "", str(lead.days_delinquent or ""),
                      lead.status)
    console.print(table)


class OutputFormat(StrEnum):
    TABLE = "table"
    JSONL = "jsonl"


@app.command("dedupe")
def dedupe(
    portfolio: str | None = typer.Option(None, help="Only this portfolio (default: each portfolio on its own)"),
    threshold: float = typer.Option(0.8, min=0.0, max=1.0, help="Lowest match probability to propose"),
    apply: bool = typer.Option(False, "--apply", help="Merge every proposed pair now (undoable)"),
    output_format: OutputFormat = typer.Option(OutputFormat.TABLE, "--format", help="table for people, or jsonl"),
) -> None:
    """Find leads that are the same person (across imports) and propose merges with scores and reasons."""
    from upswing.dedupe import service as dedupe_service

    try:
        with transaction() as session:
            duplicates = dedupe_service.propose_merges(session, portfolio=portfolio, threshold=threshold,
                                                       actor=cli_actor())
            merges = dedupe_service.apply_duplicates(session, duplicates, actor=cli_actor()) if apply else []
    except UpswingError as exc:
        fail(str(exc))
    applied = {m.id for m in merges}
    if output_format is OutputFormat.JSONL:
        for duplicate in duplicates:
            line = duplicate.model_dump(mode="json")
            line["status"] = "applied" if duplicate.merge_id in applied else "proposed"
            sys.stdout.write(orjson.dumps(line).decode() + "\n")
        return
    table = Table("score", "portfolio", "keep", "merge", "agreed", "disagreed", "merge id",
                  title=f"{len(duplicates)} probable duplicate(s) at probability >= {threshold:g}")
    for duplicate in duplicates:
        table.add_row(f"{duplicate.score:.3f}", duplicate.portfolio,
                      f"{duplicate.survivor_external_id} {duplicate.survivor_name}",
                      f"{duplicate.merged_external_id} {duplicate.merged_name}",
                      "; ".join(f"{k} {v}" for k, v in duplicate.agreed.items()),
                      "; ".join(f"{k} {v}" for k, v in duplicate.disagreed.items()),
                      str(duplicate.merge_id or ""))
    console.print(table)
    if apply:
        console.print(f"Applied {len(merges)} merge(s); undo one with POST /api/v1/leads/merges/{{id}}/undo")
    elif duplicates:
        console.print("Proposed; merge them with --apply or POST /api/v1/leads/merges")
