from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Any

import orjson
import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy import func, literal, select

from upswing.core.cli_support import cli_actor, console, fail, progress_bar, user_errors
from upswing.core.db import get_engine, read_only, transaction
from upswing.core.errors import UpswingError
from upswing.geo.distance import MAX_RADIUS_KM, within_clause
from upswing.geo.geocode import parse_lat_lng
from upswing.lead import service
from upswing.lead.importer import estimate_rows
from upswing.lead.models import Lead, LeadCrmId, Portfolio
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
    """Import leads; re-importing the same file changes nothing (upsert on external_id).

    The file is read and checked in a read-only transaction; the leads are written afterwards in a short one
    (on SQLite other writers wait only for that)."""
    file = file.absolute()
    try:
        total = estimate_rows(file)
        with progress_bar(f"Checking {file.name}", total) as advance:
            read = 0

            def checked(rows: int) -> None:
                nonlocal read
                read += rows
                advance(rows)

            with transaction(read_only(get_engine())) as reader:
                plan = service.plan_import(reader, file, encoding=encoding, portfolio_name=portfolio,
                                           dry_run=dry_run, skip_invalid=skip_invalid, progress=checked)
            if total is not None and read < total:
                advance(total - read)  # the estimate counted blank lines and line breaks inside values
        with plan:
            report = plan.report
            writes = report.created + report.updated
            if not dry_run and writes:
                with progress_bar(f"Writing {writes} leads", writes) as advance, transaction() as session:
                    service.apply_import(session, plan, actor=cli_actor(), progress=advance)
            elif not dry_run:
                with transaction() as session:
                    service.apply_import(session, plan, actor=cli_actor())
    except LeadImportFailed as exc:
        shown = exc.errors[:_SHOWN_ERRORS]
        more = exc.report.error_count > len(shown)
        fail(escape(f"{exc} — nothing was written{f'. The first {len(shown)}:' if more else ''}"), shown,
             show=len(shown))
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
        for error in report.errors[:_SHOWN_ERRORS]:
            console.print(f"  row {error.row}, field '{error.field}': {escape(error.message)}")
        if report.error_count > _SHOWN_ERRORS:
            per_field = ", ".join(f"{name} {count}" for name, count in report.errors_by_field.items())
            console.print(f"  … {report.error_count} error(s) in all: {escape(per_field)}")
        if report.rejects_file:
            console.print(f"Rejected rows saved to {escape(report.rejects_file)}", soft_wrap=True)


#: Row errors the command prints (the rejects file, or the report's counts per field, has the rest).
_SHOWN_ERRORS = 20


@app.command("list")
def list_leads(portfolio: str | None = typer.Option(None, help="Only this portfolio"),
               crm_id: str | None = typer.Option(None, "--crm-id", metavar="SYSTEM:ID",
                                                 help="The lead with this record id in an outside system "
                                                      "(hubspot:5101)"),
               near: str | None = typer.Option(None, metavar="LAT,LNG",
                                               help="Only leads within --radius-km of this point, nearest first"),
               radius_km: float | None = typer.Option(None, "--radius-km", min=0.001, max=MAX_RADIUS_KM,
                                                      help="Radius for --near, km"),
               limit: int = typer.Option(20, min=1, help="How many to show")) -> None:
    """Show leads, most delinquent first (with --near: nearest first)."""
    if (near is None) != (radius_km is None):
        raise typer.BadParameter("--near and --radius-km go together", param_hint="--near")
    with transaction() as session, user_errors():
        distance: Any = None
        if near is not None and radius_km is not None:
            within, distance = within_clause(Lead.latitude, Lead.longitude, *parse_lat_lng(near, "--near"),
                                             radius_km, session.get_bind().dialect.name)
        query = (select(Lead, Portfolio.name, distance if distance is not None else literal(None))
                 .join(Portfolio, Portfolio.id == Lead.portfolio_id).where(Lead.merged_into_id.is_(None)))
        if distance is not None:
            query = query.where(within)
        if portfolio:
            query = query.where(Portfolio.name == portfolio)
        if crm_id:
            system, _, record_id = crm_id.partition(":")
            if not record_id:
                raise typer.BadParameter("SYSTEM:ID, e.g. hubspot:5101", param_hint="--crm-id")
            query = query.where(Lead.id.in_(select(LeadCrmId.lead_id).where(LeadCrmId.system == system,
                                                                            LeadCrmId.crm_id == record_id)))
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        order = [distance, Lead.id] if distance is not None else [Lead.days_delinquent.desc().nulls_last()]
        rows = session.execute(query.order_by(*order).limit(limit)).all()
    table = Table("portfolio", "external id", "name", "city", "employer", "days late", "status",
                  *(["km"] if distance is not None else []), title=f"{total} lead(s)")
    for lead, portfolio_name, km in rows:
        table.add_row(portfolio_name, lead.external_id, lead.full_name,
                      f"{lead.city or ''}, {lead.state or ''}", lead.employer or "", str(lead.days_delinquent or ""),
                      lead.status, *([f"{km:.1f}"] if distance is not None else []))
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


@app.command("enrich")
def enrich(lead_id: str = typer.Argument(..., help="The lead's id (or its first characters)")) -> None:
    """Run the enabled enrichment sources for one lead now, and show what each found."""
    from upswing.core.cli_support import resolve_id, user_errors
    from upswing.discovery import service as discovery

    with user_errors(), transaction() as session:
        found = resolve_id(session, select(Lead.id), Lead.id, lead_id, "lead")
        found, enabled = discovery.enrichment_plan(session, found, user=None)
    with user_errors():
        report = discovery.enrich_lead(found, enabled, actor=cli_actor())
    for ran in report.sources:
        stopped = f", stopped: {ran['stopped']}" if ran["stopped"] else ""
        console.print(f"{ran['slug']}: {ran['targets']} target(s), {ran['items']} item(s), "
                      f"{ran['signals_created']} signal(s){stopped}")
        for error in ran["errors"][:5]:
            console.print(f"  {escape(error)}")
    for skipped in report.skipped:
        console.print(f"[dim]{skipped['source']}: not run ({escape(skipped['reason'])})[/]")
    console.print(f"{report.observations_created} observation(s), {report.signals_created} signal(s) created")
