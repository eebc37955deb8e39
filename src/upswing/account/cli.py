from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from upswing.account import clients, service
from upswing.account.models import Role, User
from upswing.account.schemas import CLIENT_SCOPES, ApiClientCreate, ApiClientUpdate, UserCreate, UserUpdate
from upswing.core.cli_support import cli_actor, console, fail, user_errors
from upswing.core.db import transaction
from upswing.settings import get_settings

app = typer.Typer(help="Users and teams.", no_args_is_help=True)


def active_user(session: Session, username: str) -> User:
    """The active user a command acts as (``--as``); the command ends with a clear error when there is none."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.is_active:
        fail(f"no active user {username!r}")
    return user


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


@app.command("password")
def password(username: str = typer.Argument(..., help="Login name"),
             new_password: str = typer.Option(..., "--password", prompt="New password", hide_input=True,
                                              confirmation_prompt=True, envvar="UPSWING_NEW_USER_PASSWORD",
                                              help="At least 8 characters")) -> None:
    """Reset a user's password: every session and token of the user ends."""
    with user_errors():
        try:
            data = UserUpdate(password=new_password)
        except ValueError as exc:
            fail(str(exc))
        with transaction() as session:
            user = service.get_user_by_username(session, username)
            service.update_user(session, user.id, data, actor=cli_actor())
    console.print(f"Password of [bold]{username}[/] reset; every session of the user is signed out")


@app.command("logout")
def logout(username: str = typer.Argument(..., help="Login name")) -> None:
    """Sign a user out everywhere: every session and token of the user ends."""
    with user_errors(), transaction() as session:
        user = service.get_user_by_username(session, username)
        revoked = service.sign_out_everywhere(session, user, actor=cli_actor())
    console.print(f"Signed [bold]{username}[/] out of {revoked} session(s); older tokens are refused")


@app.command("unlock")
def unlock(username: str | None = typer.Argument(None, help="Login name whose lockout to clear"),
           address: str | None = typer.Option(None, "--address", help="Client IP address whose lockout to clear")
           ) -> None:
    """Clear the failed sign-ins and lockout of an account, of a client address, or both."""
    if username is None and address is None:
        fail("give a login name, --address, or both")
    settings = get_settings()
    with user_errors(), transaction() as session:
        results = []
        if username is not None:
            user = service.get_user_by_username(session, username)
            results.append((username, service.unlock_user(session, settings, user, actor=cli_actor())))
        if address is not None:
            results.append((f"address {address}",
                            service.unlock_address(session, settings, address, actor=cli_actor())))
    for name, result in results:
        state = "was locked out" if result.was_locked else "was not locked out"
        console.print(f"{name}: {state}; {result.failures} failed sign-in(s) cleared")


api_clients_app = typer.Typer(help="Machine clients of the API (OAuth 2.0 client credentials).", no_args_is_help=True)


def _show_secret(client_id: object, secret: str | None) -> None:
    console.print(f"client_id     [bold]{client_id}[/]")
    if secret is not None:
        console.print(f"client_secret [bold]{secret}[/]")
        console.print("Store the secret now: it is not shown again (rotate it to get a new one).")


@api_clients_app.command("create")
def create_api_client(name: str = typer.Argument(..., help="A name for the client, e.g. the CRM"),
                      scopes: list[str] = typer.Option(..., "--scope", help="A scope it may get (repeat): "
                                                       + ", ".join(CLIENT_SCOPES)),
                      allow_ip: list[str] = typer.Option([], "--allow-ip", help="Address or CIDR it may call "
                                                         "from (repeat; default: any)"),
                      public_key: Path | None = typer.Option(None, "--public-key", exists=True, dir_okay=False,
                                                             help="PEM public key or JWKS file: the client signs "
                                                                  "assertions (private_key_jwt), no secret")) -> None:
    """Register a machine client; prints its id and (without --public-key) its secret, once."""
    with user_errors():
        try:
            data = ApiClientCreate(name=name, scopes=scopes, allowed_ips=allow_ip,
                                   public_key=public_key.read_text() if public_key else None)
        except ValueError as exc:
            fail(str(exc))
        with transaction() as session:
            client, secret = clients.create_client(session, get_settings(), data, actor=cli_actor())
            client_id = client.id
    _show_secret(client_id, secret)


@api_clients_app.command("list")
def list_api_clients() -> None:
    """List machine clients."""
    with transaction(read=True) as session:
        rows = [(str(c.id), c.name, c.auth_method, " ".join(c.scopes), " ".join(c.allowed_ips) or "any",
                 "yes" if c.is_active else "no") for c in clients.list_clients(session)]
    table = Table("client_id", "name", "auth", "scopes", "allowed from", "active")
    for row in rows:
        table.add_row(*row)
    console.print(table)


@api_clients_app.command("rotate")
def rotate_api_client(client: str = typer.Argument(..., help="Client id or name")) -> None:
    """A new secret for a client: the old one and its tokens stop working. Prints the secret, once."""
    with user_errors(), transaction() as session:
        found = clients.find_client(session, client)
        _, secret = clients.rotate_secret(session, get_settings(), found.id, actor=cli_actor())
        client_id = found.id
    _show_secret(client_id, secret)


@api_clients_app.command("disable")
def disable_api_client(client: str = typer.Argument(..., help="Client id or name")) -> None:
    """Disable a client: its tokens stop working and it gets no new ones."""
    with user_errors(), transaction() as session:
        found = clients.find_client(session, client)
        clients.update_client(session, found.id, ApiClientUpdate(is_active=False), actor=cli_actor())
        name = found.name
    console.print(f"Disabled API client [bold]{name}[/]")
