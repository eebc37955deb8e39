"""``upswing model …`` and ``upswing classify`` (thin: detection and training modules hold the logic)."""

from __future__ import annotations

import typer

model_app = typer.Typer(help="Text classifiers: train, evaluate, list versions.", no_args_is_help=True)


def classify_command() -> None:
    """Classify texts in a JSONL file (the batch contract)."""
    raise typer.Exit(2)
