from __future__ import annotations

import uuid

import typer
from rich.table import Table

from upswing.core.cli_support import cli_actor, console, fail, user_errors
from upswing.core.db import transaction
from upswing.pipeline import review as match_review
from upswing.resolution import service
from upswing.resolution.schemas import MatchDecision
from upswing.settings import get_settings

app = typer.Typer(help="Links between profiles and leads: the review queue.", no_args_is_help=True)


def _match_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        fail(f"not a match id: {value!r}")


@app.command("review")
def review(limit: int = typer.Option(100, min=1, help="How many to show")) -> None:
    """List the matches waiting for a decision, best score first."""
    with transaction() as session:
        page = service.list_review(session, limit=limit)
    table = Table("match", "score", "profile", "lead", "agreed", "disagreed",
                  title=f"{page.total} match(es) to review")
    for item in page.items:
        profile = " ".join(p for p in (item.profile_name, f"({item.profile_location})" if item.profile_location
                                       else None, item.profile_url) if p)
        lead = f"{item.lead_external_id} {item.lead_name}, {item.lead_city or '?'} {item.lead_state or ''}".strip()
        table.add_row(str(item.id), f"{item.score:.2f}", profile, lead,
                      "; ".join(f"{k}: {v}" for k, v in item.agreed.items()),
                      "; ".join(f"{k}: {v}" for k, v in item.disagreed.items()))
    console.print(table)


def _print(decision: MatchDecision, verb: str) -> None:
    match = decision.match
    console.print(f"{verb}: {match.profile_name or match.subject_key} ↔ {match.lead_external_id} {match.lead_name}"
                  f" (score {match.score:.2f})")
    if decision.observations_linked:
        console.print(f"{decision.observations_linked} observation(s) linked; signals: "
                      f"{decision.signals_created} new, {decision.signals_merged} merged")


@app.command("approve")
def approve(match_id: str = typer.Argument(..., help="The match id (see `upswing matches review`)")) -> None:
    """Link the profile to the lead and detect its signals."""
    with user_errors(), transaction() as session:
        decision = match_review.approve(session, _match_id(match_id), actor=cli_actor(),
                                   lookback_days=get_settings().lookback_days)
    _print(decision, "Approved")


@app.command("reject")
def reject(match_id: str = typer.Argument(..., help="The match id (see `upswing matches review`)")) -> None:
    """Not this lead: close the review and never link this profile to this lead again."""
    with user_errors(), transaction() as session:
        decision = service.reject(session, _match_id(match_id), actor=cli_actor())
    _print(decision, "Rejected")
