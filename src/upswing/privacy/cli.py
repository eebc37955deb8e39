"""``upswing`` commands of this domain (thin: the service holds the logic)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Privacy: configuration, data-subject requests, retention.", no_args_is_help=True)
