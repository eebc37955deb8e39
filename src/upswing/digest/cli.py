"""``upswing digest …``: preview, send, run the scheduler, history and preferences."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from upswing.account.cli import active_user
from upswing.core.cli_support import cli_actor, console, fail, fail_invalid, user_errors
from upswing.digest.mail_cli import app as suppressions_app

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

app = typer.Typer(help="Daily digests: preview, send, preferences.", no_args_is_help=True)
prefs_app = typer.Typer(help="Digest preferences: a user's own, or a team's defaults.", no_args_is_help=True)
app.add_typer(prefs_app, name="prefs")
app.add_typer(suppressions_app, name="suppressions")

_USER = typer.Option(..., "--user", help="Username whose digest this is")


def _json(data: Any) -> None:
    import orjson

    console.print_json(orjson.dumps(data, default=str).decode())


def _team_id(session: Session, name: str) -> Any:
    from sqlalchemy import select

    from upswing.account.models import Team

    team_id = session.scalar(select(Team.id).where(Team.name == name))
    if team_id is None:
        fail(f"no team named {name!r}")
    return team_id


@app.command("preview")
def preview(username: str = _USER,
            on: str | None = typer.Option(None, "--date", help="As of this local date's send time (YYYY-MM-DD)"),
            fmt: str = typer.Option("text", "--format", help="html or text"),
            output: Path | None = typer.Option(None, "--output", "-o", help="Write to this file instead")) -> None:
    """Print (or write) the user's digest as it would be sent; nothing is sent or recorded."""
    from upswing.core.db import transaction
    from upswing.digest import service

    if fmt not in ("html", "text"):
        fail(f"--format must be html or text, not {fmt!r}")
    try:
        day = date.fromisoformat(on) if on else None
    except ValueError:
        fail(f"--date is not a date (YYYY-MM-DD): {on!r}")
    with transaction(read=True) as session, user_errors():
        subject, body = service.preview(session, None, user_id=active_user(session, username).id, local_date=day,
                                        fmt=fmt)
    if output is not None:
        output.write_text(body, encoding="utf-8")
        console.print(f"{subject}\nwritten to {output}")
        return
    typer.echo(f"Subject: {subject}\n")
    typer.echo(body)


@app.command("send")
def send(username: str = _USER, force: bool = typer.Option(False, "--force", help="Send even if today's digest "
                                                           "was made already (and even when empty)"),
         wait: bool = typer.Option(True, "--wait/--no-wait", help="Send the e-mail now (default) or leave it "
                                                                   "to the worker")) -> None:
    """Make the user's digest for today now and send it."""
    from upswing.alert import sending
    from upswing.core.db import transaction
    from upswing.digest import service

    with transaction() as session, user_errors():
        digest = service.send_now(session, None, user_id=active_user(session, username).id, force=force)
        digest_id, status, subject = digest.id, digest.status, digest.subject
    if wait and digest.delivery_id is not None:
        sending.send_due()
    with transaction(read=True) as session:
        from upswing.digest.models import Digest

        shown = service.read(session, [session.get(Digest, digest_id)])[0]  # type: ignore[list-item]
    console.print(f"{subject}\ndigest {str(digest_id)[:8]}: {shown.status if wait else status}"
                  + (f" ({shown.error})" if shown.error else ""))
    if shown.status in ("failed", "suppressed"):
        raise typer.Exit(code=1)


@app.command("run")
def run() -> None:
    """Record every digest due now (what the scheduler does each minute); the sender sends them."""
    from upswing.digest import service

    report = service.run()
    console.print(f"queued {report.queued}, empty {report.empty}, not sent (suppressed) {report.suppressed}, "
                  f"made elsewhere {report.skipped}, failed {report.failed}")
    if report.failed:
        raise typer.Exit(code=1)


@app.command("list")
def list_digests(username: str | None = typer.Option(None, "--user", help="Only this user's"),
                 limit: int = typer.Option(20, min=1, max=500), as_json: bool = typer.Option(False, "--json")) -> None:
    """Digests made, newest first, with their e-mail's state."""
    from rich.table import Table

    from upswing.core.db import transaction
    from upswing.digest import service

    with transaction(read=True) as session, user_errors():
        user_id = active_user(session, username).id if username else None
        rows = service.list_digests(session, None, user_id=user_id, limit=limit)
    if as_json:
        _json([row.model_dump(mode="json") for row in rows])
        return
    table = Table("id", "date", "status", "subject", "error", title=f"{len(rows)} digest(s)")
    for row in rows:
        table.add_row(str(row.id)[:8], row.local_date.isoformat(), row.status, row.subject or "", row.error or "")
    console.print(table)


@prefs_app.command("show")
def prefs_show(username: str | None = typer.Option(None, "--user", help="A user's preferences in force"),
               team: str | None = typer.Option(None, "--team", help="…or a team's defaults")) -> None:
    """Preferences in force (and where each comes from), or a team's defaults."""
    from upswing.core.db import transaction
    from upswing.digest import preferences
    from upswing.settings import get_settings

    if (username is None) == (team is None):
        fail("give --user or --team")
    with transaction(read=True) as session, user_errors():
        if username:
            shown = preferences.read_user(session, active_user(session, username), get_settings())
        else:
            shown = preferences.read_team(session, _team_id(session, team or ""))
    _json(shown.model_dump(mode="json"))


def _list(value: str | None) -> list[str] | None:
    return None if value is None else [part.strip() for part in value.split(",") if part.strip()]


@prefs_app.command("set")
def prefs_set(username: str | None = typer.Option(None, "--user", help="Set a user's own preferences"),
              team: str | None = typer.Option(None, "--team", help="…or a team's defaults (admins)"),
              frequency: str | None = typer.Option(None, help="daily | weekdays | weekly | off"),
              send_time: str | None = typer.Option(None, "--time", help="Local send time, HH:MM"),
              weekly_day: str | None = typer.Option(None, "--weekly-day", help="mon…sun (weekly digests)"),
              types: str | None = typer.Option(None, "--types", help="Signal types, comma-separated"),
              min_priority: str | None = typer.Option(None, "--min-priority", help="urgent | high | medium | low"),
              portfolios: str | None = typer.Option(None, help="Portfolio names, comma-separated"),
              teams: str | None = typer.Option(None, "--teams", help="Team names, comma-separated"),
              not_contactable: bool | None = typer.Option(None, "--include-not-contactable/"
                                                          "--exclude-not-contactable",
                                                          help="List signals whose lead cannot be contacted today"),
              fmt: str | None = typer.Option(None, "--format", help="html | text"),
              send_empty: bool | None = typer.Option(None, "--send-empty/--skip-empty",
                                                     help="Send a digest even with nothing new"),
              clear: str | None = typer.Option(None, "--clear", help="Fields to inherit again, comma-separated"),
              ) -> None:
    """Set preferences (only the options given change)."""
    from pydantic import ValidationError

    from upswing.core.db import transaction
    from upswing.digest import preferences
    from upswing.digest.schemas import PreferencesUpdate
    from upswing.settings import get_settings

    if (username is None) == (team is None):
        fail("give --user or --team")
    given = {"frequency": frequency, "send_time": send_time, "weekly_day": weekly_day, "signal_types": _list(types),
             "min_priority": min_priority, "portfolios": _list(portfolios), "teams": _list(teams),
             "include_not_contactable": not_contactable, "format": fmt, "send_empty": send_empty}
    values: dict[str, Any] = {name: value for name, value in given.items() if value is not None}
    for name in _list(clear) or []:
        if name not in preferences.FIELDS:
            fail(f"--clear: no preference named {name!r} (one of {', '.join(preferences.FIELDS)})")
        values[name] = None
    if not values:
        fail("nothing to set")
    try:
        data = PreferencesUpdate.model_validate(values)
    except ValidationError as exc:
        fail_invalid(exc)
    with transaction() as session, user_errors():
        if username:
            user = active_user(session, username)
            preferences.update(session, data, actor=cli_actor(), user_id=user.id)
            shown = preferences.read_user(session, user, get_settings())
        else:
            team_id = _team_id(session, team or "")
            preferences.update(session, data, actor=cli_actor(), team_id=team_id)
            shown = preferences.read_team(session, team_id)
    _json(shown.model_dump(mode="json"))
