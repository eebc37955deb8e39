"""``upswing`` commands of this domain (thin: the service holds the logic)."""

from __future__ import annotations

import typer

app = typer.Typer(help="The audit log: read it and verify its hash chain.", no_args_is_help=True)
