"""The ``upswing`` command line: wiring only; commands live in each domain's ``cli.py``."""

from __future__ import annotations

import typer

from upswing.account.cli import app as users_app
from upswing.audit.cli import app as audit_app
from upswing.compliance.cli import app as compliance_app
from upswing.core import migrate
from upswing.core.cli import db_app, serve
from upswing.core.cli_support import fail
from upswing.core.crypto_cli import keys_app
from upswing.core.db import get_engine
from upswing.core.logging import configure_logging
from upswing.core.tasks_cli import scheduler_command, worker_command
from upswing.demo.cli import app as demo_app
from upswing.detection.cli import classify_command, model_app
from upswing.lead.cli import app as leads_app
from upswing.observation.cli import ingest_app, observations_app
from upswing.privacy.cli import app as privacy_app
from upswing.resolution.cli import app as matches_app
from upswing.settings import get_settings
from upswing.signal.cli import app as signals_app
from upswing.source.cli import app as sources_app

app = typer.Typer(name="upswing", help="Upswing: signal-based lead engagement.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(leads_app, name="leads")
app.add_typer(ingest_app, name="ingest")
app.add_typer(observations_app, name="observations")
app.add_typer(matches_app, name="matches")
app.add_typer(signals_app, name="signals")
app.add_typer(demo_app, name="demo")
app.add_typer(sources_app, name="sources")
app.add_typer(model_app, name="model")
app.add_typer(compliance_app, name="compliance")
app.add_typer(privacy_app, name="privacy")
app.add_typer(audit_app, name="audit")
app.add_typer(keys_app, name="keys")
app.command()(serve)
app.command(name="classify")(classify_command)
app.command(name="worker")(worker_command)
app.command(name="scheduler")(scheduler_command)


# Commands that create or migrate the schema themselves, or never touch the database.
_MIGRATING_COMMANDS = {"db", "demo", "serve", "classify", "model"}


@app.callback()
def _configure(ctx: typer.Context) -> None:
    settings = get_settings()
    configure_logging(settings.log_level, json_output=settings.log_json)
    if ctx.invoked_subcommand not in _MIGRATING_COMMANDS and not ctx.resilient_parsing:
        engine = get_engine()
        if migrate.current_revision(engine) != migrate.head_revision():
            fail(f"the database at {engine.url.render_as_string(hide_password=True)} is not at the latest "
                 "migration: run `upswing db upgrade` first")


def main() -> None:
    app()
