from __future__ import annotations

from pathlib import Path

import typer

from upswing.core import migrate
from upswing.core.cli_support import cli_actor, console, progress_bar, user_errors
from upswing.core.db import get_engine, transaction
from upswing.demo import service
from upswing.observation.reader import open_items
from upswing.settings import get_settings

app = typer.Typer(help="The bundled demo data.", no_args_is_help=True)


@app.command("load")
def load(reset: bool = typer.Option(False, help="Start from an empty database first"),
         data_dir: Path = typer.Option(service.DATA_DIR, help="Folder with leads.csv and apify-*.json(l)")) -> None:
    """Create demo users, import the demo leads and replay the dated profile exports."""
    settings = get_settings()
    engine = get_engine()
    if reset:
        migrate.downgrade(engine, "base")
    migrate.upgrade(engine)
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
    console.print(f"\n[bold]Demo login[/]: admin / {service.DEMO_PASSWORD}  "
                  f"(also manager, agent.alvarez, agent.chen, agent.okafor, viewer; same password)")
