"""``upswing keys …``: encryption key management."""

from __future__ import annotations

import typer

keys_app = typer.Typer(help="Encryption keys for PII at rest.", no_args_is_help=True)
