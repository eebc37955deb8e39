"""``upswing discover …``: find prospect companies (with a progress bar), follow a run, review prospects."""

from __future__ import annotations

import uuid

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table
from sqlalchemy import select

from upswing.core.cli_support import cli_actor, console, err_console, fail, fail_invalid, resolve_id, user_errors
from upswing.core.db import session_factory, transaction
from upswing.discovery import service
from upswing.discovery.engine import DiscoveryEngine, RunProgress
from upswing.discovery.models import DiscoveryRun, Prospect, RunStatus
from upswing.discovery.schemas import DiscoverRequest, ProspectFilters, ReviewRequest, RunRead

app = typer.Typer(help="Discovery: prospect companies found by web search and intent, and their review.",
                  no_args_is_help=True)


@app.command("run")
def run(area: str = typer.Option(..., help='"City, ST" (e.g. "Austin, TX") or "lat,lng"'),
        radius_km: float = typer.Option(25.0, "--radius-km", help="Around the area's centre"),
        category: str = typer.Option("any", help="loan, consulting, growth, expansion, distress or any"),
        industry: str | None = typer.Option(None, help='e.g. "construction"'),
        company_size: str = typer.Option("any", "--company-size", help="1-10, 11-50, 51-200, 201-1000, 1000+, any"),
        max_companies: int = typer.Option(20, "--max-companies", help="Company sites to look at, at most"),
        wait: bool = typer.Option(True, "--wait/--no-wait", help="Run here with a progress bar (default), or only "
                                                                 "queue it for the worker")) -> None:
    """Search an area for companies whose pages show the category's intent; they become prospects to review."""
    from pydantic import ValidationError

    try:
        request = DiscoverRequest(area=area, radius_km=radius_km, category=category,
                                  industry=industry, company_size=company_size,
                                  max_companies=max_companies)
    except ValidationError as exc:
        fail_invalid(exc)
    with user_errors(), transaction() as session:
        run_id = service.start_run(session, request, actor=cli_actor()).id
    console.print(f"Discovery run {run_id} queued ({escape(request.area)}, {request.radius_km:g} km, "
                  f"{request.category})")
    if not wait:
        console.print(f"Follow it with `upswing discover status {run_id}`")
        return
    with Progress(TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[detail]}"), console=err_console) as bar:
        task = bar.add_task("Companies looked at", total=request.max_companies, detail="")

        def show(progress: RunProgress) -> None:
            bar.update(task, completed=progress.found,
                       detail=f"fetched {progress.fetched}, classified {progress.classified}, "
                              f"prospects {progress.created}")

        DiscoveryEngine(session_factory()).run(run_id, on_progress=show)
    _print_run(_read(run_id))


def _read(run_id: uuid.UUID) -> RunRead:
    with transaction() as session:
        return RunRead.model_validate(service.get_run(session, run_id))


def _print_run(read: RunRead) -> None:
    colour = {"done": "green", "stopped_budget": "yellow", "failed": "red"}.get(read.status, "white")
    console.print(f"Run {read.id}: [bold {colour}]{read.status}[/] — found {read.found}, fetched {read.fetched}, "
                  f"classified {read.classified}, prospects created {read.created}, skipped {read.skipped}")
    if read.budget_used:
        console.print("  budget used: " + ", ".join(f"{k} {v}" for k, v in sorted(read.budget_used.items())))
    if read.stop_reason:
        console.print(f"  {escape(read.stop_reason)}")
    for error in read.errors[-10:]:
        console.print(f"  [dim]{escape(error)}[/]")


@app.command("status")
def status(run_id: str = typer.Argument(..., help="The run's id (or its first characters)")) -> None:
    """A run's status, counts, budget used and errors."""
    with transaction() as session:
        found = resolve_id(session, select(DiscoveryRun.id), DiscoveryRun.id, run_id, "discovery run")
    read = _read(found)
    _print_run(read)
    if read.status in (RunStatus.QUEUED.value, RunStatus.RUNNING.value):
        raise typer.Exit(code=0)


@app.command("prospects")
def prospects(state: str = typer.Option("pending", help="pending, approved, rejected or all"),
              limit: int = typer.Option(50, min=1, max=500)) -> None:
    """Prospects by review state, with the intent their pages showed."""
    from pydantic import ValidationError

    try:
        filters = ProspectFilters(state=state, limit=limit)
    except ValidationError as exc:
        fail_invalid(exc)
    with transaction() as session:
        page = service.list_prospects(session, filters)
    table = Table("id", "company", "website", "intents", "signals", "review", title=f"{page.total} prospect(s)")
    for item in page.items:
        intents = "; ".join(f"{i.intent} {i.confidence:.2f}" for i in item.intents)
        table.add_row(str(item.lead_id), escape(item.name), escape(item.website), intents, str(item.signals),
                      item.review_state)
    console.print(table)


@app.command("review")
def review(prospect_id: str = typer.Argument(..., help="The prospect's lead id (or its first characters)"),
           decision: str = typer.Argument(..., help="approve or reject"),
           note: str | None = typer.Option(None, help="Why"),
           portfolio: str | None = typer.Option(None, help="Approve into this portfolio")) -> None:
    """Approve or reject a prospect."""
    if decision not in ("approve", "reject"):
        fail(f"decision must be approve or reject, not {decision!r}")
    with user_errors(), transaction() as session:
        lead_id = resolve_id(session, select(Prospect.lead_id), Prospect.lead_id, prospect_id, "prospect")
        read = service.review(session, lead_id, ReviewRequest(decision=decision, note=note,
                                                              portfolio=portfolio), actor=cli_actor())
    console.print(f"{escape(read.name)}: {read.review_state}")
