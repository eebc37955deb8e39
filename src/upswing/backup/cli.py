"""``upswing backup …``: back up, verify, restore and prune (thin: ``backup/service.py`` holds the logic)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import typer
from rich.table import Table

from upswing.backup import service
from upswing.core.cli_support import cli_actor, console, err_console, fail
from upswing.core.errors import ConflictError, ValidationFailedError
from upswing.settings import get_settings

app = typer.Typer(help="Backups: create, verify, restore and prune them.", no_args_is_help=True)

_DIR = typer.Option(None, "--dir", help="Backup directory (default: UPSWING_BACKUP_DIR, else <data dir>/backups)")


def _directory(given: Path | None) -> Path:
    settings = get_settings()
    return given or settings.backup_dir or settings.data_dir / "backups"


def _key() -> str | None:
    key = get_settings().backup_encryption_key
    return key.get_secret_value() if key else None


def _audit(action: str, details: dict[str, object]) -> None:
    """An audit entry for what was done (on a database at the latest migration; best effort otherwise)."""
    from upswing.audit.service import record
    from upswing.core import migrate
    from upswing.core.db import get_engine, transaction

    engine = get_engine()
    if migrate.current_revision(engine) != migrate.head_revision():
        return
    with transaction(engine) as session:
        record(session, actor=cli_actor(), action=action, entity_type="backup",
               entity_id=str(details.get("file")), details=details)


@app.command("create")
def create(directory: Path | None = _DIR,
           encrypt: bool = typer.Option(False, "--encrypt", help="Encrypt the file with "
                                        "UPSWING_BACKUP_ENCRYPTION_KEY (AES-256-GCM)"),
           as_json: bool = typer.Option(False, "--json", help="Print the manifest as JSON")) -> None:
    """Back up the database (pg_dump custom format, or SQLite's online backup) with a manifest beside it."""
    key = _key()
    if encrypt and not key:
        fail("--encrypt needs UPSWING_BACKUP_ENCRYPTION_KEY (make one with `upswing backup new-key`)")
    try:
        backup = service.create_backup(get_settings().sqlalchemy_url, _directory(directory),
                                       encryption_key=key if encrypt else None)
    except (ValidationFailedError, ConflictError) as exc:
        fail(str(exc))
    _audit("backup.create", {"file": backup.path.name, "sha256": backup.manifest.sha256,
                             "rows": sum(backup.manifest.row_counts.values())})
    if as_json:
        typer.echo(backup.manifest.to_json().strip())
        return
    console.print(f"Backed up {sum(backup.manifest.row_counts.values())} rows in "
                  f"{len(backup.manifest.row_counts)} tables to [bold]{backup.path}[/] "
                  f"({backup.manifest.size_bytes:,} bytes, revision {backup.manifest.revision}"
                  f"{', encrypted' if backup.manifest.encrypted else ''})")
    console.print(f"manifest: {backup.manifest_path}")


@app.command("list")
def list_command(directory: Path | None = _DIR,
                 as_json: bool = typer.Option(False, "--json", help="One JSON object per backup, a line each")) -> None:
    """The backups in the directory, newest first."""
    backups = service.list_backups(_directory(directory))
    if as_json:
        for backup in backups:
            typer.echo(json.dumps(service.describe(backup.manifest), sort_keys=True))
        return
    table = Table("created (UTC)", "file", "database", "revision", "rows", "bytes", "encrypted",
                  title=f"{len(backups)} backup(s) in {_directory(directory)}")
    for backup in backups:
        manifest = backup.manifest
        table.add_row(manifest.created.strftime("%Y-%m-%d %H:%M:%S"), manifest.file, manifest.database,
                      manifest.revision or "-", f"{sum(manifest.row_counts.values()):,}", f"{manifest.size_bytes:,}",
                      "yes" if manifest.encrypted else "no")
    console.print(table)


@app.command("verify")
def verify(path: Path = typer.Argument(..., help="The backup file (or its manifest)"),
           deep: bool = typer.Option(False, "--deep", help="Also restore it into a scratch database and compare "
                                     "the row counts with the manifest"),
           scratch_url: str | None = typer.Option(None, "--scratch-url", help="PostgreSQL --deep: the scratch "
                                                  "database (default: a new <database>_verify_<random>, dropped "
                                                  "afterwards)")
           ) -> None:
    """Check the SHA-256 and that the dump reads (pg_restore --list / PRAGMA integrity_check). Exit 1 if not."""
    try:
        backup = service.load_backup(path)
        if deep and backup.manifest.database == "postgresql" and scratch_url is None:
            url = get_settings().sqlalchemy_url
            from sqlalchemy.engine import make_url

            parsed = make_url(url)
            scratch = f"{parsed.database}_verify_{uuid.uuid4().hex[:8]}"
            scratch_url = parsed.set(database=scratch).render_as_string(hide_password=False)
        report = service.verify_backup(backup, deep=deep, encryption_key=_key(), scratch_url=scratch_url)
    except ValidationFailedError as exc:
        fail(str(exc))
    checks = [f"SHA-256 {'ok' if report.checksum_ok else 'MISMATCH'}",
              f"readable {'yes' if report.readable else 'NO'}"]
    if deep:
        checks.append("row counts " + ("match" if not report.row_count_mismatches else
                                       f"DIFFER in {len(report.row_count_mismatches)} table(s)"))
    line = f"{backup.path.name}: " + ", ".join(checks)
    if report.ok:
        console.print(line)
        return
    err_console.print(f"[bold red]{line}[/]" + (f"\n{report.detail}" if report.detail else ""))
    for name, (want, got) in list(report.row_count_mismatches.items())[:20]:
        err_console.print(f"  {name}: {want} in the manifest, {got} restored")
    raise typer.Exit(code=1)


@app.command("restore")
def restore(path: Path = typer.Argument(..., help="The backup file (or its manifest)"),
            force: bool = typer.Option(False, "--force", help="Restore even onto a database at another migration "
                                       "revision"),
            yes: bool = typer.Option(False, "--yes", help="Do not ask (everything in the database is replaced)")
            ) -> None:
    """Replace the database with the backup, then check its row counts against the manifest.

    Stop the API, workers and scheduler first. The PII keys (UPSWING_ENCRYPTION_KEYS, UPSWING_BLIND_INDEX_KEY)
    must be the ones in use when the backup was made: they are not in it (docs/backup.md)."""
    settings = get_settings()
    url = settings.sqlalchemy_url
    from sqlalchemy.engine import make_url

    shown = make_url(url).render_as_string(hide_password=True)
    if not yes and not typer.confirm(f"Replace everything in {shown} with {path.name}?"):
        raise typer.Exit(code=1)
    try:
        backup = service.load_backup(path)
        from upswing.core.db import get_engine

        report = service.restore_backup(backup, url, force=force, encryption_key=_key(), engine=get_engine())
    except (ValidationFailedError, ConflictError) as exc:
        fail(str(exc))
    console.print(f"Restored {report.rows:,} rows in {report.tables} tables from {backup.path.name} "
                  f"(revision {report.revision}); row counts match the manifest.")
    if report.revision != service.head_revision():
        console.print("The backup is at an older migration: run `upswing db upgrade`.")
    _audit("backup.restore", {"file": backup.path.name, "sha256": backup.manifest.sha256, "rows": report.rows})
    console.print("Next: `upswing audit verify` and `upswing keys status` (no values under unknown keys).")


@app.command("prune")
def prune(directory: Path | None = _DIR,
          keep_daily: int | None = typer.Option(None, "--keep-daily", min=0, help="Newest backup of this many days "
                                                "(default UPSWING_BACKUP_KEEP_DAILY, 7)"),
          keep_weekly: int | None = typer.Option(None, "--keep-weekly", min=0, help="…of this many ISO weeks (4)"),
          keep_monthly: int | None = typer.Option(None, "--keep-monthly", min=0, help="…of this many months (6)"),
          dry_run: bool = typer.Option(False, "--dry-run", help="Only list what would be deleted")) -> None:
    """Delete the backups retention does not keep (the newest is always kept)."""
    settings = get_settings()
    removed = service.prune(_directory(directory),
                            daily=settings.backup_keep_daily if keep_daily is None else keep_daily,
                            weekly=settings.backup_keep_weekly if keep_weekly is None else keep_weekly,
                            monthly=settings.backup_keep_monthly if keep_monthly is None else keep_monthly,
                            dry_run=dry_run)
    for backup in removed:
        console.print(f"{'would delete' if dry_run else 'deleted'} {backup.path.name}")
    console.print(f"{len(removed)} backup(s) {'to delete' if dry_run else 'deleted'}.")


@app.command("new-key")
def new_key() -> None:
    """Print a new random backup encryption key (for UPSWING_BACKUP_ENCRYPTION_KEY) on stdout."""
    console.print(service.new_key(), soft_wrap=True)
    err_console.print("Set it as UPSWING_BACKUP_ENCRYPTION_KEY and escrow it with the PII keys: without it an "
                      "encrypted backup cannot be read.")
