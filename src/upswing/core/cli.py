from __future__ import annotations

import typer

from upswing.core import migrate
from upswing.core.cli_support import console, ensure_port_free, fail
from upswing.core.db import get_engine
from upswing.core.logging import uvicorn_log_config
from upswing.settings import get_settings

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)


@db_app.command("upgrade")
def upgrade(revision: str = typer.Argument("head", help="Target revision")) -> None:
    """Apply migrations (creates the SQLite database on first run)."""
    engine = get_engine()
    migrate.upgrade(engine, revision)
    console.print(f"Database at revision [bold]{migrate.current_revision(engine)}[/] "
                  f"({engine.url.render_as_string(hide_password=True)})")


@db_app.command("current")
def current() -> None:
    """Show the database's migration revision."""
    console.print(migrate.current_revision(get_engine()) or "empty")


def serve(host: str = typer.Option("127.0.0.1", help="Interface to listen on"),
          port: int = typer.Option(8000, help="Port"),
          reload: bool = typer.Option(False, help="Reload on code changes (development)"),
          workers: int = typer.Option(1, min=1, max=64, help="Worker processes (production: about one per core)"),
          ) -> None:
    """Run the API server (OpenAPI docs at /docs)."""
    import uvicorn

    ensure_port_free(host, port, hint="choose another with --port")  # before the database is touched
    settings = get_settings()
    if settings.uses_placeholder_secret:
        fail("UPSWING_SECRET_KEY is not set: a server signing tokens with the published placeholder would accept "
             "forged ones. Set it to a random value of at least 32 characters (e.g. `python -c 'import secrets; "
             "print(secrets.token_urlsafe(48))'`), or run the demo with `make demo`, which makes its own.")
    engine = get_engine()
    if migrate.current_revision(engine) != migrate.head_revision():
        migrate.upgrade(engine)
    console.print(f"Upswing on http://{host}:{port}  (API docs: http://{host}:{port}/docs, "
                  f"environment: {settings.environment})")
    # Counters shared by the worker processes start from zero (PROMETHEUS_MULTIPROC_DIR, docs/observability.md);
    # this process's embedded runner reports its errors to Sentry too.
    from upswing.core.metrics import reset_multiprocess_dir
    from upswing.core.sentry import init_sentry

    reset_multiprocess_dir()
    init_sentry(settings)
    runner = None
    if settings.task_runner == "embedded":  # the zero-setup default: background tasks in this process
        from upswing.core.tasks import EmbeddedRunner

        runner = EmbeddedRunner().start()
    try:
        # The access log goes through the same PII filter as every other log line (core/logging.py).
        uvicorn.run("upswing.app:create_served_app", factory=True, host=host, port=port, reload=reload,
                    workers=None if reload else workers, log_level=settings.log_level.lower(),
                    log_config=uvicorn_log_config(), timeout_keep_alive=settings.http_keepalive_seconds)
    finally:
        if runner is not None:
            runner.stop()
