"""``upswing service-matches …``: compute a lead's (or the book's) matches with the services catalog, list them,
change a match's status, recommend services, find similar leads. (``upswing matches`` is the profile↔lead review
queue.)"""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from upswing.core.cli_support import cli_actor, console, fail, user_errors

app = typer.Typer(help="Matchmaking: leads matched with the services catalog, recommendations, similar leads.",
                  no_args_is_help=True)


def _lead_id(session: Any, given: str) -> Any:
    from sqlalchemy import select

    from upswing.core.cli_support import resolve_id
    from upswing.lead.models import Lead

    found = list(session.scalars(select(Lead.id).where(Lead.external_id == given).limit(2)))
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        fail(f"several portfolios have lead {given!r}: give its id")
    return resolve_id(session, select(Lead.id), Lead.id, given, "lead")


def _print_matches(items: Any, title: str) -> None:
    table = Table("match", "service", "category", "score", "geo", "industry", "need", "profile", "behaviour",
                  "status", "reasons", title=title)
    for item in items:
        b = item.breakdown
        table.add_row(str(item.id or "")[:8], item.service_name, item.category, str(item.score),
                      *(f"{b.get(name, 0):.1f}" for name in ("geographic", "industry", "need", "profile",
                                                             "behaviour")),
                      item.status.value, "; ".join(item.reasons))
    console.print(table)


@app.command("compute")
def compute(lead: str | None = typer.Argument(None, help="The lead's external id or id (omit with --all)"),
            all_leads: bool = typer.Option(False, "--all", help="Every lead of the book, a page at a time")) -> None:
    """Score the active services for a lead (or the book) now and store the eligible matches."""
    from upswing.core.db import transaction
    from upswing.matching import service

    if (lead is None) == (not all_leads):
        fail("give a lead or --all")
    if all_leads:
        from upswing.matching.tasks import recompute_all

        console.print(f"{recompute_all()} lead(s) matched")
        return
    assert lead is not None
    with user_errors(), transaction() as session:
        items = service.compute_for_lead(session, _lead_id(session, lead), user=None)
    _print_matches(items, f"{len(items)} match(es) for {lead}")


@app.command("list")
def list_matches(lead: str = typer.Argument(..., help="The lead's external id or id")) -> None:
    """A lead's stored matches, ranked, with the points per factor and the reasons."""
    from upswing.core.db import transaction
    from upswing.matching import service

    with user_errors(), transaction() as session:
        items = service.lead_matches(session, _lead_id(session, lead), user=None)
    _print_matches(items, f"{len(items)} match(es) for {lead}")


@app.command("status")
def set_status(match_id: str = typer.Argument(..., help="The match's id (or its first characters)"),
               status: str = typer.Argument(..., help="proposed, accepted, rejected or converted")) -> None:
    """Accept, reject or convert a match (audited)."""
    from sqlalchemy import select

    from upswing.core.cli_support import resolve_id
    from upswing.core.db import transaction
    from upswing.matching import service
    from upswing.matching.models import MatchStatus, ServiceMatch

    try:
        wanted = MatchStatus(status)
    except ValueError:
        fail(f"status: {status!r} is not one of {', '.join(s.value for s in MatchStatus)}")
    with user_errors(), transaction() as session:
        found = resolve_id(session, select(ServiceMatch.id), ServiceMatch.id, match_id, "match")
        item = service.set_status(session, found, wanted, user=None, actor=cli_actor())
    console.print(f"{item.service_name}: {item.status.value}")


@app.command("recommend")
def recommend(lead: str = typer.Argument(..., help="The lead's external id or id"),
              limit: int = typer.Option(5, min=1, max=50)) -> None:
    """The top active services for a lead, with reasons (rejected ones left out)."""
    from upswing.core.db import transaction
    from upswing.matching import service

    with user_errors(), transaction() as session:
        items = service.recommendations(session, _lead_id(session, lead), user=None, limit=limit)
    _print_matches(items, f"{len(items)} recommendation(s) for {lead}")


@app.command("similar")
def similar(lead: str = typer.Argument(..., help="The lead's external id or id"),
            k: int = typer.Option(10, min=1, max=100, help="How many leads")) -> None:
    """The leads nearest to this one by the feature vector (docs/matching.md)."""
    from upswing.core.db import transaction
    from upswing.matching import service

    with user_errors(), transaction() as session:
        result = service.similar_leads(session, _lead_id(session, lead), user=None, k=k)
    table = Table("lead", "name", "state", "distance", title=f"{len(result.items)} similar lead(s) to {lead}")
    for item in result.items:
        table.add_row(item.external_id, item.name, item.state or "", f"{item.distance:.4f}")
    console.print(table)
