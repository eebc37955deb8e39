"""``upswing escalations …``: the escalations made, a run now, policies, holidays and team business calendars.

The service, the ORM models and SQLAlchemy are imported inside the commands, so ``--help`` needs none of them.
"""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING, Any, Literal

import typer

from upswing.core.cli_support import (
    cli_actor,
    console,
    fail,
    fail_invalid,
    resolve_id,
    short_ids,
    timestamp_option,
    user_errors,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

app = typer.Typer(help="Escalations: signals nobody acknowledged in time, policies, business hours, holidays.",
                  no_args_is_help=True)
policies_app = typer.Typer(help="Escalation policies: after how much business time, to whom.", no_args_is_help=True)
holidays_app = typer.Typer(help="Days off that business time skips (besides the country's public holidays).",
                           no_args_is_help=True)
calendar_app = typer.Typer(help="Business hours, days and holiday country, per team.", no_args_is_help=True)
app.add_typer(policies_app, name="policies")
app.add_typer(holidays_app, name="holidays")
app.add_typer(calendar_app, name="calendar")

# The values of Priority and EscalationTarget (checked by Typer without importing the models).
PriorityChoice = Literal["urgent", "high", "medium", "low"]
TargetChoice = Literal["manager", "admin"]
_AFTER = re.compile(r"^\s*(\d+)\s*(h|hours?|d|days?)\s*$", re.IGNORECASE)


def _json(data: Any) -> None:
    import orjson

    console.print_json(orjson.dumps(data, default=str).decode())


def parse_after(value: str) -> tuple[int, str]:
    """``2h`` → (2, business_hours); ``1d`` → (1, business_days)."""
    found = _AFTER.match(value)
    if found is None:
        fail(f"--after: {value!r} is not a business delay: give hours or days, e.g. 2h or 1d")
    unit = "business_hours" if found.group(2).lower().startswith("h") else "business_days"
    return int(found.group(1)), unit


def _team_id(session: Session, name: str) -> uuid.UUID:
    from sqlalchemy import select

    from upswing.account.models import Team

    team_id = session.scalar(select(Team.id).where(Team.name == name))
    if team_id is None:
        fail(f"--team: no team named {name!r}")
    return team_id


def _team_names(session: Session) -> dict[uuid.UUID, str]:
    from sqlalchemy import select

    from upswing.account.models import Team

    return {row.id: row.name for row in session.execute(select(Team.id, Team.name))}


# --------------------------------------------------------------------------------------------------
# Escalations


@app.command("list")
def list_escalations(
    username: str | None = typer.Option(None, "--as", help="What this user may see (default: all, as the operator)"),
    to: str | None = typer.Option(None, "--to", help="Only escalations to this user (a username, or me with --as)"),
    level: int | None = typer.Option(None, min=1, max=9, help="Only this level"),
    priority: PriorityChoice | None = typer.Option(None, help="Only this priority"),
    since: str | None = typer.Option(None, help="Only those escalated at or after this ISO 8601 time"),
    still_open: bool = typer.Option(False, "--open", help="Only those nobody has acknowledged yet"),
    limit: int = typer.Option(100, min=1, max=1000),
    as_json: bool = typer.Option(False, "--json", help="JSON instead of a table"),
) -> None:
    """Escalations, newest first."""
    from pydantic import ValidationError

    from upswing.account.cli import active_user
    from upswing.core.db import transaction
    from upswing.escalation import service
    from upswing.escalation.schemas import EscalationFilters

    try:
        filters = EscalationFilters(level=level, priority=priority, since=timestamp_option(since, "--since"),
                                    user=to, open=True if still_open else None, limit=limit)
    except ValidationError as exc:
        fail_invalid(exc)
    with transaction(read=True) as session, user_errors():
        user = active_user(session, username) if username is not None else None
        rows = service.list_escalations(session, user, filters)
    if as_json:
        _json([row.model_dump(mode="json") for row in rows])
        return
    from rich.table import Table

    table = Table("id", "escalated", "level", "priority", "to", "lead", "signal", "assignee", "due", "signal status",
                  title=f"{len(rows)} escalation(s)")
    for short, row in zip(short_ids([r.id for r in rows]), rows, strict=True):
        table.add_row(short, row.created_at.strftime("%Y-%m-%d %H:%M"), str(row.level), row.priority, row.username,
                      f"{row.lead_external_id} {row.lead_name}",
                      f"{row.signal_type}: {row.signal_title or row.organization or ''}".rstrip(": "),
                      row.assignee_username or "", row.due_at.strftime("%Y-%m-%d %H:%M"), row.signal_status)
    console.print(table)


@app.command("run")
def run_now() -> None:
    """Escalate now what is due (the workers do this every minute)."""
    from upswing.core.db import transaction, utcnow
    from upswing.escalation import service

    with transaction() as session:
        count = service.run(session, utcnow())
    console.print(f"{count} escalation(s) made (a signal counts once per level it reached)")


# --------------------------------------------------------------------------------------------------
# Policies


@policies_app.command("list")
def policies_list(as_json: bool = typer.Option(False, "--json", help="JSON instead of a table")) -> None:
    from rich.table import Table

    from upswing.core.db import transaction
    from upswing.escalation import service
    from upswing.escalation.schemas import PolicyRead

    with transaction(read=True) as session:
        policies = [PolicyRead.model_validate(p) for p in service.list_policies(session)]
    if as_json:
        _json([p.model_dump(mode="json") for p in policies])
        return
    table = Table("id", "priority", "level", "after", "to", "enabled", "updated", title="escalation policies")
    for policy in policies:
        unit = "business hour(s)" if policy.delay_unit == "business_hours" else "business day(s)"
        table.add_row(str(policy.id)[:8], policy.priority, str(policy.level), f"{policy.delay_value} {unit}",
                      policy.target.value, "yes" if policy.enabled else "no",
                      f"{policy.updated_at:%Y-%m-%d} by {policy.updated_by or '?'}")
    console.print(table)


@policies_app.command("set")
def policies_set(priority: PriorityChoice = typer.Argument(..., help="urgent | high | medium | low"),
                 level: int = typer.Argument(..., min=1, max=9, help="1: the first escalation, 2: the next…"),
                 after: str | None = typer.Option(None, "--after", help="Business delay after detection: 2h, 1d"),
                 to: TargetChoice | None = typer.Option(None, "--to", help="manager (the team's) or admin"),
                 enabled: bool | None = typer.Option(None, "--enable/--disable", help="Switch the policy on or off"),
                 ) -> None:
    """Create or change the policy of PRIORITY at LEVEL (a new one needs --after; --to defaults to manager)."""
    from pydantic import ValidationError

    from upswing.core.db import transaction
    from upswing.escalation import service
    from upswing.escalation.schemas import PolicyRead, PolicySet, PolicyUpdate

    delay = parse_after(after) if after is not None else None
    with transaction() as session, user_errors():
        existing = service.find_policy(session, priority, level)
        try:
            if existing is not None:
                changes: dict[str, Any] = {"target": to, "enabled": enabled}
                if delay is not None:
                    changes.update(delay_value=delay[0], delay_unit=delay[1])
                policy = service.update_policy(session, existing.id, PolicyUpdate.model_validate(changes),
                                               actor=cli_actor())
            else:
                if delay is None:
                    fail(f"no {priority} level {level} policy yet: give --after (e.g. 2h or 1d)")
                policy = service.put_policy(session, PolicySet.model_validate({
                    "priority": priority, "level": level, "delay_value": delay[0], "delay_unit": delay[1],
                    "target": to or "manager", "enabled": True if enabled is None else enabled}), actor=cli_actor())
        except ValidationError as exc:
            fail_invalid(exc)
        _json(PolicyRead.model_validate(policy).model_dump(mode="json"))


# --------------------------------------------------------------------------------------------------
# Holidays


@holidays_app.command("list")
def holidays_list(team: str | None = typer.Option(None, "--team", help="Also this team's own (by name)"),
                  year: int | None = typer.Option(None, min=1, max=9999, help="Only this year")) -> None:
    """Configured days off (every team's, and a team's own)."""
    from rich.table import Table

    from upswing.core.db import transaction
    from upswing.escalation import service

    with transaction(read=True) as session:
        team_id = _team_id(session, team) if team is not None else None
        rows = service.list_holidays(session, team_id=team_id, year=year)
        names = _team_names(session)
        table = Table("id", "day", "weekday", "name", "team", title=f"{len(rows)} holiday(s)")
        for short, row in zip(short_ids([r.id for r in rows]), rows, strict=True):
            table.add_row(short, row.day.isoformat(), f"{row.day:%a}", row.name,
                          names.get(row.team_id, "?") if row.team_id else "(every team)")
    console.print(table)


@holidays_app.command("add")
def holidays_add(day: str = typer.Argument(..., help="YYYY-MM-DD"), name: str = typer.Argument(...),
                 team: str | None = typer.Option(None, "--team", help="Only this team's (default: every team's)")
                 ) -> None:
    from pydantic import ValidationError

    from upswing.core.db import transaction
    from upswing.escalation import service
    from upswing.escalation.schemas import HolidayCreate, HolidayRead

    with transaction() as session, user_errors():
        try:
            data = HolidayCreate.model_validate({"day": day, "name": name,
                                                 "team_id": _team_id(session, team) if team else None})
        except ValidationError as exc:
            fail_invalid(exc)
        holiday = service.add_holiday(session, data, actor=cli_actor())
        _json(HolidayRead.model_validate(holiday).model_dump(mode="json"))


@holidays_app.command("remove")
def holidays_remove(holiday_id: str = typer.Argument(..., help="Holiday id or its first characters")) -> None:
    from sqlalchemy import select

    from upswing.core.db import transaction
    from upswing.escalation import service
    from upswing.escalation.models import Holiday

    with transaction() as session, user_errors():
        found = resolve_id(session, select(Holiday.id), Holiday.id, holiday_id, "holiday")
        service.delete_holiday(session, found, actor=cli_actor())
    console.print("removed")


# --------------------------------------------------------------------------------------------------
# Business calendars


@calendar_app.command("show")
def calendar_show(team: str | None = typer.Option(None, "--team", help="This team's (default: the default one)"),
                  ) -> None:
    """A team's business calendar (its own or the default), with the days off of the next twelve months."""
    from upswing.core.db import transaction
    from upswing.escalation import service

    with transaction(read=True) as session, user_errors():
        team_id = _team_id(session, team) if team is not None else None
        calendar = service.get_calendar(session, team_id, user=None)
    _json(calendar.model_dump(mode="json"))


@calendar_app.command("set")
def calendar_set(team: str = typer.Option(..., "--team", help="Team name"),
                 timezone: str | None = typer.Option(None, "--timezone", help="IANA zone, e.g. America/Chicago"),
                 hours: str | None = typer.Option(None, "--hours", help="Business hours, e.g. 09:00-17:00"),
                 days: str | None = typer.Option(None, "--days", help="Business days, e.g. mon-fri or mon,tue,thu"),
                 country: str | None = typer.Option(None, "--country",
                                                    help="Public holidays of this country (ISO code); none: off"),
                 ) -> None:
    """Give a team its own business hours; options left out keep the team's current (or default) values."""
    from pydantic import ValidationError

    from upswing.core.db import transaction
    from upswing.escalation import service
    from upswing.escalation.schemas import CalendarSet

    with transaction() as session, user_errors():
        team_id = _team_id(session, team)
        current = service.get_calendar(session, team_id, user=None)
        start, end = current.start, current.end
        if hours is not None:
            start, _, end = hours.partition("-")
            if not end:
                fail(f"--hours: {hours!r} is not a range such as 09:00-17:00")
        try:
            data = CalendarSet.model_validate({
                "timezone": timezone or current.timezone, "start": start.strip(), "end": end.strip(),
                "weekdays": days if days is not None else current.weekdays,
                "holiday_country": (None if country.lower() == "none" else country) if country is not None
                else current.holiday_country})
        except ValidationError as exc:
            fail_invalid(exc)
        calendar = service.set_calendar(session, team_id, data, actor=cli_actor())
    _json(calendar.model_dump(mode="json"))
