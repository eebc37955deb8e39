"""Scheduled backups: daily ``backup.create`` and ``backup.prune`` when ``UPSWING_BACKUP_DIR`` is set."""

from __future__ import annotations

from datetime import timedelta

from upswing.backup import service
from upswing.core.tasks import scheduled, task
from upswing.settings import get_settings


@scheduled(every=timedelta(days=1))
@task("backup.create", max_attempts=2, retry_delay=timedelta(minutes=10), lease=timedelta(hours=6))
def create() -> str | None:
    """Back up the database into UPSWING_BACKUP_DIR (encrypted when UPSWING_BACKUP_ENCRYPTION_KEY is set); does
    nothing without a backup directory. Returns the file name."""
    settings = get_settings()
    if settings.backup_dir is None:
        return None
    key = settings.backup_encryption_key.get_secret_value() if settings.backup_encryption_key else None
    return service.create_backup(settings.sqlalchemy_url, settings.backup_dir, encryption_key=key).path.name


@scheduled(every=timedelta(days=1))
@task("backup.prune", max_attempts=1)
def prune() -> int:
    """Delete the backups in UPSWING_BACKUP_DIR that retention (UPSWING_BACKUP_KEEP_*) does not keep."""
    settings = get_settings()
    if settings.backup_dir is None:
        return 0
    return len(service.prune(settings.backup_dir, daily=settings.backup_keep_daily,
                             weekly=settings.backup_keep_weekly, monthly=settings.backup_keep_monthly))
