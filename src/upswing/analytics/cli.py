"""``upswing analytics …``: rebuild the daily rollups the reports read, and see how current they are (thin)."""

from __future__ import annotations

from datetime import date, datetime

import typer
from rich.table import Table

from upswing.core.cli_support import console, fail, user_errors

app = typer.Typer(help="Analytics: rebuild the daily rollups the reports read, and their state.", no_args_is_help=True)
_DAY_FORMATS = ["%Y-%m-%d"]


@app.command("rollup")
def rollup_command(
    from_: datetime | None = typer.Option(None, "--from", formats=_DAY_FORMATS,
                                          help="First day (UTC) to rebuild; default: the first day with data"),
    to: datetime | None = typer.Option(None, "--to", formats=_DAY_FORMATS,
                                       help="Last day (UTC) to rebuild; default (and at most): yesterday"),
    kind: list[str] = typer.Option([], "--kind", help="signals, recovery or sources (repeatable; default: all)"),
    coverage: bool = typer.Option(True, help="Take a coverage snapshot too"),
) -> None:
    """Rebuild the rollups of every day in the range, newest first, one transaction a day (the reports read them at
    once; a day being rebuilt is read as it was until its transaction commits)."""
    from upswing.analytics import rollup
    from upswing.core.db import session_factory, transaction

    kinds = kind or list(rollup.DAILY_KINDS)
    unknown = sorted(set(kinds) - set(rollup.DAILY_KINDS))
    if unknown:
        fail(f"--kind: unknown rollup(s) {', '.join(unknown)}; choose from {', '.join(rollup.DAILY_KINDS)}")
    first: date | None = from_.date() if from_ else None
    last: date | None = to.date() if to else None
    if first and last and first > last:
        fail("--from is after --to")
    factory = session_factory()
    with user_errors():
        for name in kinds:
            with console.status(f"{name}…") as shown:

                def progress(n: int, name: str = name) -> None:
                    shown.update(f"{name}: {n} day(s)")

                built = rollup.rebuild(factory, name, first, last, progress=progress)
            console.print(f"{name}: {built} day(s) rebuilt")
        if coverage:
            with transaction() as session:
                rollup.snapshot_coverage(session)
            console.print("coverage: snapshot taken")


@app.command("status")
def status_command() -> None:
    """Per rollup: the days built (first and last), the days changed since their build, the oldest build."""
    from upswing.analytics import rollup
    from upswing.core.db import transaction

    with user_errors(), transaction(read=True) as session:
        found = rollup.status(session)
        taken = rollup.latest_coverage(session)
    table = Table("rollup", "days built", "first", "last", "dirty", "oldest build")
    for row in found:
        table.add_row(row.kind, str(row.built), str(row.first or ""), str(row.last or ""), str(row.dirty),
                      f"{row.oldest_build:%Y-%m-%d %H:%M}" if row.oldest_build else "")
    console.print(table)
    console.print(f"coverage snapshot: {taken:%Y-%m-%d %H:%M} UTC" if taken else "coverage snapshot: none yet")
