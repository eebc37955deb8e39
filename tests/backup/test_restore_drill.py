"""The restore drill (docs/backup.md): back up a populated database, destroy it, restore it, and check that
everything came back — row counts, a signal's evidence, PII readable with the same keys, the audit chain intact.
Each database is a scratch one of its own (never the shared test database other workers use)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.engine import make_url

from conftest import POSTGRES_ADMIN_URL, drop_postgres_database
from factories import make_lead, make_portfolio, make_signal, make_user
from upswing.audit import service as audit
from upswing.backup import service as backup
from upswing.core import migrate
from upswing.core.db import make_engine, session_factory
from upswing.core.errors import ConflictError
from upswing.detection.events import SignalType
from upswing.lead.models import Lead
from upswing.signal.models import Evidence, Signal

SNIPPET = "Experience: Senior Welder at Gulf Fabrication (Aug 2026 – present)"


def _populate(engine: Engine) -> tuple[uuid.UUID, uuid.UUID]:
    """Leads, signals with evidence, users and audit entries, committed and sealed; a lead and a signal id."""
    with session_factory(engine)() as session:
        portfolio = make_portfolio(session)
        make_user(session)
        leads = [make_lead(session, portfolio, email=f"drill{i}@example.org", emails=[f"drill{i}@example.org"])
                 for i in range(12)]
        signal_id = make_signal(session, leads[0], SignalType.NEW_EMPLOYMENT, snippet=SNIPPET,
                                organization="Gulf Fabrication", title="Senior Welder")
        for lead in leads[1:6]:
            make_signal(session, lead, SignalType.BUSINESS_LAUNCH, identity=f"biz|{lead.id}",
                        snippet=f"Registered {lead.last_name} LLC", title=None, organization=f"{lead.last_name} LLC")
        for n, lead in enumerate(leads):
            audit.record(session, actor="cli:drill", action="lead.view", entity_type="lead", entity_id=lead.id,
                         details={"n": n})
        session.commit()
        audit.seal_all(session)
        session.commit()
        return leads[0].id, signal_id


def _destroy(kind: str, url: str, engine: Engine) -> None:
    engine.dispose()
    if kind == "sqlite":
        path = Path(make_url(url).database or "")
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
        assert not path.exists()
    else:
        drop_postgres_database(make_url(url).database or "")  # gone: restore creates it


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_restore_drill(kind: str, fresh_database_url: Callable[[str], str], tmp_path: Path) -> None:
    if kind == "postgresql" and POSTGRES_ADMIN_URL is None:
        pytest.skip("PostgreSQL not reachable and UPSWING_TEST_POSTGRES_URL not set")
    url = fresh_database_url(kind)
    engine = make_engine(url)
    migrate.upgrade(engine)
    lead_id, signal_id = _populate(engine)
    with engine.connect() as connection:
        before = backup.row_counts(connection)
    assert before["leads"] == 12 and before["evidence"] == 6 and before["audit_log"] >= 12

    made = backup.create_backup(url, tmp_path / "backups")
    assert made.manifest.row_counts == before
    assert made.manifest.revision == migrate.head_revision() and made.manifest.database == kind
    assert made.manifest.sha256 == backup.sha256_of(made.path)
    assert backup.Manifest.load(made.manifest_path) == made.manifest
    scratch = None if kind == "sqlite" else fresh_database_url(kind)
    if scratch:
        drop_postgres_database(make_url(scratch).database or "")  # verify creates and drops it itself
    verified = backup.verify_backup(made, deep=True, scratch_url=scratch)
    assert verified.ok and verified.readable and not verified.row_count_mismatches, verified.detail

    _destroy(kind, url, engine)
    report = backup.restore_backup(made, url)
    assert report.rows == sum(before.values()) and report.revision == migrate.head_revision()

    engine = make_engine(url)
    with engine.connect() as connection:
        assert backup.row_counts(connection) == before
    with session_factory(engine)() as session:
        evidence = session.scalars(select(Evidence).where(Evidence.signal_id == signal_id)).one()
        assert evidence.snippet == SNIPPET
        signal = session.get(Signal, signal_id)
        assert signal is not None and signal.lead_id == lead_id
        lead = session.get(Lead, lead_id)
        assert lead is not None and lead.email == "drill0@example.org"  # PII opens with the same keys
        chain = audit.verify(session)
        assert chain.intact and chain.entries == before["audit_log"]

    # Onto a database at another revision: refused unless forced.
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'other'"))
        connection.execute(text("DELETE FROM evidence"))
    with pytest.raises(ConflictError, match="other"):
        backup.restore_backup(made, url, engine=engine)
    backup.restore_backup(made, url, force=True, engine=engine)
    with engine.connect() as connection:
        assert backup.row_counts(connection) == before
    engine.dispose()


def _sqlite_with_rows(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'db' / 'upswing.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    _populate(engine)
    engine.dispose()
    return url


def test_encrypted_backup_needs_its_key_and_detects_changes(tmp_path: Path) -> None:
    url = _sqlite_with_rows(tmp_path)
    key = backup.new_key()
    made = backup.create_backup(url, tmp_path / "backups", encryption_key=key)
    assert made.manifest.encrypted and made.path.name.endswith(".sqlite.enc")
    assert b"SQLite format" not in made.path.read_bytes()[:4096]
    assert backup.verify_backup(made, deep=True, encryption_key=key).ok
    with pytest.raises(backup.BackupError, match="encrypted"):
        backup.verify_backup(made)
    with pytest.raises(backup.BackupError, match="wrong backup encryption key"):
        backup.verify_backup(made, encryption_key=backup.new_key())
    # A changed byte: the checksum no longer matches, and restore refuses it.
    data = bytearray(made.path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    made.path.write_bytes(bytes(data))
    report = backup.verify_backup(made, encryption_key=key)
    assert not report.ok and not report.checksum_ok
    with pytest.raises(backup.BackupError, match="SHA-256"):
        backup.restore_backup(made, f"sqlite:///{tmp_path / 'other.db'}", encryption_key=key)


def test_verify_finds_a_damaged_sqlite_file_even_with_a_matching_manifest(tmp_path: Path) -> None:
    url = _sqlite_with_rows(tmp_path)
    made = backup.create_backup(url, tmp_path / "backups")
    data = bytearray(made.path.read_bytes())
    data[100:4096 * 3] = b"\0" * (4096 * 3 - 100)  # the schema pages
    made.path.write_bytes(bytes(data))
    made.manifest.sha256 = backup.sha256_of(made.path)  # a manifest rewritten to match
    report = backup.verify_backup(made)
    assert report.checksum_ok and not report.readable and not report.ok


def test_postgres_tools_get_the_password_from_the_environment_only() -> None:
    target = backup.pg_target("postgresql+psycopg://app:s3cr%40t@db.example.org:6543/upswing?sslmode=require")
    assert target.env["PGPASSWORD"] == "s3cr@t" and target.env["PGHOST"] == "db.example.org"
    assert target.env["PGPORT"] == "6543" and target.env["PGUSER"] == "app" and target.env["PGSSLMODE"] == "require"
    assert target.dbname == "upswing" and "s3cr" not in target.dbname


def test_prune_keeps_daily_weekly_and_monthly(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    directory = tmp_path / "backups"
    directory.mkdir()
    start = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
    made = []
    for day in range(0, 200, 1):  # one backup a day for 200 days, two on the newest day
        at = start - timedelta(days=day)
        name = backup.backup_name("sqlite", at)
        (directory / name).write_bytes(b"x")
        manifest = backup.Manifest(file=name, created_at=at.isoformat(), database="sqlite", revision="r",
                                   row_counts={}, sha256="", size_bytes=1, app_version="t")
        backup.manifest_path(directory / name).write_text(manifest.to_json())
        made.append(at)
    extra = start + timedelta(hours=1)
    name = backup.backup_name("sqlite", extra)
    (directory / name).write_bytes(b"x")
    backup.manifest_path(directory / name).write_text(backup.Manifest(
        file=name, created_at=extra.isoformat(), database="sqlite", revision="r", row_counts={}, sha256="",
        size_bytes=1, app_version="t").to_json())

    removed = backup.prune(directory, daily=7, weekly=4, monthly=6, dry_run=True)
    assert len(backup.list_backups(directory)) == 201  # a dry run deletes nothing
    backup.prune(directory, daily=7, weekly=4, monthly=6)
    kept = [b.manifest.created for b in backup.list_backups(directory)]
    assert len(kept) + len(removed) == 201
    assert kept[0] == extra  # the newest
    days = {d.date() for d in kept}
    assert all((start - timedelta(days=n)).date() in days for n in range(1, 7))  # the last 7 days
    assert len({d.strftime("%Y-%m") for d in kept}) == 6  # six months
    assert min(kept) >= start - timedelta(days=200) and len(kept) <= 7 + 4 + 6
    assert not any(p.name.startswith("upswing-") and not backup.manifest_path(p).exists()
                   for p in directory.iterdir() if not p.name.endswith(".json"))


def test_scheduled_tasks_back_up_and_prune_only_with_a_backup_directory(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlite3

    from upswing.backup import tasks as backup_tasks
    from upswing.settings import get_settings

    database = tmp_path / "small.db"
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE things (id INTEGER PRIMARY KEY)")
        connection.executemany("INSERT INTO things VALUES (?)", [(n,) for n in range(5)])
    monkeypatch.setenv("UPSWING_DATABASE_URL", f"sqlite:///{database}")
    monkeypatch.delenv("UPSWING_BACKUP_DIR", raising=False)
    get_settings.cache_clear()
    try:
        assert backup_tasks.create() is None and backup_tasks.prune() == 0  # no directory: nothing happens
        monkeypatch.setenv("UPSWING_BACKUP_DIR", str(tmp_path / "backups"))
        monkeypatch.setenv("UPSWING_BACKUP_ENCRYPTION_KEY", backup.new_key())
        get_settings.cache_clear()
        name = backup_tasks.create()
        assert name is not None and name.endswith(".sqlite.enc")
        made = backup.load_backup(tmp_path / "backups" / name)
        assert made.manifest.row_counts == {"things": 5} and made.manifest.encrypted
        assert backup_tasks.prune() == 0  # the newest is always kept
    finally:
        get_settings.cache_clear()


@pytest.mark.parametrize("cli", ["sqlite"], indirect=True)
def test_backup_commands(cli: Callable[..., object], tmp_path: Path) -> None:
    import json
    import os
    import sqlite3
    from typing import Any

    run: Callable[..., Any] = cli
    database = Path(make_url(os.environ["UPSWING_DATABASE_URL"]).database or "")
    database.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE things (id INTEGER PRIMARY KEY)")
        connection.executemany("INSERT INTO things VALUES (?)", [(n,) for n in range(3)])
    directory = tmp_path / "out"
    created = run("backup", "create", "--dir", str(directory), "--json")
    assert created.exit_code == 0, created.output
    manifest = json.loads(created.stdout)
    assert manifest["row_counts"] == {"things": 3} and manifest["database"] == "sqlite"
    listed = run("backup", "list", "--dir", str(directory), "--json")
    assert [json.loads(line)["file"] for line in listed.stdout.splitlines()] == [manifest["file"]]
    path = directory / manifest["file"]
    assert run("backup", "verify", str(path), "--deep").exit_code == 0
    assert run("backup", "create", "--encrypt").exit_code == 1  # no key set: refused, named
    with sqlite3.connect(database) as connection:
        connection.execute("DELETE FROM things")
    assert run("backup", "restore", str(path)).exit_code == 1  # asks first; no answer: nothing restored
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT count(*) FROM things").fetchone() == (0,)
    restored = run("backup", "restore", str(path), "--yes")
    assert restored.exit_code == 0, restored.output
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT count(*) FROM things").fetchone() == (3,)
    manifest_file = backup.manifest_path(path)
    manifest_file.write_text(manifest_file.read_text().replace(manifest["sha256"], "0" * 64))
    failed = run("backup", "verify", str(path))
    assert failed.exit_code == 1 and "MISMATCH" in failed.output
