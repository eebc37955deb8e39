"""``upswing digest …``."""

from __future__ import annotations

import typer

from upswing.digest.mail_cli import app as suppressions_app

app = typer.Typer(help="Daily digests: preview, send, preferences.", no_args_is_help=True)
app.add_typer(suppressions_app, name="suppressions")
