from __future__ import annotations

import typer
from rich.table import Table

from upswing.account import service
from upswing.account.models import Role
from upswing.account.schemas import UserCreate
from upswing.core.cli_support import cli_actor, console, fail, user_errors
from upswing.core.db import transaction

app = typer.Typer(help="Users and teams.", no_args_is_help=True)


@app.command("create")
def create(username: str = typer.Argument(..., help="Login name"),
           role: Role = typer.Option(..., "--role", help="admin | manager | agent | viewer"),
           password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True,
                                        envvar="UPSWING_NEW_USER_PASSWORD", help="At least 8 characters"),
           team: str | None = typer.Option(None, help="Team name (created if new)"),
           email: str | None = typer.Option(None, help="E-mail address"),
           full_name: str | None = typer.Option(None, "--name", help="Full name")) -> None:
    """Create a user."""
    with user_errors():
        try:
            data = UserCreate(username=username, password=password, role=role, team=team, email=email,
                              full_name=full_name)
        except ValueError as exc:
            fail(str(exc))
        with transaction() as session:
            user = service.create_user(session, data, actor=cli_actor())
    console.print(f"Created {user.role} [bold]{user.username}[/]" + (f" in team {team}" if team else ""))


@app.command("list")
def list_users() -> None:
    """List users."""
    with transaction() as session:
        users = service.list_users(session)
        teams = {t.id: t.name for t in service.list_teams(session)}
    table = Table("username", "role", "team", "active")
    for user in users:
        table.add_row(user.username, user.role, teams.get(user.team_id, "") if user.team_id else "",
                      "yes" if user.is_active else "no")
    console.print(table)
