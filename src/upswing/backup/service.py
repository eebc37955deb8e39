"""Backups of the whole database, their manifests, verification, restore and retention (docs/backup.md).

PostgreSQL is dumped with ``pg_dump --format=custom`` inside an exported snapshot, so the manifest's row counts
are those of the very state the dump holds; it is restored with ``pg_restore --clean --if-exists`` in one
transaction. SQLite is copied with the online backup API (a consistent copy while the service runs). Each backup
file has a manifest beside it (``<file>.json``): when, which database, the migration revision, rows per table, the
file's SHA-256 and the app version. The password of a PostgreSQL URL never appears on a command line: the tools
get it through ``PGPASSWORD`` in their environment.

A backup file may be encrypted (AES-256-GCM with ``UPSWING_BACKUP_ENCRYPTION_KEY``). Either way the PII inside
stays encrypted with the PII keys (``UPSWING_ENCRYPTION_KEYS``), which are **not** in the backup.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Connection, Engine, create_engine, func, inspect, select, table, text
from sqlalchemy.engine import URL, make_url

from upswing import __version__
from upswing.core import migrate
from upswing.core.errors import ConflictError, ValidationFailedError

Kind = Literal["postgresql", "sqlite"]
MANIFEST_SUFFIX = ".json"
ENCRYPTED_SUFFIX = ".enc"
_MAGIC = b"UPSWBAK1"  # encrypted file: magic, 12-byte nonce, ciphertext, 16-byte GCM tag
_NONCE = 12
_TAG = 16
_CHUNK = 1024 * 1024
#: libpq settings a SQLAlchemy URL may carry in its query string, passed on to pg_dump / pg_restore.
_LIBPQ_QUERY = {"sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT", "sslcert": "PGSSLCERT",
                "sslkey": "PGSSLKEY", "connect_timeout": "PGCONNECT_TIMEOUT", "options": "PGOPTIONS",
                "application_name": "PGAPPNAME", "target_session_attrs": "PGTARGETSESSIONATTRS"}


class BackupError(ValidationFailedError):
    """A backup that cannot be made, read or restored (the message says which and why, ``field`` what to fix)."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message, [{"field": field, "message": message}])
        self.field = field


@dataclass
class Manifest:
    file: str
    created_at: str
    database: Kind
    revision: str | None
    row_counts: dict[str, int]
    sha256: str
    size_bytes: int
    app_version: str
    encrypted: bool = False
    format: str = ""

    @property
    def created(self) -> datetime:
        return datetime.fromisoformat(self.created_at)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def load(cls, path: Path) -> Manifest:
        try:
            data = json.loads(path.read_text())
            return cls(**data)
        except (OSError, ValueError, TypeError) as exc:
            raise BackupError(f"{path}: not a backup manifest ({exc})", field="manifest") from exc


@dataclass
class Backup:
    path: Path
    manifest: Manifest

    @property
    def manifest_path(self) -> Path:
        return manifest_path(self.path)


@dataclass
class VerifyReport:
    path: Path
    checksum_ok: bool
    readable: bool
    deep: bool = False
    row_count_mismatches: dict[str, tuple[int, int | None]] = field(default_factory=dict)
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.checksum_ok and self.readable and not self.row_count_mismatches


@dataclass
class RestoreReport:
    path: Path
    revision: str | None
    tables: int
    rows: int


def manifest_path(path: Path) -> Path:
    return path.with_name(path.name + MANIFEST_SUFFIX)


def database_kind(url: str) -> Kind:
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        return "sqlite"
    if backend == "postgresql":
        return "postgresql"
    raise BackupError(f"cannot back up a {backend} database (PostgreSQL or SQLite only)", field="database_url")


# --------------------------------------------------------------------------------------------------
# Row counts and revisions


def table_names(connection: Connection) -> list[str]:
    """Every table of the database (the app's schema), sorted."""
    return sorted(inspect(connection).get_table_names())


def row_counts(connection: Connection) -> dict[str, int]:
    return {name: int(connection.execute(select(func.count()).select_from(table(name))).scalar_one())
            for name in table_names(connection)}


def _revision(connection: Connection) -> str | None:
    if "alembic_version" not in inspect(connection).get_table_names():
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def current_revision(url: str) -> str | None:
    """The target's migration revision; ``None`` for an empty or missing database."""
    if database_kind(url) == "sqlite" and not _sqlite_path(url).exists():
        return None
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return _revision(connection)
    finally:
        engine.dispose()


# --------------------------------------------------------------------------------------------------
# PostgreSQL connection for the client tools (no password on the command line)


@dataclass(frozen=True)
class PgTarget:
    dbname: str
    env: dict[str, str]


def pg_target(url: str | URL) -> PgTarget:
    """The libpq environment for ``url``: host, port, user, password (``PGPASSWORD``) and SSL settings.

    The password goes in the child process's environment, never in its arguments (which ``ps`` shows to every
    user of the machine)."""
    parsed = make_url(url) if isinstance(url, str) else url
    if not parsed.database:
        raise BackupError("the PostgreSQL URL names no database", field="database_url")
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    if parsed.host:
        env["PGHOST"] = parsed.host
    if parsed.port:
        env["PGPORT"] = str(parsed.port)
    if parsed.username:
        env["PGUSER"] = parsed.username
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
    for key, value in parsed.query.items():
        name = _LIBPQ_QUERY.get(key)
        if name is not None:
            env[name] = value if isinstance(value, str) else value[-1]
        elif key == "host":  # a socket directory given as ?host=/var/run/postgresql
            env["PGHOST"] = value if isinstance(value, str) else value[-1]
    env["PGDATABASE"] = parsed.database
    return PgTarget(parsed.database, env)


def _run_tool(args: list[str], target: PgTarget, what: str) -> subprocess.CompletedProcess[str]:
    if shutil.which(args[0]) is None:
        raise BackupError(f"{args[0]} is not on PATH (install the PostgreSQL client tools of the server's "
                          "major version or newer)", field="pg_tools")
    result = subprocess.run(args, env=target.env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        message = (result.stderr or result.stdout).strip().splitlines()
        raise BackupError(f"{what} failed: {' / '.join(message[-5:]) or f'exit {result.returncode}'}",
                          field="database")
    return result


def _admin_url(url: str) -> URL:
    return make_url(url).set(database="postgres")


def _database_exists(url: str) -> bool:
    """Whether the PostgreSQL database exists: connecting to it says (no maintenance database needed, which
    managed services may not open to the application's role)."""
    from sqlalchemy.exc import OperationalError

    engine = create_engine(url)
    try:
        with engine.connect():
            return True
    except OperationalError as exc:
        if "does not exist" in str(exc.orig):
            return False
        raise
    finally:
        engine.dispose()


def _create_database(url: str) -> None:
    name = make_url(url).database
    assert name is not None
    engine = create_engine(_admin_url(url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            quoted = connection.dialect.identifier_preparer.quote(name)
            connection.execute(text(f"CREATE DATABASE {quoted}"))
    finally:
        engine.dispose()


def _drop_database(url: str) -> None:
    name = make_url(url).database
    assert name is not None
    engine = create_engine(_admin_url(url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            quoted = connection.dialect.identifier_preparer.quote(name)
            connection.execute(text(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))
    finally:
        engine.dispose()


# --------------------------------------------------------------------------------------------------
# Encryption of backup files (streaming AES-256-GCM)


def parse_key(key: str) -> bytes:
    try:
        raw = base64.b64decode(key.strip(), validate=True)
    except ValueError as exc:
        raise BackupError("UPSWING_BACKUP_ENCRYPTION_KEY is not base64", field="backup_encryption_key") from exc
    if len(raw) != 32:
        raise BackupError("UPSWING_BACKUP_ENCRYPTION_KEY must be 32 bytes (base64)", field="backup_encryption_key")
    return raw


def new_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def encrypt_file(source: Path, target: Path, key: bytes) -> None:
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    nonce = os.urandom(_NONCE)
    encryptor = Cipher(algorithms.AES(key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(_MAGIC)
    with source.open("rb") as src, target.open("wb") as dst:
        dst.write(_MAGIC + nonce)
        while chunk := src.read(_CHUNK):
            dst.write(encryptor.update(chunk))
        dst.write(encryptor.finalize())
        dst.write(encryptor.tag)


def decrypt_file(source: Path, target: Path, key: bytes) -> None:
    """Decrypt ``source`` into ``target``; a wrong key or a changed file raises (and leaves no ``target``)."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    size = source.stat().st_size
    with source.open("rb") as src:
        head = src.read(len(_MAGIC) + _NONCE)
        if len(head) < len(_MAGIC) + _NONCE or not head.startswith(_MAGIC) or size < len(head) + _TAG:
            raise BackupError(f"{source.name} is not an encrypted Upswing backup", field="file")
        src.seek(size - _TAG)
        tag = src.read(_TAG)
        src.seek(len(head))
        decryptor = Cipher(algorithms.AES(key), modes.GCM(head[len(_MAGIC):], tag)).decryptor()
        decryptor.authenticate_additional_data(_MAGIC)
        remaining = size - len(head) - _TAG
        try:
            with target.open("wb") as dst:
                while remaining > 0:
                    chunk = src.read(min(_CHUNK, remaining))
                    remaining -= len(chunk)
                    dst.write(decryptor.update(chunk))
                dst.write(decryptor.finalize())
        except InvalidTag as exc:
            target.unlink(missing_ok=True)
            raise BackupError(f"{source.name}: wrong backup encryption key, or the file was changed",
                              field="backup_encryption_key") from exc


@contextlib.contextmanager
def plain_copy(backup: Backup, key: str | None) -> Iterator[Path]:
    """The backup's plain file: itself, or a temporary decrypted copy (removed afterwards)."""
    if not backup.manifest.encrypted:
        yield backup.path
        return
    if not key:
        raise BackupError(f"{backup.path.name} is encrypted: set UPSWING_BACKUP_ENCRYPTION_KEY",
                          field="backup_encryption_key")
    with tempfile.TemporaryDirectory(prefix="upswing-restore-", dir=backup.path.parent) as tmp:
        plain = Path(tmp) / backup.path.name.removesuffix(ENCRYPTED_SUFFIX)
        decrypt_file(backup.path, plain, parse_key(key))
        yield plain


# --------------------------------------------------------------------------------------------------
# Create


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up", field="database_url")
    return Path(database)


def _dump_sqlite(url: str, target: Path) -> tuple[str | None, dict[str, int]]:
    path = _sqlite_path(url)
    if not path.is_file():
        raise BackupError(f"no SQLite database at {path}", field="database_url")
    source = sqlite3.connect(path)  # only read by the backup (a read-only open of a WAL database may fail)
    try:
        destination = sqlite3.connect(target)
        try:
            source.backup(destination)  # online: a consistent copy while others read and write
        finally:
            destination.close()
    finally:
        source.close()
    # Counted in the copy itself: the manifest describes exactly what the file holds.
    engine = create_engine(f"sqlite:///{target}")
    try:
        with engine.connect() as connection:
            return _revision(connection), row_counts(connection)
    finally:
        engine.dispose()


def _dump_postgres(url: str, target: Path) -> tuple[str | None, dict[str, int]]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            # One snapshot for the counts and the dump: the manifest describes exactly what the file holds.
            connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            snapshot = connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
            revision, counts = _revision(connection), row_counts(connection)
            _run_tool(["pg_dump", "--format=custom", "--no-owner", f"--snapshot={snapshot}",
                       f"--file={target}"], pg_target(url), "pg_dump")
            connection.rollback()
    finally:
        engine.dispose()
    return revision, counts


def backup_name(kind: Kind, at: datetime) -> str:
    return f"upswing-{at:%Y%m%dT%H%M%S}{at.microsecond // 1000:03d}Z.{'dump' if kind == 'postgresql' else 'sqlite'}"


def create_backup(url: str, directory: Path, *, encryption_key: str | None = None,
                  now: datetime | None = None) -> Backup:
    """Back up the database at ``url`` into ``directory``: the file and its manifest beside it."""
    kind = database_kind(url)
    key = parse_key(encryption_key) if encryption_key else None
    at = (now or datetime.now(UTC)).astimezone(UTC)
    directory.mkdir(parents=True, exist_ok=True)
    name = backup_name(kind, at)
    final = directory / (name + (ENCRYPTED_SUFFIX if key else ""))
    if final.exists():
        raise ConflictError(f"{final} already exists")
    partial = directory / f".{name}.{uuid.uuid4().hex[:8]}.partial"
    try:
        if kind == "sqlite":
            revision, counts = _dump_sqlite(url, partial)
        else:
            revision, counts = _dump_postgres(url, partial)
        if key:
            encrypted = partial.with_name(partial.name + ENCRYPTED_SUFFIX)
            encrypt_file(partial, encrypted, key)
            partial.unlink()
            partial = encrypted
        os.replace(partial, final)
    finally:
        partial.unlink(missing_ok=True)
    manifest = Manifest(file=final.name, created_at=at.isoformat(), database=kind, revision=revision,
                        row_counts=counts, sha256=sha256_of(final), size_bytes=final.stat().st_size,
                        app_version=__version__, encrypted=key is not None,
                        format="pg_dump custom" if kind == "postgresql" else "sqlite3")
    manifest_path(final).write_text(manifest.to_json())
    return Backup(final, manifest)


# --------------------------------------------------------------------------------------------------
# Finding, verifying


def load_backup(path: Path) -> Backup:
    """A backup from its file or its manifest path."""
    if path.name.endswith(MANIFEST_SUFFIX):
        path = path.with_name(path.name.removesuffix(MANIFEST_SUFFIX))
    manifest_file = manifest_path(path)
    if not manifest_file.is_file():
        raise BackupError(f"{path}: no manifest beside it ({manifest_file.name})", field="file")
    if not path.is_file():
        raise BackupError(f"{path}: the backup file is missing", field="file")
    return Backup(path, Manifest.load(manifest_file))


def list_backups(directory: Path) -> list[Backup]:
    """The backups in ``directory`` with a readable manifest, newest first."""
    if not directory.is_dir():
        return []
    found = []
    for manifest_file in directory.glob(f"upswing-*{MANIFEST_SUFFIX}"):
        data_file = manifest_file.with_name(manifest_file.name.removesuffix(MANIFEST_SUFFIX))
        if data_file.is_file():
            with contextlib.suppress(BackupError):
                found.append(Backup(data_file, Manifest.load(manifest_file)))
    return sorted(found, key=lambda b: b.manifest.created, reverse=True)


def _sqlite_check(path: Path) -> str:
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        rows = connection.execute("PRAGMA integrity_check").fetchall()
    except sqlite3.DatabaseError as exc:
        return str(exc)
    finally:
        connection.close()
    return "ok" if rows == [("ok",)] else "; ".join(str(row[0]) for row in rows[:5])


def _counts_of(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return row_counts(connection)
    finally:
        engine.dispose()


def compare_counts(expected: dict[str, int], actual: dict[str, int]) -> dict[str, tuple[int, int | None]]:
    return {name: (count, actual.get(name)) for name, count in expected.items() if actual.get(name) != count}


def verify_backup(backup: Backup, *, deep: bool = False, encryption_key: str | None = None,
                  scratch_url: str | None = None) -> VerifyReport:
    """Check the file's SHA-256 against the manifest and that the dump reads; ``deep``: restore it into a scratch
    database (``scratch_url``, default a new database beside the source for PostgreSQL) and compare row counts."""
    report = VerifyReport(backup.path, checksum_ok=sha256_of(backup.path) == backup.manifest.sha256,
                          readable=False, deep=deep)
    if not report.checksum_ok:
        report.detail = "the file's SHA-256 differs from the manifest's"
        return report
    with plain_copy(backup, encryption_key) as plain:
        if backup.manifest.database == "sqlite":
            check = _sqlite_check(plain)
            report.readable = check == "ok"
            report.detail = "" if report.readable else f"integrity_check: {check}"
            if deep and report.readable:
                report.row_count_mismatches = compare_counts(backup.manifest.row_counts,
                                                             _counts_of(f"sqlite:///{plain}"))
            return report
        listed = subprocess.run(["pg_restore", "--list", str(plain)], capture_output=True,  # noqa: S607, S603
                                text=True, check=False)
        report.readable = listed.returncode == 0
        report.detail = "" if report.readable else f"pg_restore --list: {listed.stderr.strip()[:300]}"
        if not (deep and report.readable):
            return report
        if scratch_url is None:
            raise BackupError("a deep check of a PostgreSQL backup needs a scratch database URL", field="scratch_url")
        created = not _database_exists(scratch_url)
        if created:
            _create_database(scratch_url)
        try:
            _pg_restore(plain, scratch_url)
            report.row_count_mismatches = compare_counts(backup.manifest.row_counts, _counts_of(scratch_url))
        finally:
            if created:
                _drop_database(scratch_url)
    return report


# --------------------------------------------------------------------------------------------------
# Restore


def _pg_restore(plain: Path, url: str) -> None:
    _run_tool(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error",
               f"--dbname={pg_target(url).dbname}", str(plain)], pg_target(url), "pg_restore")


def _restore_sqlite(plain: Path, url: str) -> None:
    target = _sqlite_path(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():  # a write-ahead log left by a deleted database must not be replayed onto the copy
        for suffix in ("-wal", "-shm", "-journal"):
            target.with_name(target.name + suffix).unlink(missing_ok=True)
    source = sqlite3.connect(f"{plain.resolve().as_uri()}?mode=ro", uri=True)
    try:
        destination = sqlite3.connect(target, timeout=30)
        try:
            source.backup(destination)  # page by page, under the destination's write lock
        finally:
            destination.close()
    finally:
        source.close()


def restore_backup(backup: Backup, url: str, *, force: bool = False, encryption_key: str | None = None,
                   engine: Engine | None = None) -> RestoreReport:
    """Restore ``backup`` onto the database at ``url`` (created when missing), then check its row counts.

    Refused when the target is at another migration revision than the backup (a newer schema must not be
    overwritten by an older one by mistake), unless ``force``; an empty or missing target is fine. Pooled
    connections of ``engine`` are dropped first (SQLite: they would keep reading the replaced file's pages)."""
    kind = database_kind(url)
    if kind != backup.manifest.database:
        raise BackupError(f"a {backup.manifest.database} backup cannot be restored onto {kind}", field="database")
    if sha256_of(backup.path) != backup.manifest.sha256:
        raise BackupError(f"{backup.path.name}: SHA-256 differs from the manifest's (damaged or changed)",
                          field="file")
    if kind == "postgresql" and not _database_exists(url):
        _create_database(url)
    target_revision = current_revision(url)
    if target_revision not in (None, backup.manifest.revision) and not force:
        raise ConflictError(f"the database is at migration {target_revision} and the backup at "
                            f"{backup.manifest.revision}: restore onto an empty database, or pass --force")
    if engine is not None:
        engine.dispose()
    with plain_copy(backup, encryption_key) as plain:
        if kind == "sqlite":
            _restore_sqlite(plain, url)
        else:
            _pg_restore(plain, url)
    counts = _counts_of(url)
    mismatches = compare_counts(backup.manifest.row_counts, counts)
    if mismatches:
        shown = ", ".join(f"{name}: {want} in the backup, {got} restored" for name, (want, got)
                          in list(mismatches.items())[:10])
        raise BackupError(f"restored row counts differ from the manifest: {shown}", field="row_counts")
    revision = current_revision(url)
    return RestoreReport(backup.path, revision, len(counts), sum(counts.values()))


def head_revision() -> str | None:
    return migrate.head_revision()


# --------------------------------------------------------------------------------------------------
# Retention


def select_retained(backups: list[Backup], *, daily: int, weekly: int, monthly: int) -> list[Backup]:
    """Grandfather-father-son: the newest backup of each of the last ``daily`` days (that have backups), of
    ``weekly`` ISO weeks and of ``monthly`` months; the newest backup is always kept."""
    ordered = sorted(backups, key=lambda b: b.manifest.created, reverse=True)
    keep: dict[Path, Backup] = {}
    if ordered:
        keep[ordered[0].path] = ordered[0]
    for limit, period in ((daily, lambda d: d.date().isoformat()),
                          (weekly, lambda d: "{}-W{:02d}".format(*d.isocalendar()[:2])),
                          (monthly, lambda d: f"{d:%Y-%m}")):
        seen: set[str] = set()
        for backup in ordered:
            label = period(backup.manifest.created)
            if label in seen:
                continue
            if len(seen) >= limit:
                break
            seen.add(label)
            keep[backup.path] = backup
    return [b for b in ordered if b.path in keep]


def prune(directory: Path, *, daily: int, weekly: int, monthly: int, dry_run: bool = False) -> list[Backup]:
    """Delete the backups (file and manifest) the retention does not keep; the deleted ones, newest first."""
    backups = list_backups(directory)
    kept = {b.path for b in select_retained(backups, daily=daily, weekly=weekly, monthly=monthly)}
    removed = [b for b in backups if b.path not in kept]
    if not dry_run:
        for backup in removed:
            backup.path.unlink(missing_ok=True)
            backup.manifest_path.unlink(missing_ok=True)
    return removed


def describe(manifest: Manifest) -> dict[str, Any]:
    data = asdict(manifest)
    data["rows"] = sum(manifest.row_counts.values())
    return data
