"""``upswing escalations …``."""

from __future__ import annotations

import typer

app = typer.Typer(help="Escalations: signals nobody acknowledged in time, policies, business hours, holidays.",
                  no_args_is_help=True)
