"""``upswing digest suppressions …``: addresses e-mail no longer goes to (a hard bounce, a spam complaint, an
unsubscribe or a block reported by the provider)."""

from __future__ import annotations

import typer

from upswing.core.cli_support import cli_actor, console, user_errors

app = typer.Typer(help="Addresses mail no longer goes to (bounces, complaints): list, lift.", no_args_is_help=True)


@app.command("list")
def list_suppressions(reason: str | None = typer.Option(None, help="hard_bounce, spam, unsubscribed, blocked, manual"),
                      limit: int = typer.Option(100, min=1, max=1000),
                      as_json: bool = typer.Option(False, "--json", help="One JSON array")) -> None:
    """Suppressed addresses, the latest event first, with the users who have them."""
    import orjson
    from rich.table import Table

    from upswing.core.db import transaction
    from upswing.digest import mail

    with transaction(read=True) as session:
        rows = mail.list_suppressions(session, reason=reason, limit=limit)
    if as_json:
        console.print_json(orjson.dumps([row.model_dump(mode="json") for row in rows]).decode())
        return
    table = Table("address", "reason", "since", "users", "detail", title="suppressed e-mail addresses")
    for row in rows:
        table.add_row(row.address, row.reason, f"{row.event_at:%Y-%m-%d %H:%M} UTC", ", ".join(row.users) or "—",
                      (row.detail or "")[:80])
    console.print(table)
    console.print(f"{len(rows)} suppressed address(es)")


@app.command("lift")
def lift(address: str = typer.Argument(..., help="The address, as listed")) -> None:
    """Let e-mail go to the address again (its owner fixed the mailbox); audited."""
    from upswing.core.db import transaction
    from upswing.digest import mail

    with transaction() as session, user_errors():
        lifted = mail.lift_suppression(session, address, actor=cli_actor())
        console.print(f"lifted: {lifted.address} (was {lifted.reason}); e-mail to "
                      f"{', '.join(lifted.users) or 'it'} is sent again")
