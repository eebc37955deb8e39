"""``upswing`` commands of this domain (thin: the service holds the logic)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Contact rules: check before contact, the ledger, flags, consent, suppression.",
                  no_args_is_help=True)
