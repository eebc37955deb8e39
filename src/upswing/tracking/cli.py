"""``upswing tracking …``: the lender's tracked sites, linked visitors' profiles, the retention purge."""

from __future__ import annotations

import typer
from rich.table import Table

from upswing.core.cli_support import cli_actor, console, fail, user_errors

app = typer.Typer(help="Consented first-party tracking: sites, profiles, retention purge.", no_args_is_help=True)
sites_app = typer.Typer(help="The lender's own sites that may send tracking calls.", no_args_is_help=True)
app.add_typer(sites_app, name="sites")


@sites_app.command("list")
def sites_list() -> None:
    """Sites with their public key and allowed origins."""
    from upswing.core.db import transaction
    from upswing.tracking import service

    with user_errors(), transaction() as session:
        sites = service.list_sites(session)
        rows = [(s.name, s.site_key, ", ".join(s.allowed_origins), "yes" if s.active else "no") for s in sites]
    table = Table("name", "site key", "allowed origins", "active", title=f"{len(rows)} site(s)")
    for row in rows:
        table.add_row(*row)
    console.print(table)


@sites_app.command("create")
def sites_create(name: str = typer.Argument(..., help="A name for the site"),
                 origin: list[str] = typer.Option(..., "--origin", help="An allowed origin (repeat for more)"),
                 portfolio: str | None = typer.Option(None, help="Logins match leads of this portfolio"),
                 base_url: str = typer.Option("", help="Upswing's public URL, for the script tag")) -> None:
    """Add a site: prints its key, its secret (shown once) and the script tag."""
    from pydantic import ValidationError

    from upswing.core.db import transaction
    from upswing.tracking import service
    from upswing.tracking.schemas import SiteCreate

    try:
        body = SiteCreate(name=name, allowed_origins=origin, portfolio=portfolio)
    except ValidationError as exc:
        fail(f"--origin: {exc.errors()[0]['msg']}")
    with user_errors(), transaction() as session:
        site, secret = service.create_site(session, body, actor=cli_actor())
        key = site.site_key
    console.print(f"site {name!r} created\nsite key: {key}\nsecret (shown once): {secret}\n"
                  f"script tag: {service.snippet_tag(key, base_url)}", soft_wrap=True)


@app.command("profiles")
def profiles(lead: str | None = typer.Option(None, "--lead", help="Only this lead (its external id)"),
             limit: int = typer.Option(50, min=1, max=500)) -> None:
    """Visitors linked to leads, most recently seen first."""
    from sqlalchemy import select

    from upswing.core.db import transaction
    from upswing.lead.models import Lead
    from upswing.tracking import service
    from upswing.tracking.schemas import ProfileFilters

    with user_errors(), transaction() as session:
        lead_id = None
        if lead is not None:
            lead_id = session.scalar(select(Lead.id).where(Lead.external_id == lead))
            if lead_id is None:
                fail(f"no lead {lead!r}")
        items = service.page_profiles(session, ProfileFilters(lead_id=lead_id, limit=limit), user=None)
    table = Table("lead", "site", "linked by", "first seen", "last seen", "pages", "actions",
                  title=f"{len(items)} profile(s)")
    for item in items:
        table.add_row(item.lead_external_id, item.site_name, item.link_method or "",
                      item.first_seen_at.strftime("%Y-%m-%d %H:%M"), item.last_seen_at.strftime("%Y-%m-%d %H:%M"),
                      str(item.page_views), str(item.actions))
    console.print(table)


@app.command("purge")
def purge(dry_run: bool = typer.Option(False, help="Count only, delete nothing")) -> None:
    """Apply the tracking retention now (events, visitors, daily counts)."""
    from upswing.core.db import transaction
    from upswing.tracking import service

    with user_errors(), transaction() as session:
        result = service.purge(session, dry_run=dry_run)
    verb = "would go" if dry_run else "purged"
    console.print(f"{result.events} event(s), {result.visitors} visitor(s), {result.daily_counts} daily count(s) "
                  f"{verb} (cutoff {result.cutoff:%Y-%m-%d})")
