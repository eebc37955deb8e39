"""``upswing demo``: load the bundled demo (kept when already there), or load it and serve it (``make demo``)."""

from __future__ import annotations

from pathlib import Path

import typer

from upswing.core.cli_support import cli_actor, console, ensure_port_free, progress_bar, user_errors

app = typer.Typer(help="The bundled demo data.", no_args_is_help=True)

_DATA_DIR = Path(__file__).resolve().parent / "data"
_RESET = typer.Option(False, help="Start from an empty database first: deletes everything in it")
_FROM = typer.Option(_DATA_DIR, help="Folder with leads.csv and apify-*.json(l)")


@app.command("load")
def load(reset: bool = _RESET, data_dir: Path = _FROM) -> None:
    """Create demo users, import the demo leads, replay the dated profile exports and the recent posts.

    A database that already holds the demo is kept as it is (what was acknowledged or actioned stays);
    --reset starts afresh.
    """
    _load(reset=reset, data_dir=data_dir)


@app.command("run")
def run(reset: bool = _RESET, host: str = typer.Option("127.0.0.1", help="Interface to listen on"),
        port: int = typer.Option(8000, help="Port"), data_dir: Path = _FROM) -> None:
    """`make demo`: load the demo unless the database holds it already (--reset: afresh), then serve it.

    A port in use is reported before anything is loaded, migrated or reset.
    """
    from upswing.core.cli import serve

    hint = f"choose another: `make demo PORT={port + 1}` (or `upswing demo run --port {port + 1}`)"
    ensure_port_free(host, port, hint=hint)
    _load(reset=reset, data_dir=data_dir)
    serve(host=host, port=port, reload=False, workers=1)


def _load(*, reset: bool, data_dir: Path) -> None:
    from upswing.core import migrate
    from upswing.core.db import get_engine, transaction, utcnow
    from upswing.core.local_secrets import ensure_local_secrets
    from upswing.demo import service
    from upswing.observation.reader import open_items
    from upswing.settings import get_settings

    settings = get_settings()
    engine = get_engine()
    where = engine.url.render_as_string(hide_password=True)
    if settings.uses_placeholder_secret:
        # No secret set: the demo makes its own, once, in its data directory (core/local_secrets.py).
        written = ensure_local_secrets(settings.data_dir, existing_data=migrate.current_revision(engine) is not None)
        if written:
            console.print(f"Generated a secret key and PII keys for this demo in {written} (kept for later runs)")
        get_settings.cache_clear()
        settings = get_settings()
    if reset:
        migrate.downgrade(engine, "base")
    migrate.upgrade(engine)
    with transaction(engine) as session:
        loaded = service.is_loaded(session)
    if loaded:
        console.print(f"The demo is already loaded in {where}: kept as it is "
                      "(to start afresh: `make demo-reset`, or `upswing demo load --reset`)")
    else:
        actor = cli_actor()
        with user_errors():
            with transaction(engine) as session:
                created_users = service.ensure_users(session, actor=actor)
                created_leads = service.load_leads(session, actor=actor, data_dir=data_dir)
            console.print(f"Users created: {', '.join(created_users) or 'none (already there)'}; "
                          f"leads created: {created_leads}")
            for path in service.export_files(data_dir):
                total, items = open_items(path)
                with transaction(engine) as session, progress_bar(f"Replaying {path.name}", total) as advance:
                    created, signals = service.load_export(session, path, actor=actor, items=items,
                                                           lookback_days=settings.lookback_days, progress=advance)
                console.print(f"  {path.name}: {created} new snapshots, {signals} new signals")
            from upswing.discovery import demo as discovery_demo

            with transaction(engine) as session:
                prospects = discovery_demo.load(session, actor=actor)
            console.print(f"  discovery: {prospects} prospect companies waiting for review")
            with transaction(engine) as session:
                posts = service.load_posts(session, actor=actor, loaded_at=utcnow())
            console.print(f"  recent posts: {posts.stored} new, {posts.signals_created} new signals, "
                          f"{posts.below_threshold} on the low-confidence list")
    console.print(f"\n[bold]Demo login[/]: admin / {service.DEMO_PASSWORD}  "
                  f"(also manager, agent.alvarez, agent.chen, agent.okafor, viewer; same password)")
