"""``upswing geo …``: coordinates for stored leads (backfill) and the market analysis of an area (thin)."""

from __future__ import annotations

import typer
from rich.table import Table

from upswing.core.cli_support import console, fail, user_errors

app = typer.Typer(help="Geography: lead coordinates (offline geocoding) and market analysis of an area.",
                  no_args_is_help=True)


@app.command("backfill")
def backfill_command(
    everything: bool = typer.Option(False, "--all", help="Geocode every lead again (after a data update), not only "
                                                          "those without coordinates"),
) -> None:
    """Give coordinates (ZIP, city or state centroid) to the leads that have none, a batch at a time."""
    from upswing.core.db import transaction
    from upswing.lead import geocoding

    with user_errors(), transaction() as session:
        report = geocoding.backfill(session, everything=everything,
                                    progress=lambda n: console.print(f"… {n} lead(s)", end="\r"))
    console.print(f"{report.scanned} lead(s) looked at: {report.geocoded} geocoded, {report.not_found} with no "
                  "known location")


@app.command("market")
def market_command(
    location: str = typer.Argument(..., help="City, ST (\"Austin, TX\"), a ZIP code, a state code or lat,lng"),
    radius_km: float = typer.Option(50.0, "--radius-km", min=0.001, help="Radius around the place, km"),
    days: int = typer.Option(90, min=1, max=730, help="Window of signals and payments: the last N days"),
    team: str | None = typer.Option(None, help="Team name or all (as the API's team)"),
    username: str | None = typer.Option(None, "--as", help="As this user (their scope); default: the operator"),
    as_json: bool = typer.Option(False, "--json", help="The report as JSON (the API's answer)"),
) -> None:
    """Leads in the area, signals by type, signal rate, average balance, conversion, top employers and industries."""
    from pydantic import ValidationError

    from upswing.account.cli import active_user
    from upswing.account.models import Role, User
    from upswing.core.db import transaction
    from upswing.geo import market

    try:
        query = market.MarketQuery(location=location, radius_km=radius_km, days=days, team=team)
    except ValidationError as exc:
        fail(str(exc.errors()[0]["msg"]))
    with user_errors(), transaction(read=True) as session:
        user = active_user(session, username) if username else User(username="operator", role=Role.ADMIN.value)
        report = market.market_analysis(session, user, query)
    if as_json:
        console.print_json(report.model_dump_json(by_alias=True))
        return
    place = report.location
    console.print(f"[bold]{place.label}[/] ({place.latitude}, {place.longitude}) ± {report.radius_km:g} km, "
                  f"{report.from_} – {report.to}, {report.scope.label}")
    summary = Table("figure", "value")
    summary.add_row("leads", str(report.leads))
    summary.add_row("signals", str(report.signals))
    summary.add_row("signal rate (per lead)", f"{report.signal_rate:.4f}")
    summary.add_row("average balance", str(report.average_balance or "—"))
    summary.add_row("leads with a payment", f"{report.leads_with_payment} ({report.conversion_rate:.1%})")
    console.print(summary)
    for title, rows in (("signals by type", [(r.type, r.signals) for r in report.signals_by_type]),
                        ("top employers", [(r.name, r.leads) for r in report.top_employers]),
                        ("top industries", [(r.name, r.leads) for r in report.top_industries])):
        table = Table("name", "count", title=title)
        for name, count in rows:
            table.add_row(name, str(count))
        console.print(table)
    for note in report.notes:
        console.print(f"[dim]{note}[/]")
