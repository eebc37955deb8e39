"""``upswing digest suppressions …``."""

from __future__ import annotations

import typer

app = typer.Typer(help="Addresses mail no longer goes to (bounces, complaints): list, lift.", no_args_is_help=True)
