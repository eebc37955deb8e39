"""``upswing sources …``: list, show, configure, check and run sources (thin: the service holds the logic)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

import typer
from rich.table import Table
from sqlalchemy import select

from upswing.core.cli_support import cli_actor, console, fail, progress_bar, user_errors
from upswing.core.db import transaction
from upswing.lead.models import Lead, Portfolio
from upswing.pipeline.monitoring import MonitoringEngine, targeting_for
from upswing.source import service
from upswing.source.schemas import SourceRead, SourceUpdate

app = typer.Typer(help="Sources: list, configure, check health, run a connector.", no_args_is_help=True)


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "never"


def _budgets(read: SourceRead) -> str:
    return ", ".join(f"{b.name} {b.used_today}/{b.limit if b.limit is not None else '∞'}" for b in read.budgets) or "-"


@app.command("list")
def list_sources() -> None:
    """Every source: state, budgets used today, last success and last error."""
    engine = MonitoringEngine()
    with transaction() as session:
        reads = [service.describe(session, s, due_leads=engine.due_count(session, s))
                 for s in service.ensure_sources(session)]
    table = Table("slug", "enabled", "state", "budget today", "due", "last success", "last error",
                  title=f"{len(reads)} source(s)")
    for read in reads:
        state = {"ok": "[green]ok[/]", "degraded": "[yellow]degraded[/]", "blocked": "[red]blocked[/]"}.get(
            read.state, read.state)
        table.add_row(read.slug, "yes" if read.enabled else "no", state, _budgets(read),
                      "-" if read.due_leads is None else str(read.due_leads), _when(read.last_success_at),
                      (read.last_error or "")[:80])
    console.print(table)


@app.command("show")
def show(slug: str = typer.Argument(..., help="Source slug, e.g. apify-linkedin")) -> None:
    """One source in full (settings without secrets, budgets, health)."""
    engine = MonitoringEngine()
    with user_errors(), transaction() as session:
        source = service.get_source(session, slug)
        read = service.describe(session, source, due_leads=engine.due_count(session, source))
    _print_source(read)


def _print_source(read: SourceRead) -> None:
    console.print(f"[bold]{read.slug}[/] ({read.title or read.connector}) — "
                  f"{'enabled' if read.enabled else 'disabled'}, state [bold]{read.state}[/]")
    console.print(f"  legal basis: {read.legal_basis or '(not set)'}")
    for key, value in sorted(read.config.items()):
        console.print(f"  {key} = {value}")
    if read.secrets_set:
        console.print(f"  secrets set: {', '.join(read.secrets_set)} (values never shown)")
    console.print(f"  budgets today: {_budgets(read)}")
    console.print(f"  watched leads: {read.watched_leads}" +
                  (f", due now: {read.due_leads}" if read.due_leads is not None else ""))
    console.print(f"  last run: {_when(read.last_run_at)}, last success: {_when(read.last_success_at)}, "
                  f"failures in a row: {read.consecutive_failures}")
    if read.last_error:
        console.print(f"  last error ({_when(read.last_error_at)}): {read.last_error}")


@app.command("configure")
def configure(
    slug: str = typer.Argument(..., help="Source slug"),
    set_: list[str] = typer.Option([], "--set", help="key=value (repeatable); list settings take a,b,c"),
    unset: list[str] = typer.Option([], "--unset", help="Return a setting to its default (repeatable)"),
    enable: bool | None = typer.Option(None, "--enable/--disable", help="Switch the source on or off"),
    budget: list[str] = typer.Option([], "--budget", help="Daily limit: N (the main budget) or name=N; "
                                                          "name=default returns it to the default"),
    legal_basis: str | None = typer.Option(None, "--legal-basis", help="Why this processing is lawful"),
) -> None:
    """Change a source's settings (secrets are stored encrypted and never shown), budgets or switch."""
    with user_errors(), transaction() as session:
        source = service.get_source(session, slug)
        config: dict[str, Any] = service.parse_assignments(source, set_)
        config.update({key: None for key in unset})
        change = SourceUpdate(enabled=enable, legal_basis=legal_basis, config=config or None,
                              budgets=_parse_budgets(source, budget) if budget else None)
        service.configure(session, slug, change, actor=cli_actor())
        read = service.describe(session, source)
    _print_source(read)


def _parse_budgets(source: Any, values: list[str]) -> dict[str, int | None]:
    main = targeting_for(source).budget or next(iter(service.effective_budgets(source)), None)
    budgets: dict[str, int | None] = {}
    for value in values:
        name, sep, number = value.rpartition("=")
        if not sep:
            if main is None:
                fail(f"source {source.slug!r} has no default budget: use --budget NAME=N")
            name = main
        if number.strip().lower() == "default":
            budgets[name] = None
            continue
        try:
            budgets[name] = int(number)
        except ValueError:
            fail(f"--budget expects N or NAME=N with a whole number, got {value!r}")
    return budgets


@app.command("check")
def check(slug: str = typer.Argument(..., help="Source slug")) -> None:
    """Ask the service whether it answers and accepts our credentials."""
    with user_errors(), transaction() as session:
        health = MonitoringEngine().check(session, slug, actor=cli_actor())
    colour = "green" if health.ok else "red"
    console.print(f"[{colour}]{'ok' if health.ok else 'not ok'}[/]: {health.detail} (state: {health.state})")
    if not health.ok:
        raise typer.Exit(code=1)


@app.command("run")
def run(
    slug: str = typer.Argument(..., help="Source slug"),
    lead: list[str] = typer.Option([], "--lead", help="Only this lead (external id), due or not; repeatable"),
    portfolio: str | None = typer.Option(None, help="Portfolio of --lead, when the id is used in several"),
    limit: int | None = typer.Option(None, min=1, help="At most this many leads (or companies)"),
) -> None:
    """Fetch what is due now (or the given leads) and store observations and signals."""
    with user_errors(), ExitStack() as stack:
        lead_ids = _lead_ids(lead, portfolio) if lead else None
        bar: list[Callable[[int], None]] = []

        def planned(total: int) -> None:  # the bar starts once the run knows how many targets are due
            bar.append(stack.enter_context(progress_bar(f"Running {slug}", total)))

        report = MonitoringEngine().run(slug, lead_ids=lead_ids, limit=limit, actor=cli_actor(), on_plan=planned,
                                        progress=lambda done: bar[0](done) if bar else None)
    console.print(
        f"{report.targets} target(s), {report.items} item(s): {report.observations_created} new observations, "
        f"{report.texts_stored} texts, {report.duplicates} already known, {report.linked} linked, "
        f"{report.unlinked} unlinked; signals: {report.signals_created} new, {report.signals_merged} merged"
        + (f"; domains filled: {report.domains_filled}" if report.domains_filled else "")
        + (f"; About pages filled: {report.abouts_filled}" if report.abouts_filled else ""))
    if report.budget_used:
        console.print("budget spent: " + ", ".join(f"{k} {v}" for k, v in report.budget_used.items()))
    for error in report.errors[:20]:
        console.print(f"  [yellow]{error}[/]")
    if report.stopped in ("blocked", "error"):
        fail(f"source {slug!r} stopped ({report.stopped}); state: {report.state}")
    if report.stopped == "budget":
        console.print(f"[yellow]stopped: the daily budget is spent[/]; state: {report.state}")


def _lead_ids(external_ids: list[str], portfolio: str | None) -> list[uuid.UUID]:
    found: list[uuid.UUID] = []
    with transaction() as session:
        for external_id in external_ids:
            query = select(Lead.id, Portfolio.name).join(Portfolio, Portfolio.id == Lead.portfolio_id).where(
                Lead.external_id == external_id)
            if portfolio is not None:
                query = query.where(Portfolio.name == portfolio)
            rows = session.execute(query).all()
            if not rows:
                where = f" in portfolio {portfolio!r}" if portfolio else ""
                fail(f"no lead with external id {external_id!r}{where}")
            if len(rows) > 1:
                fail(f"lead id {external_id!r} is in several portfolios ({', '.join(r.name for r in rows)}): "
                     "pass --portfolio")
            found.append(rows[0].id)
    return found
