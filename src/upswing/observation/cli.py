from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from upswing.core.cli_support import cli_actor, console, fail, progress_bar, timestamp_option, user_errors
from upswing.core.db import transaction
from upswing.observation import service, text
from upswing.observation.apify import ActorShape
from upswing.observation.reader import open_items
from upswing.pipeline import texts
from upswing.pipeline.profiles import ProfileIngest
from upswing.settings import get_settings
from upswing.source.service import file_source

ingest_app = typer.Typer(help="Ingest saved source exports.", no_args_is_help=True)
observations_app = typer.Typer(help="Stored observations.", no_args_is_help=True)

ACTOR_CHOICES = ["auto", *[shape.value for shape in ActorShape]]


@ingest_app.command("apify")
def ingest_apify(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True,
                                help="Apify dataset export: JSON array or JSONL"),
    actor: str = typer.Option("auto", help="Item shape: " + " | ".join(ACTOR_CHOICES)),
    observed_at: str | None = typer.Option(None, help="ISO 8601; default: the items' own timestamp, else now"),
    skip_invalid: bool = typer.Option(False, help="Skip unreadable items instead of refusing the file"),
) -> None:
    """Store LinkedIn profile items, link them to leads and detect signals."""
    if actor not in ACTOR_CHOICES:
        fail(f"--actor must be one of {', '.join(ACTOR_CHOICES)} (got {actor!r})")
    when = timestamp_option(observed_at, "--observed-at")
    shape = None if actor == "auto" else ActorShape(actor)
    settings = get_settings()
    with user_errors():
        total, items = open_items(file)
        with transaction() as session, progress_bar(f"Ingesting {file.name}", total) as advance:
            run = ProfileIngest(session, file_source(session), shape=shape, observed_at=when,
                                        lookback_days=settings.lookback_days, skip_invalid=skip_invalid,
                                        progress=advance)
            report = run.ingest(items)
            run.record_audit(actor=cli_actor(), file=file.name)
    console.print(
        f"{report.items} items: {report.observations_created} new observations, "
        f"{report.duplicates} already known, {report.linked} linked, {report.unlinked} unlinked "
        f"({report.review} to review: `upswing matches review`), "
        f"{report.rejected} rejected; signals: {report.signals_created} new, {report.signals_merged} merged"
    )
    for error in report.errors[:20]:
        console.print(f"  skipped item {error['row']}: {error['message']}")


@observations_app.command("unlinked")
def unlinked(limit: int = typer.Option(100, min=1, help="How many to show")) -> None:
    """List observations that matched no lead."""
    with transaction() as session:
        rows, total = service.list_unlinked(session, limit=limit)
    table = Table("observed at", "subject", "name", "headline", "url", title=f"{total} unlinked observation(s)")
    for row in rows:
        data = row.normalized
        name = data.get("full_name") or " ".join(p for p in (data.get("first_name"), data.get("last_name")) if p)
        table.add_row(row.observed_at.strftime("%Y-%m-%d"), row.subject_key or "", name,
                      (data.get("headline") or "")[:50], row.url or "")
    console.print(table)


@ingest_app.command("texts")
def ingest_texts(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True,
                                help='JSONL or a JSON array of {"text": …, "url", "title", "published_at", "lead_id", '
                                     '"author_public_id", "about": person|company, "company_name", "company_domain"}'),
    source: str = typer.Option(text.TEXT_FILE_SOURCE, "--source", help="Slug of the source the texts came from"),
    observed_at: str | None = typer.Option(None, help="ISO 8601; default now"),
) -> None:
    """Store texts (posts, news, press releases), link them to leads, classify them and make signals."""
    when = timestamp_option(observed_at, "--observed-at")
    with user_errors():
        total, numbered = open_items(file)
        items = text.parse_text_items(numbered)
        with transaction() as session, progress_bar(f"Ingesting {file.name}", total) as advance:
            report = text.TextIngestReport()
            for start in range(0, len(items), TEXT_CHUNK):
                part = texts.ingest_texts(session, items[start:start + TEXT_CHUNK], source_slug=source,
                                         observed_at=when)
                text.merge_reports(report, part)
                advance(len(items[start:start + TEXT_CHUNK]))
            texts.record_audit(session, report, actor=cli_actor(), source_slug=source, file=file.name)
    console.print(
        f"{len(items)} texts: {report.stored} new observations, {report.duplicates} already known, "
        f"{report.linked} linked, {report.unlinked} unlinked; {report.classified} classified, "
        f"{report.detected} with a signal; signals: {report.signals_created} new, {report.signals_updated} merged"
    )


TEXT_CHUNK = 1000
