"""The ``upswing`` command line: wiring only; commands live in each domain's ``cli.py``.

The root group is lazy: it knows each sub-command's name, module and one-line help (``COMMANDS``) and
imports the module only when that sub-command runs or its own help is asked for, so ``upswing --help``
starts fast and loads neither scikit-learn, Celery nor FastAPI. Nothing here touches the database: right
before a command that needs a migrated database runs (after its arguments are parsed, so never for
``--help``), ``_prepare`` configures logging and checks the migration revision.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperCommand, TyperGroup

if TYPE_CHECKING:
    from typer._click import Command, Context


@dataclass(frozen=True)
class LazyCommand:
    """Where a sub-command lives (``module:attribute``, a Typer app or a command function) and its help line."""

    target: str
    help: str
    #: Whether it needs a database at the latest migration (the others create or migrate it, or use none).
    migrated: bool = True

    def load(self, name: str) -> Command:
        module, _, attribute = self.target.partition(":")
        obj = getattr(importlib.import_module(module), attribute)
        command: Command
        if isinstance(obj, typer.Typer):  # a group, even with one command (as ``add_typer`` makes it)
            command = typer.main.get_group(obj)
        else:  # a plain command function
            single = typer.Typer(add_completion=False)
            single.command(name=name)(obj)
            command = typer.main.get_command(single)
        command.name = name
        return command


# In the order ``upswing --help`` lists them.
COMMANDS: dict[str, LazyCommand] = {
    "serve": LazyCommand("upswing.core.cli:serve", "Run the API server (OpenAPI docs at /docs).", migrated=False),
    "classify": LazyCommand("upswing.detection.cli:classify_command",
                            "Classify texts in a JSONL file (the batch contract; no database needed).",
                            migrated=False),
    "worker": LazyCommand("upswing.core.tasks_cli:worker_command",
                          "Run background tasks: a Celery worker on Redis, or the embedded runner."),
    "scheduler": LazyCommand("upswing.core.tasks_cli:scheduler_command",
                             "Enqueue scheduled work (monitoring, …) on time; re-send runs a lost broker message "
                             "left queued."),
    "db": LazyCommand("upswing.core.cli:db_app", "Database schema.", migrated=False),
    "users": LazyCommand("upswing.account.cli:app", "Users and teams."),
    "api-clients": LazyCommand("upswing.account.cli:api_clients_app",
                               "Machine clients of the API (OAuth 2.0 client credentials)."),
    "leads": LazyCommand("upswing.lead.cli:app", "Leads (borrowers) and their import."),
    "ingest": LazyCommand("upswing.observation.cli:ingest_app", "Ingest saved source exports."),
    "observations": LazyCommand("upswing.observation.cli:observations_app", "Stored observations."),
    "matches": LazyCommand("upswing.resolution.cli:app", "Links between profiles and leads: the review queue."),
    "signals": LazyCommand("upswing.signal.cli:app", "Detected signals."),
    "demo": LazyCommand("upswing.demo.cli:app", "The bundled demo data.", migrated=False),
    "sources": LazyCommand("upswing.source.cli:app", "Sources: list, configure, check health, run a connector."),
    "model": LazyCommand("upswing.detection.cli:model_app", "Text classifiers: train, evaluate, list versions.",
                         migrated=False),
    "compliance": LazyCommand("upswing.compliance.cli:app",
                              "Contact rules: check before contact, the ledger, flags, consent, suppression."),
    "privacy": LazyCommand("upswing.privacy.cli:app", "Privacy: configuration, data-subject requests, retention."),
    "audit": LazyCommand("upswing.audit.cli:app", "The audit log: read it and verify its hash chain."),
    "keys": LazyCommand("upswing.keys.cli:keys_app", "Encryption keys for PII at rest."),
    "backup": LazyCommand("upswing.backup.cli:app", "Backups: create, verify, restore and prune them.",
                          migrated=False),
    "events": LazyCommand("upswing.core.events_cli:events_app", "The event outbox: consumers, backlog, failures."),
    "alerts": LazyCommand("upswing.alert.cli:app",
                          "Alerts: your inbox, the live stream, and the rules that make alerts."),
    "webhooks": LazyCommand("upswing.alert.cli:webhooks_app",
                            "Webhook subscriptions: signed alert events to your systems."),
    "digest": LazyCommand("upswing.digest.cli:app", "Daily digests: preview, send, preferences."),
    "escalations": LazyCommand("upswing.escalation.cli:app",
                               "Escalations: signals nobody acknowledged in time, policies, business hours, "
                               "holidays."),
    "crm": LazyCommand("upswing.crm.cli:app", "CRM connections: connect, status, sync, reconcile, disconnect."),
    "outcomes": LazyCommand("upswing.outcome.cli:app",
                            "Outcomes: payments, promises, arrangements, disputes, complaints, closures."),
    "tracking": LazyCommand("upswing.tracking.cli:app",
                            "Consented first-party tracking: sites, profiles, retention purge."),
    "services": LazyCommand("upswing.service_catalog.cli:app",
                            "Services catalog: the team's programs and offers, and who is eligible."),
    "service-matches": LazyCommand("upswing.matching.cli:app",
                                   "Matchmaking: leads matched with the services catalog, recommendations, similar "
                                   "leads."),
    "geo": LazyCommand("upswing.geo.cli:app",
                       "Geography: lead coordinates (offline geocoding) and market analysis of an area."),
    "discover": LazyCommand("upswing.discovery.cli:app",
                            "Discovery: prospect companies found by web search and intent, and their review."),
    "analytics": LazyCommand("upswing.analytics.cli:app",
                             "Analytics: rebuild the daily rollups the reports read, and their state."),
    "experiment": LazyCommand("upswing.experiment.cli:app",
                              "Holdout experiments: a random control group, and the lift with its confidence."),
}


def _prepare(migrated: bool) -> None:
    """What every command needs before it runs: logging, and (``migrated``) a database at the latest migration."""
    from upswing.core.logging import configure_logging
    from upswing.settings import get_settings

    settings = get_settings()
    configure_logging(settings.log_level, json_output=settings.log_json)
    if not migrated:
        return
    from upswing.core import migrate
    from upswing.core.cli_support import fail
    from upswing.core.db import get_engine

    engine = get_engine()
    current = migrate.current_revision(engine)
    engine.dispose()  # a command that forks workers (Celery) must not hand them this check's connection
    if current != migrate.head_revision():
        fail(f"the database at {engine.url.render_as_string(hide_password=True)} is not at the latest "
             "migration: run `upswing db upgrade` first")


def _prepared(command: Command, migrated: bool) -> Command:
    """Run ``_prepare`` right before each leaf command of ``command`` runs (not when only its help is shown)."""
    if isinstance(command, TyperGroup):
        for sub in command.commands.values():
            _prepared(sub, migrated)
    elif command.callback is not None:
        callback: Callable[..., Any] = command.callback

        @functools.wraps(callback)
        def run(*args: Any, **kwargs: Any) -> Any:
            _prepare(migrated)
            return callback(*args, **kwargs)

        command.callback = run
    return command


class LazyGroup(TyperGroup):
    """A Typer group whose sub-commands are imported only when resolved to run (or to show their own help).

    Listing them (``upswing --help``, shell completion of the first word) uses the names and help lines of
    ``COMMANDS`` without importing anything.
    """

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        for name, lazy in COMMANDS.items():
            if name not in self.commands:
                self.commands[name] = TyperCommand(name, help=lazy.help, short_help=lazy.help)
        self._loaded: set[str] = set()

    def resolve_command(self, ctx: Context, args: list[str]) -> tuple[str | None, Command | None, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        if name in COMMANDS and name not in self._loaded:
            lazy = COMMANDS[name]
            command = self.commands[name] = _prepared(lazy.load(name), lazy.migrated)
            self._loaded.add(name)
        return name, command, rest


app = typer.Typer(name="upswing", help="Upswing: signal-based lead engagement.", no_args_is_help=True,
                  pretty_exceptions_enable=False, cls=LazyGroup)


@app.callback()
def _root() -> None:
    """Upswing: signal-based lead engagement."""


def main() -> None:
    app()
