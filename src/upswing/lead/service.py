"""Lead import (upsert on portfolio + external_id) and lead look-ups.

Services never commit: the CLI command or the request that calls them does.

An import runs in two steps, so that a large file never sits in memory and the write transaction holds no
longer than its writes (on SQLite it holds the database's one write lock):

1. ``plan_import`` (reads only): the file is read, validated and its rows prepared a chunk at a time
   (``IMPORT_CHUNK`` rows: the chunk's existing leads looked up by external id in one indexed query, new rows
   and changes computed, sealed and encoded for the driver) and spilled to temporary files; repeated external
   ids are caught with an on-disk index; invalid rows are counted per field, the first ``import_max_errors``
   kept, and with ``skip_invalid`` every one of them written to the rejects file. Memory stays flat whatever
   the file's size.
2. ``apply_import`` (writes): the prepared rows go in as they are, COPY on PostgreSQL and executemany on SQLite,
   then one audit entry.

``import_leads`` does both in one session; the CLI plans in a read-only transaction and writes in its own.
"""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from operator import attrgetter
from pathlib import Path
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    Select,
    String,
    Table,
    Uuid,
    bindparam,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
    tuple_,
    update,
)
from sqlalchemy import text as sql_text
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from upswing.account.models import Role, Team, User
from upswing.audit.service import record
from upswing.core.bulk import (
    FirstSeen,
    Spill,
    analyze,
    batched,
    encode,
    encoders,
    insert_encoded,
    update_encoded,
    uses_copy,
)
from upswing.core.conditional import check_if_match, etag_of
from upswing.core.crypto import KeyRing, get_key_ring
from upswing.core.db import UTCDateTime, utcnow
from upswing.core.errors import ConflictError, NotFoundError, PermissionDeniedError, UpswingError, ValidationFailedError
from upswing.core.logging import get_logger
from upswing.core.pagination import capped_count, decode_cursor, encode_cursor
from upswing.core.runtime import gc_paused
from upswing.geo.distance import distance_sql, haversine_km, within_clause
from upswing.geo.geocode import coordinates
from upswing.lead.access import assignee_clause, owner_scopes, visible_lead
from upswing.lead.importer import (
    EXTRA_VALUES,
    FileFormat,
    LeadFileReader,
    LeadImportRow,
    LeadSource,
    LeadValidator,
    RowError,
    cell_text,
    duplicate_error,
    write_rejects_csv,
)
from upswing.lead.models import (
    HELD_REVIEW_STATES,
    LOCATION_FIELDS,
    Lead,
    LeadCrmId,
    LeadStatus,
    Portfolio,
    lead_statuses,
)
from upswing.lead.pii import CONTACT_FIELDS, INDEX_FIELDS, blind_indexes, email_index, phone_index
from upswing.lead.queries import has_email, has_phone
from upswing.lead.schemas import (
    AssigneeRead,
    ImportReport,
    ImportRowError,
    LeadAssign,
    LeadAssignResult,
    LeadFilters,
    LeadQuery,
    LeadRead,
    LeadUpdate,
    LeadUpsert,
    LeadUpsertOutcome,
    LeadUpsertResult,
    PortfolioRead,
)
from upswing.privacy import policy as privacy_policy
from upswing.privacy.tombstones import ErasedFilter
from upswing.settings import get_settings

DEFAULT_PORTFOLIO = "default"
log = get_logger(__name__)

#: Row errors a rejected import logs (the values of PII fields are masked by the log filter).
_LOGGED_ERRORS = 20
#: Rows read, validated, looked up and prepared together (one look-up query and one spill write each); the
#: progress callback is called once per chunk.
IMPORT_CHUNK = 2000
PROGRESS_STEP = IMPORT_CHUNK
#: New leads after which the table's statistics are refreshed (PostgreSQL): the next import's look-ups, planned
#: on statistics that still show a small table, would otherwise scan it all.
_ANALYZE_AFTER = 10_000
#: Characters of a bad value an error report repeats (a broken quote can make one cell the rest of the file).
_VALUE_CHARS = 200

# Lead attributes an import row sets directly (same names on LeadImportRow).
_DIRECT_FIELDS: tuple[str, ...] = (
    "first_name", "middle_name", "last_name", "email", "phone", "address", "city", "state", "region",
    "region_code", "postal_code", "country", "timezone", "linkedin_url", "linkedin_public_id", "employer", "title",
    "balance", "days_delinquent", "birth_date",
)
_EXISTING_FIELDS: tuple[str, ...] = ("id", "external_id", *_DIRECT_FIELDS, "emails", "phones", "assignee_id",
                                      "team_id", *INDEX_FIELDS)
#: Columns geocoded from the location (geo/geocode.py: a dict look-up per row).
_GEO_FIELDS: tuple[str, ...] = ("latitude", "longitude", "geo_precision")
#: Columns an import may change on an existing lead (``updated_at`` always, with any other).
_UPDATE_FIELDS: tuple[str, ...] = (*_DIRECT_FIELDS, "emails", "phones", "assignee_id", "team_id", *INDEX_FIELDS,
                                   *_GEO_FIELDS, "updated_at")
_UPDATE_BITS = {name: 1 << i for i, name in enumerate(_UPDATE_FIELDS)}
#: Columns of a new lead, in the order ``_new_lead`` gives their values.
_INSERT_FIELDS: tuple[str, ...] = ("id", "portfolio_id", "external_id", *_DIRECT_FIELDS, "emails", "phones", "status",
                                   "assignee_id", "team_id", "created_at", "updated_at", *INDEX_FIELDS,
                                   *_GEO_FIELDS)
_get_direct = attrgetter(*_DIRECT_FIELDS)


_LEADS: Table = Lead.__table__  # type: ignore[assignment]
_EXISTING_COLUMNS = tuple(_LEADS.c[name] for name in _EXISTING_FIELDS)


class LeadImportFailed(ValidationFailedError):
    """Some rows are invalid and ``skip_invalid`` was not given: nothing was written.

    ``errors`` holds the first ``import_max_errors`` row errors; ``report`` the counts (per field too).
    """

    def __init__(self, message: str, report: ImportReport) -> None:
        super().__init__(message, [error.model_dump() for error in report.errors])
        self.report = report


# --------------------------------------------------------------------------------------------
# Look-ups
# --------------------------------------------------------------------------------------------


def _clean_portfolio_name(name: str) -> str:
    name = name.strip() or DEFAULT_PORTFOLIO
    if len(name) > 200:
        raise ValidationFailedError("a portfolio name is at most 200 characters")
    return name


def get_portfolio(session: Session, name: str) -> Portfolio | None:
    return session.scalars(select(Portfolio).where(Portfolio.name == _clean_portfolio_name(name))).first()


def get_or_create_portfolio(session: Session, name: str) -> Portfolio:
    """The portfolio with this name, created (and flushed) if it does not exist yet."""
    name = _clean_portfolio_name(name)
    portfolio = get_portfolio(session, name)
    if portfolio is None:
        portfolio = Portfolio(name=name, created_at=utcnow())
        session.add(portfolio)
        session.flush()
    return portfolio


def get_lead(session: Session, lead_id: uuid.UUID | str) -> Lead:
    """The lead with this id; NotFoundError if there is none (or the id is not a UUID)."""
    if not isinstance(lead_id, uuid.UUID):
        try:
            lead_id = uuid.UUID(str(lead_id))
        except ValueError:
            raise NotFoundError(f"lead {lead_id} not found") from None
    lead = session.get(Lead, lead_id)
    if lead is None:
        raise NotFoundError(f"lead {lead_id} not found")
    return lead


# --------------------------------------------------------------------------------------------
# Import
# --------------------------------------------------------------------------------------------

LeadRows = Sequence[Mapping[str, Any]]


class _Directory:
    """Users and teams by name, loaded once per import, for the ``assignee`` and ``team`` columns."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._users: dict[str, tuple[uuid.UUID, uuid.UUID | None, bool]] | None = None
        self._teams: dict[str, uuid.UUID] | None = None

    def user(self, username: str) -> tuple[uuid.UUID, uuid.UUID | None, bool] | None:
        if self._users is None:
            self._users = {}
            rows = self._session.execute(select(User.username, User.id, User.team_id, User.is_active))
            for name, user_id, team_id, active in rows:
                self._users[name] = (user_id, team_id, active)
                self._users.setdefault(name.lower(), (user_id, team_id, active))
        return self._users.get(username) or self._users.get(username.lower())

    def team(self, name: str) -> uuid.UUID | None:
        if self._teams is None:
            self._teams = {}
            for team_name, team_id in self._session.execute(select(Team.name, Team.id)):
                self._teams[team_name] = team_id
                self._teams.setdefault(team_name.lower(), team_id)
        return self._teams.get(name) or self._teams.get(name.lower())


def _resolve_people(row: LeadImportRow, directory: _Directory) -> tuple[dict[str, Any], list[RowError]]:
    """``assignee_id``/``team_id`` values for a row (only those the row decides), or its errors."""
    values: dict[str, Any] = {}
    errors: list[RowError] = []
    user_team: uuid.UUID | None = None
    if "assignee" in row.provided:
        values["assignee_id"] = None
        if row.assignee is not None:
            user = directory.user(row.assignee)
            if user is None:
                errors.append(RowError(row.row, "assignee", row.assignee, f"unknown user {row.assignee!r}"))
            elif not user[2]:
                errors.append(RowError(row.row, "assignee", row.assignee,
                                       f"user {row.assignee!r} is inactive"))
            else:
                values["assignee_id"], user_team = user[0], user[1]
    if "team" in row.provided:
        values["team_id"] = None
        if row.team is not None:
            team_id = directory.team(row.team)
            if team_id is None:
                errors.append(RowError(row.row, "team", row.team, f"unknown team {row.team!r}"))
            values["team_id"] = team_id
    elif user_team is not None:
        values["team_id"] = user_team
    return values, errors


@dataclass(slots=True)
class _Rows:
    """An import's rows and what the report says about where they came from."""

    rows: Iterable[tuple[int, Mapping[str, Any]]]
    columns: Callable[[], list[str]]  # the columns seen (complete once the rows have been read)
    filename: str | None
    format: str
    encoding: str | None  # the text encoding read with; None for XLSX and row lists
    close: Callable[[], None] = lambda: None


def _open_rows(source: LeadSource | LeadRows, filename: str | None, file_format: FileFormat | None,
               encoding: str | None) -> _Rows:
    """The rows of any accepted source (the file is checked, e.g. its encoding, but not read yet)."""
    if isinstance(source, Sequence) and not isinstance(source, str | bytes):
        rows = source

        def columns() -> list[str]:
            seen: dict[str, None] = {}
            for item in rows:
                seen.update(dict.fromkeys(item))
            return list(seen)

        return _Rows(enumerate(rows, start=1), columns, filename, "rows", None)
    reader = LeadFileReader(source, filename=filename, file_format=file_format, encoding=encoding)
    return _Rows(reader, lambda: reader.columns, reader.filename, reader.format, reader.encoding, reader.close)


class _Problems:
    """What a report says about invalid rows, in memory that does not grow with them: rows and errors counted
    (per field too), the first ``limit`` errors kept (long values cut)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.rows = 0
        self.errors = 0
        self.by_field: Counter[str] = Counter()
        self.first: list[ImportRowError] = []

    def add(self, errors: Sequence[RowError]) -> None:
        self.rows += 1
        self.errors += len(errors)
        self.by_field.update(error.field or "row" for error in errors)
        for error in errors[:max(self.limit - len(self.first), 0)]:
            self.first.append(ImportRowError(row=error.row, field=error.field, value=_shown(error.value),
                                             message=error.message))


def _shown(value: Any) -> Any:
    """A bad value as a report repeats it: JSON-ready, and text past ``_VALUE_CHARS`` characters cut."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        text = value
    elif isinstance(value, list | dict):
        text = json.dumps(value, default=str, ensure_ascii=False)
        if len(text) <= _VALUE_CHARS:
            return json.loads(text)
    else:
        text = cell_text(value)
    return text if len(text) <= _VALUE_CHARS else text[:_VALUE_CHARS] + "…"


@dataclass
class ImportPlan:
    """A validated import, ready to write (``plan_import``): its report so far and its prepared rows, spilled to
    temporary files. ``apply_import`` writes it; close it (it is a context manager) to remove the files."""

    report: ImportReport
    dialect: str
    portfolio_id: uuid.UUID = field(default_factory=uuid.uuid4)  # the portfolio's, or the one it will be created with
    portfolio_found: bool = False  # whether it existed
    now: datetime = field(default_factory=utcnow)  # the new and changed leads' creation/update time
    insert_columns: tuple[str, ...] = ()
    encoded: bool = True  # spilled rows encoded (_RowEncoder), or still to be (then: _insert_item, (id, changes))
    inserts: Spill = field(default_factory=Spill)  # new leads
    updates: Spill = field(default_factory=Spill)  # changes to existing leads
    rejects_target: Path | None = None  # where the rejects file goes once the import is written
    rejects_pending: Path | None = None  # …and where it waits until then

    def close(self) -> None:
        self.inserts.close()
        self.updates.close()
        if self.rejects_pending is not None:
            self.rejects_pending.unlink(missing_ok=True)
            self.rejects_pending = None

    def __enter__(self) -> ImportPlan:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def import_leads(
    session: Session,
    source: LeadSource | LeadRows,
    *,
    actor: str,
    filename: str | None = None,
    file_format: FileFormat | None = None,
    encoding: str | None = None,
    portfolio_name: str = DEFAULT_PORTFOLIO,
    dry_run: bool = False,
    skip_invalid: bool = False,
    progress: Callable[[int], None] | None = None,
    rejects_path: Path | None = None,
    max_errors: int | None = None,
) -> ImportReport:
    """Validate a lead file and upsert its rows into a portfolio on ``external_id``.

    ``source`` is a path, the file's bytes, a binary file object (read where it stands, left open), or a
    sequence of row mappings (numbered from 1, like JSON items). ``filename`` names the upload (its extension
    picks the format unless ``file_format`` is given or the content is an XLSX workbook; otherwise the content
    is sniffed). ``encoding`` is the text encoding of a CSV/JSON/JSONL file; by default it is detected
    (``LeadFileReader``), and a file that does not decode raises ``LeadFileError`` naming the line.

    * Any invalid row (``LeadValidator`` checks, an external id repeated in the file, unknown
      ``assignee``/``team``) and not ``skip_invalid``: raises ``LeadImportFailed`` (a ``ValidationFailedError``)
      and writes nothing, not even the portfolio. Its report counts every error (``error_count``,
      ``errors_by_field``) and lists the first ``max_errors`` (default: the ``import_max_errors`` setting).
      File-level problems raise ``LeadFileError``, also before any write.
    * ``skip_invalid``: valid rows are written; rejected rows go to a CSV (their original columns plus
      ``error``, in the file's own encoding; UTF-8 with a byte-order mark for XLSX, so Excel reads it; formulas
      neutralised) at ``rejects_path``, by default ``<file stem>.rejects.csv`` next to a file given by path,
      e.g. ``leads.csv`` → ``leads.rejects.csv`` (no reject file for bytes/streams unless ``rejects_path`` is
      given). ``report.rejects_file`` is its absolute path. It is written before any lead (a temporary file
      beside it, renamed into place once the leads are written): if it cannot be, an ``UpswingError`` is raised
      and nothing is written.
    * ``dry_run``: everything is validated and the created/updated/unchanged counts computed, but nothing is
      written (no portfolio, leads, audit entry or reject file). It raises like a real run.
    * Existing leads are updated only in the fields the file provides and only if a value changed;
      re-importing the same file changes nothing (``updated_at`` included).
    * ``progress`` is called with the number of rows just read and validated (an increment), once per
      ``IMPORT_CHUNK`` rows; the writes follow once every row has been validated.

    One audit entry (``lead.import``) records the import. The caller commits.
    """
    with plan_import(session, source, filename=filename, file_format=file_format, encoding=encoding,
                     portfolio_name=portfolio_name, dry_run=dry_run, skip_invalid=skip_invalid, progress=progress,
                     rejects_path=rejects_path, max_errors=max_errors) as plan:
        return apply_import(session, plan, actor=actor)


def plan_import(
    session: Session,
    source: LeadSource | LeadRows,
    *,
    filename: str | None = None,
    file_format: FileFormat | None = None,
    encoding: str | None = None,
    portfolio_name: str = DEFAULT_PORTFOLIO,
    dry_run: bool = False,
    skip_invalid: bool = False,
    progress: Callable[[int], None] | None = None,
    rejects_path: Path | None = None,
    max_errors: int | None = None,
) -> ImportPlan:
    """The first step of ``import_leads`` (same arguments): read, validate and prepare, writing nothing to the
    database, so ``session`` may be read-only. Raises as ``import_leads`` does; the plan's report has every
    count. The plan must be written with a session on the same database."""
    portfolio_name = _clean_portfolio_name(portfolio_name)
    if max_errors is None:
        max_errors = get_settings().import_max_errors
    opened = _open_rows(source, filename, file_format, encoding)
    report = ImportReport(file=opened.filename, format=opened.format, encoding=opened.encoding,
                          portfolio=portfolio_name, dry_run=dry_run, skip_invalid=skip_invalid)
    plan = ImportPlan(report=report, dialect=session.get_bind().dialect.name)
    try:
        if skip_invalid and not dry_run:
            target = rejects_path
            if target is None and isinstance(source, str | Path):
                path = Path(source)
                target = path.with_name(f"{path.stem}.rejects.csv")
            plan.rejects_target = target.absolute() if target is not None else None
        with gc_paused():
            _plan(session, plan, opened, progress=progress, max_errors=max_errors)
    except BaseException:
        plan.close()
        raise
    finally:
        opened.close()
    return plan


def _plan(session: Session, plan: ImportPlan, opened: _Rows, *, progress: Callable[[int], None] | None,
          max_errors: int) -> None:
    report = plan.report
    validator = LeadValidator(check_duplicates=False)
    directory = _Directory(session)
    problems = _Problems(max_errors)
    portfolio = get_portfolio(session, report.portfolio)
    if portfolio is not None:
        plan.portfolio_id, plan.portfolio_found = portfolio.id, True
    preparer = _Preparer(session, plan)
    with FirstSeen() as seen, Spill() as rejected:
        keep_rejects = plan.rejects_target is not None
        for chunk in batched(opened.rows, IMPORT_CHUNK):
            valid: list[tuple[LeadImportRow, dict[str, Any]]] = []
            rejects: list[tuple[dict[str, str], list[tuple[str | None, str]]]] = []
            for raw, row, people, errors in _check(chunk, validator, directory, seen):
                if row is None or errors:
                    problems.add(errors)
                    if keep_rejects:
                        rejects.append(({k: cell_text(v) for k, v in raw.items() if k != EXTRA_VALUES},
                                        [(e.field, e.message) for e in errors]))
                else:
                    valid.append((row, people))
            rejected.append(rejects)
            if report.skip_invalid or not problems.rows:  # once the import is bound to fail, prepare no more
                preparer.add(valid)
            report.total += len(chunk)
            if progress is not None:
                progress(len(chunk))

        report.rejected, report.error_count = problems.rows, problems.errors
        report.errors_by_field = dict(problems.by_field.most_common())
        report.errors = problems.first
        report.warnings = list(validator.warnings)
        report.created, report.updated, report.unchanged = preparer.created, preparer.updated, preparer.unchanged
        report.suppressed = preparer.suppressed
        if problems.rows:
            log.warning("lead_import.rows_rejected", file=report.file, rejected=problems.rows,
                        errors_by_field=report.errors_by_field,
                        errors=[error.model_dump() for error in problems.first[:_LOGGED_ERRORS]])
            if not report.skip_invalid:
                fields = ", ".join(f"{name} {count}" for name, count in report.errors_by_field.items())
                raise LeadImportFailed(f"{problems.rows} of {report.total} row(s) are invalid ({problems.errors} "
                                       f"error(s): {fields}); nothing was imported", report)
        if keep_rejects and rejected.rows:
            _write_rejects(plan, opened, rejected)


_Checked = tuple[Mapping[str, Any], LeadImportRow | None, dict[str, Any], list[RowError]]


def _check(chunk: list[tuple[int, Mapping[str, Any]]], validator: LeadValidator, directory: _Directory,
           seen: FirstSeen) -> list[_Checked]:
    """Each row of a chunk validated: ``(raw, row or None, assignee/team values, errors)``. A row whose external id
    an earlier row of the file already has (valid or not, in this chunk or before) gets that error too."""
    checked: list[_Checked] = []
    numbers: list[int] = []
    keys: list[tuple[str, int]] = []
    for number, raw in chunk:
        row, errors = validator.validate(number, raw)
        people: dict[str, Any] = {}
        if row is not None and ("assignee" in row.provided or "team" in row.provided):
            people, errors = _resolve_people(row, directory)
        if validator.external_id is not None:
            keys.append((validator.external_id, len(checked)))
        checked.append((raw, row, people, errors))
        numbers.append(number)
    firsts = seen.check([(external_id, numbers[index]) for external_id, index in keys])
    for (external_id, index), first in zip(keys, firsts, strict=True):
        if first is not None:
            raw, _, people, errors = checked[index]
            checked[index] = (raw, None, people, [*errors, duplicate_error(numbers[index], external_id, first)])
    return checked


def _write_rejects(plan: ImportPlan, opened: _Rows, rejected: Spill) -> None:
    """The rejects CSV, in the import file's encoding (so it opens as the file did; for a workbook UTF-8 with a
    byte-order mark, which Excel needs to read the accents right), to a temporary file beside its target."""
    target = plan.rejects_target
    assert target is not None
    encoding = opened.encoding or ("utf-8-sig" if opened.format == "xlsx" else "utf-8")
    pending = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
    rows = ((cells, [RowError(0, name, None, message) for name, message in errors])
            for batch in rejected for cells, errors in batch)
    try:
        plan.rejects_pending = pending
        write_rejects_csv(pending, opened.columns(), rows, encoding=encoding)
    except OSError as exc:
        raise UpswingError(f"cannot write the rejected rows to {target}: {exc.strerror or exc}; nothing was "
                           "imported") from exc


class _Preparer:
    """Decides what happens to valid rows, a chunk at a time: looks up the chunk's existing leads (one query),
    leaves out erased people, and spills new leads and changes. On SQLite they are spilled encoded (sealed, in
    the driver's form), so that the write transaction, which holds the database's write lock, only writes. On
    PostgreSQL they are spilled as values and encoded while they are written: sealing a row costs about what
    the server spends storing one, so the two overlap and the encoding costs no time."""

    def __init__(self, session: Session, plan: ImportPlan) -> None:
        self.session = session
        self.plan = plan
        self.dry_run = plan.report.dry_run
        self.privacy = privacy_policy.current()
        # Privacy (privacy/): people erased on request are never imported again, and the privacy mode's dropped
        # fields are never written. No tombstone at all (the usual case): no hashing, no query per chunk.
        self.check_erased = ErasedFilter(session).active
        self.created = self.updated = self.unchanged = self.suppressed = 0
        dropped = self.privacy.dropped_lead_fields
        plan.insert_columns = tuple(f for f in _INSERT_FIELDS if f not in dropped)
        plan.encoded = not uses_copy(session)
        self._encoder = _RowEncoder(session, plan) if plan.encoded and not self.dry_run else None

    def add(self, valid: list[tuple[LeadImportRow, dict[str, Any]]]) -> None:
        if self.check_erased and valid:
            erased = ErasedFilter(self.session)
            for index, (row, _) in enumerate(valid):
                erased.add(index, email=row.email, phone=row.phone, linkedin_public_id=row.linkedin_public_id,
                           first_name=row.first_name, last_name=row.last_name, birth_date=row.birth_date)
            dropped = erased.erased()
            if dropped:
                self.suppressed += len(dropped)
                valid = [item for index, item in enumerate(valid) if index not in dropped]
        existing = _load_existing(self.session, self.plan.portfolio_id if self.plan.portfolio_found else None,
                                  [row.external_id for row, _ in valid])
        inserts: list[Any] = []
        updates: list[Any] = []
        encoder = self._encoder
        for row, people in valid:
            current = existing.get(row.external_id)
            if current is None:
                self.created += 1
                if not self.dry_run:
                    item = _insert_item(row, people)
                    inserts.append(item if encoder is None else encoder.insert(item))
                continue
            changes = self.privacy.prepare_lead_values(_changes(row, people, current))
            if not changes:
                self.unchanged += 1
                continue
            self.updated += 1
            if not self.dry_run:
                changes["updated_at"] = self.plan.now
                updates.append((current["id"], changes) if encoder is None else encoder.update(current["id"], changes))
        self.plan.inserts.append(inserts)
        self.plan.updates.append(updates)


def _insert_item(row: LeadImportRow, people: dict[str, Any]) -> tuple[Any, ...]:
    """What a new lead is made of (``_RowEncoder.insert``): the row's values, flat (cheaper to spill)."""
    return (row.external_id, row.phone_type, people.get("assignee_id"), people.get("team_id"), *_get_direct(row))


class _RowEncoder:
    """Rows in the form ``insert_encoded``/``update_encoded`` send: a new lead's values (id, blind indexes, the
    import's time…) in ``plan.insert_columns`` order, and an update's changed values; sealed and encoded for
    the session's driver. Values the same for every row (the import's time, the portfolio) are encoded once."""

    def __init__(self, session: Session, plan: ImportPlan) -> None:
        dropped = privacy_policy.current().dropped_lead_fields
        self._keep = None if dropped.isdisjoint(_INSERT_FIELDS) else [f not in dropped for f in _INSERT_FIELDS]
        columns = plan.insert_columns
        insert_encoders = encoders(session, _LEADS, columns)
        times = {columns.index(name) for name in ("created_at", "updated_at")}
        portfolio = columns.index("portfolio_id")
        self._now = encode([plan.now], [insert_encoders[min(times)]])[0]
        self._portfolio = encode([plan.portfolio_id], [insert_encoders[portfolio]])[0]
        constants = {*times, portfolio, columns.index("id")}  # ids: _lead_ids gives them in the stored form
        self._insert_encoders = [(i, f) for i, f in enumerate(insert_encoders) if f is not None and i not in constants]
        self._update_encoders = dict(zip(_UPDATE_FIELDS, encoders(session, _LEADS, _UPDATE_FIELDS), strict=True))
        self._id_encoder = encoders(session, _LEADS, ["id"])[0]
        self._ring = get_key_ring()
        self._ids = _lead_ids()

    def insert(self, item: tuple[Any, ...]) -> list[Any]:
        values = _new_lead(item, next(self._ids), self._portfolio, self._now, self._ring)
        if self._keep is not None:
            values = [value for value, keep in zip(values, self._keep, strict=True) if keep]
        for i, encoder in self._insert_encoders:
            value = values[i]
            if value is not None:
                values[i] = encoder(value)
        return values

    def update(self, lead_id: uuid.UUID, changes: dict[str, Any]) -> tuple[Any, int, tuple[Any, ...]]:
        """``(id, mask of _UPDATE_FIELDS, the changed values in that order)``."""
        mask = 0
        for name in changes:
            mask |= _UPDATE_BITS[name]
        values: list[Any] = []
        for name in _UPDATE_FIELDS:
            if name in changes:
                value, encoder = changes[name], self._update_encoders[name]
                values.append(value if value is None or encoder is None else encoder(value))
        key = lead_id if self._id_encoder is None else self._id_encoder(lead_id)
        return key, mask, tuple(values)


def apply_import(session: Session, plan: ImportPlan, *, actor: str,
                 progress: Callable[[int], None] | None = None) -> ImportReport:
    """The second step of ``import_leads``: write a plan's rows (COPY on PostgreSQL, executemany elsewhere) and
    the audit entry, and put the rejects file in place. Nothing for a dry run. ``progress`` is called with the
    number of rows just written. The caller commits."""
    report = plan.report
    if report.dry_run:
        return report
    if session.get_bind().dialect.name != plan.dialect:
        raise ValueError(f"an import planned on {plan.dialect} cannot be written to another database")
    portfolio = get_portfolio(session, report.portfolio)
    if portfolio is None:
        portfolio = Portfolio(id=plan.portfolio_id, name=report.portfolio, created_at=utcnow())
        session.add(portfolio)
        session.flush()
    inserts: Iterable[list[Any]] = plan.inserts
    updates: Iterable[list[Any]] = plan.updates
    if not plan.encoded:  # encoded now, while the server stores the rows sent before (see _Preparer)
        encoder = _RowEncoder(session, plan)
        inserts = ([encoder.insert(item) for item in batch] for batch in plan.inserts)
        updates = ([encoder.update(lead_id, changes) for lead_id, changes in batch] for batch in plan.updates)
    if portfolio.id != plan.portfolio_id:  # created by someone else since the plan was made
        position = plan.insert_columns.index("portfolio_id")
        key = encode([portfolio.id], encoders(session, _LEADS, ["portfolio_id"]))[0]
        inserts = ([[*row[:position], key, *row[position + 1:]] for row in batch] for batch in inserts)

    def counted(batches: Iterable[list[Any]]) -> Iterator[list[Any]]:
        for batch in batches:
            yield batch
            if progress is not None:
                progress(len(batch))

    with gc_paused():
        if plan.inserts.rows:
            insert_encoded(session, _LEADS, plan.insert_columns, counted(inserts))
        if plan.updates.rows:
            update_encoded(session, _LEADS, "id", _UPDATE_FIELDS, counted(updates))
    if plan.inserts.rows >= _ANALYZE_AFTER:
        analyze(session, _LEADS)

    if plan.rejects_pending is not None and plan.rejects_target is not None:
        os.replace(plan.rejects_pending, plan.rejects_target)
        plan.rejects_pending = None
        report.rejects_file = str(plan.rejects_target)

    log.info("lead_import.finished", file=report.file, portfolio=report.portfolio, created=report.created,
             updated=report.updated, unchanged=report.unchanged, rejected=report.rejected, dry_run=report.dry_run)
    record(session, actor=actor, action="lead.import", entity_type="portfolio", entity_id=portfolio.id,
           details=report.model_dump(include={"file", "format", "portfolio", "total", "created", "updated",
                                              "unchanged", "rejected", "error_count", "skip_invalid",
                                              "rejects_file"}))
    return report


def _load_existing(session: Session, portfolio_id: uuid.UUID | None,
                   external_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Existing leads of the portfolio with these external ids (one chunk's), keyed by external id: one query
    probing the (portfolio_id, external_id) index once per id, whatever the size of the portfolio."""
    if portfolio_id is None or not external_ids:
        return {}
    # Core execution (no ORM row processing): this is the hot path of a large re-import.
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        rows = connection.execute(_PG_EXISTING, {"portfolio": portfolio_id, "ids": external_ids})
    else:
        rows = connection.execute(select(*_EXISTING_COLUMNS).where(_LEADS.c.portfolio_id == portfolio_id,
                                                                  _LEADS.c.external_id.in_(external_ids)))
    names = _EXISTING_FIELDS
    return {r[1]: dict(zip(names, r, strict=True)) for r in rows}


def _pg_existing() -> Select[Any]:
    """PostgreSQL: each id looked up on its own in a LATERAL subquery (a nested loop of index probes). The plain
    ``external_id IN (…)`` is planned from statistics, and right after a large import, before they are refreshed,
    PostgreSQL took it for a scan of the portfolio's every lead (1 s a chunk at a million leads, against 15 ms)."""
    ids = func.unnest(bindparam("ids", type_=postgresql.ARRAY(String))).table_valued("external_id") \
        .render_derived(name="k")
    lead = (select(*_EXISTING_COLUMNS)
            .where(_LEADS.c.portfolio_id == bindparam("portfolio"), _LEADS.c.external_id == ids.c.external_id)
            .limit(1).lateral("l"))
    return select(*(lead.c[name] for name in _EXISTING_FIELDS)).select_from(ids).join(lead, true())


_PG_EXISTING = _pg_existing()


def _new_lead(item: tuple[Any, ...], lead_id: str, portfolio: Any, now: Any, ring: KeyRing) -> list[Any]:
    """Values of a new ``leads`` row (from ``_insert_item``), in ``_INSERT_FIELDS`` order (``now`` for its creation
    and update times).

    Its blind indexes are ``pii.blind_indexes`` of its one e-mail and one phone, computed directly."""
    external_id, phone_type, assignee_id, team_id, *direct = item
    email, phone = direct[_EMAIL], direct[_PHONE]
    email_bidx = email_index(email, ring) if email else None
    phone_bidx = phone_index(phone, ring) if phone else None
    contact_bidx = sorted(index for index in (email_bidx, phone_bidx) if index)
    return [lead_id, portfolio, external_id, *direct, [email] if email else [],
            [{"number": phone, "type": phone_type}] if phone else [], _NEW, assignee_id, team_id, now, now,
            email_bidx, phone_bidx, contact_bidx,
            *coordinates(direct[_CITY], direct[_STATE], direct[_POSTAL], direct[_COUNTRY])]


_EMAIL, _PHONE = _DIRECT_FIELDS.index("email"), _DIRECT_FIELDS.index("phone")
_CITY, _STATE, _POSTAL, _COUNTRY = (_DIRECT_FIELDS.index(name) for name in LOCATION_FIELDS)


_NEW = LeadStatus.NEW.value
_UUID_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


def _lead_ids() -> Iterator[str]:
    """Ids for new leads: version 7 UUIDs (RFC 9562: the first 48 bits the time in milliseconds, the rest random)
    as 32 hex digits, the form SQLite stores and PostgreSQL reads. Ids made one after another sort together, so an
    import adds to the end of the primary-key index rather than all over it (10 % off SQLite's writes at 400,000
    leads). Drawn 2,048 at a time: ``uuid.uuid4()`` makes a system call for each."""
    while True:
        stamp = f"{time.time_ns() // 1_000_000:012x}"
        block = os.urandom(10 * 2048).hex()
        for start in range(0, len(block), 20):
            digits = block[start:start + 20]
            yield f"{stamp}7{digits[:3]}{_UUID_VARIANT[digits[3]]}{digits[4:19]}"


def _changes(row: LeadImportRow, people: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """The fields the row provides whose value differs from the stored lead."""
    changes: dict[str, Any] = {}
    provided = row.provided
    for name in _DIRECT_FIELDS:
        if name in provided:
            value = getattr(row, name)
            if value != current[name]:
                changes[name] = value
    for name, value in people.items():
        if value != current[name]:
            changes[name] = value
    if row.email is not None:
        emails = list(current["emails"] or [])
        merged = [row.email, *(e for e in emails if e != row.email)]
        if merged != emails:
            changes["emails"] = merged
    if row.phone is not None:
        phones: list[dict[str, Any]] = list(current["phones"] or [])
        old = next((p for p in phones if p.get("number") == row.phone), None)
        kind = row.phone_type if "phone_type" in provided else (old or {}).get("type")
        merged_phones = [{"number": row.phone, "type": kind},
                         *(p for p in phones if p.get("number") != row.phone)]
        if merged_phones != phones:
            changes["phones"] = merged_phones
    if any(name in changes for name in LOCATION_FIELDS):  # the coordinates follow the location
        after_location = [changes.get(name, current[name]) for name in LOCATION_FIELDS]
        changes.update(zip(_GEO_FIELDS, coordinates(*after_location), strict=True))
    if not CONTACT_FIELDS.isdisjoint(changes):  # the blind indexes follow the e-mails and phones
        after = {name: changes.get(name, current[name]) for name in CONTACT_FIELDS}
        for name, index in blind_indexes(after["email"], after["emails"], after["phone"], after["phones"]).items():
            if index != current[name]:
                changes[name] = index
    return changes



# --------------------------------------------------------------------------- look-ups and updates


#: The lead list's order, most delinquent first (no figure last), then external id: ascending keys, so that a
#: cursor is one row-value comparison an index answers (``ix_leads_list*``, migration 0016).
# -1 written out, not bound: SQLite matches an index expression (ix_leads_list…) only with its constants inline.
LEAD_ORDER = (-func.coalesce(Lead.days_delinquent, literal_column("-1", Integer)), Lead.external_id, Lead.id)
#: Lead search returns at most this many matches of a name or external id (narrow it to go further).
SEARCH_MATCHES = 10_000


@dataclass(frozen=True)
class LeadList:
    items: list[LeadRead]
    #: Matching leads, counted up to ``COUNT_CAP`` when ``filters.count`` asks, else None.
    total: int | None
    total_is_exact: bool | None
    next_cursor: str | None


def _lead_scopes(user: User) -> list[ColumnElement[bool]] | None:
    """Who may see a lead, one condition per index to scan (None: the whole book)."""
    return owner_scopes(user, Lead.assignee_id, Lead.team_id)


def lead_conditions(session: Session, filters: LeadQuery, user: User) -> list[ColumnElement[bool]]:
    """The WHERE conditions of a lead list or export (merged duplicates and discovered prospects not approved left
    out; not the user's scope)."""
    where: list[ColumnElement[bool]] = [Lead.merged_into_id.is_(None)]
    # Discovered prospects not approved (a handful, on their own partial index): an anti-join on ``id``, which the
    # list's indexes hold (index-only scans stay so), and none at all while there are none.
    held = select(Lead.id).where(Lead.review_state.in_(HELD_REVIEW_STATES))
    if session.scalar(held.limit(1)) is not None:
        where.append(Lead.id.not_in(held))
    if filters.q and filters.q.strip():
        where.append(_matches_text(session, filters.q.strip()))
    if filters.status is not None:
        statuses = [status.value for status in lead_statuses(filters.status.value)]
        where.append(Lead.status == statuses[0] if len(statuses) == 1 else Lead.status.in_(statuses))
    if filters.portfolio is not None:
        where.append(Lead.portfolio_id.in_(select(Portfolio.id).where(Portfolio.name == filters.portfolio)))
    if filters.assignee_id is not None:
        where.append(Lead.assignee_id == filters.assignee_id)
    if filters.assignee is not None:
        where.append(assignee_clause(session, user, filters.assignee))
    if filters.team_id is not None:
        where.append(Lead.team_id == filters.team_id)
    if filters.state is not None:
        where.append(Lead.state == filters.state.upper())
    if filters.min_days_delinquent is not None:
        where.append(Lead.days_delinquent >= filters.min_days_delinquent)
    if filters.updated_since is not None:
        where.append(Lead.updated_at >= filters.updated_since)
    if filters.crm_id is not None:
        system, _, crm_id = filters.crm_id.partition(":")
        where.append(Lead.id.in_(select(LeadCrmId.lead_id).where(LeadCrmId.system == system,
                                                                  LeadCrmId.crm_id == crm_id)))
    point = _near(filters)
    if point is not None:
        assert filters.radius_km is not None
        within, _ = within_clause(Lead.latitude, Lead.longitude, *point, filters.radius_km,
                                  session.get_bind().dialect.name)
        where.append(within)
    return where


def _near(filters: LeadQuery) -> tuple[float, float] | None:
    """The radius search's centre: ``near`` needs ``radius_km`` (refused without it); ``radius_km`` alone is
    ignored (there is nothing to measure from)."""
    point = filters.near_point()
    if point is not None and filters.radius_km is None:
        raise ValidationFailedError("radius_km: near needs radius_km (km)",
                                    [{"row": None, "field": "radius_km", "message": "missing with near"}])
    return point


@dataclass(frozen=True, slots=True)
class _LeadSort:
    """A sort of the lead list: the keys its index holds (``id`` last), which way, and its cursors' kind."""

    keys: tuple[Any, ...]  # columns and expressions of ``leads``
    types: tuple[Callable[[Any], Any], ...]
    ascending: bool
    kind: str


_LEAD_SORTS = {
    "-days_delinquent": _LeadSort(LEAD_ORDER, (int, str, uuid.UUID), True, "leads"),
    # Least delinquent first is the same index read backwards: every key of the order reversed.
    "days_delinquent": _LeadSort(LEAD_ORDER, (int, str, uuid.UUID), False, "leads:days_delinquent"),
    # Sync clients (CRMs): the oldest change first, continued by cursor (a lead changed meanwhile comes again).
    "updated_at": _LeadSort((Lead.updated_at, Lead.id), (datetime.fromisoformat, uuid.UUID), True,
                            "leads:updated_at"),
}
_SQL_TYPES: dict[Callable[[Any], Any], Any] = {int: Integer(), str: String(), uuid.UUID: Uuid(),
                                               datetime.fromisoformat: UTCDateTime(), float: Float()}


def page_leads(session: Session, filters: LeadFilters, *, user: User) -> LeadList:
    """A page of the leads the user may see (most delinquent first; merged duplicates left out), continued with
    ``filters.cursor`` (the previous page's ``next_cursor``)."""
    where = lead_conditions(session, filters, user)
    scopes = _lead_scopes(user)
    point = _near(filters)
    sort_name = filters.sort if point is None or "sort" in filters.model_fields_set else "distance"
    if sort_name == "distance" and point is None:
        sort_name = "-days_delinquent"  # nearest to nothing: the list's usual order
    if sort_name == "distance":
        assert point is not None
        distance = distance_sql(Lead.latitude, Lead.longitude, *point, session.get_bind().dialect.name)
        sort = _LeadSort((distance, Lead.id), (float, uuid.UUID), True, "leads:distance")
    else:
        sort = _LEAD_SORTS[sort_name]
    order = list(sort.keys) if sort.ascending else [key.desc() for key in sort.keys]
    total, exact = (capped_count(session, select(Lead.id).where(*where), scopes=scopes) if filters.count
                    else (None, None))
    if filters.cursor is not None:
        values = decode_cursor(filters.cursor, sort.kind)
        try:
            if len(values) != len(sort.keys):
                raise ValueError(sort.kind)
            after = tuple(literal(convert(str(value) if convert is not int else value), _SQL_TYPES[convert])
                          for convert, value in zip(sort.types, values, strict=True))
        except (TypeError, ValueError):
            raise ValidationFailedError("cursor: not a cursor of this list",
                                        [{"row": None, "field": "cursor", "message": "invalid cursor"}]) from None
        key, start = tuple_(*sort.keys), tuple_(*after)
        where.append(key > start if sort.ascending else key < start)
    wanted = filters.limit + 1
    offset = 0 if filters.cursor is not None else filters.offset
    found: dict[uuid.UUID, tuple[Any, ...]] = {}
    for scope in scopes if scopes is not None else [true()]:
        for row in session.execute(select(*sort.keys).where(scope, *where).order_by(*order)
                                   .limit(wanted + offset)):
            found[row[-1]] = tuple(row)
    ordered = sorted(found.values(), reverse=not sort.ascending)[offset:offset + wanted]
    page, more = ordered[:filters.limit], len(ordered) > filters.limit
    leads = {lead.id: lead for lead in session.scalars(select(Lead).where(Lead.id.in_([k[-1] for k in page])))}
    items = with_names(session, [lead_read(leads[key[-1]], user) for key in page if key[-1] in leads])
    if point is not None:
        items = [item.model_copy(update={"distance_km": round(haversine_km(*point, item.latitude, item.longitude), 3)})
                 if item.latitude is not None and item.longitude is not None else item for item in items]
    next_cursor = encode_cursor(sort.kind, page[-1]) if more and page else None
    return LeadList(items, total, exact, next_cursor)


def search_leads(session: Session, filters: LeadFilters, *, user: User) -> tuple[list[LeadRead], int]:
    """``(page, total)`` of the leads the user may see, counted up to ``COUNT_CAP`` (``page_leads`` has the
    cursor, and counts only when asked)."""
    result = page_leads(session, filters.model_copy(update={"count": True}), user=user)
    return result.items, result.total or 0


def _matches_text(session: Session, text: str) -> ColumnElement[bool]:
    """Lead search's ``q``: a part of the name or external id (through the search index the migrations keep:
    PostgreSQL's trigram table read by ``upswing_lead_search``, which applies the same visibility rule as the
    policies; SQLite's FTS5 trigram table); or, when it is an e-mail address or a phone number, exactly that
    contact (through the blind indexes: e-mails and phones are encrypted, so a part of one cannot be searched)."""
    pattern = f"%{_escape_like(text.lower())}%"
    if session.get_bind().dialect.name == "postgresql":
        matches = func.upswing_lead_search(pattern, SEARCH_MATCHES).table_valued("lead_id").render_derived()
        conditions: list[ColumnElement[bool]] = [Lead.id.in_(select(matches.c.lead_id))]
    else:
        # FTS5 answers a LIKE from its trigram index only one column at a time and without ESCAPE: a UNION of two
        # plain LIKEs finds the candidates (an OR, or ESCAPE, scanned the whole table: 75–110 ms at 100,000 leads,
        # against 1 ms), and instr() keeps the rows holding the text itself (a % or _ typed is not a wildcard).
        needle = text.lower()
        fts = sql_text("SELECT rowid FROM leads_fts WHERE name LIKE :candidates AND instr(name, :needle) UNION "
                       "SELECT rowid FROM leads_fts WHERE external_id LIKE :candidates AND instr(external_id, :needle) "
                       "LIMIT :most")
        conditions = [literal_column("leads.rowid").in_(
            fts.bindparams(candidates=f"%{needle}%", needle=needle, most=SEARCH_MATCHES))]
    if "@" in text:
        conditions.append(has_email(session, text))
    elif sum(ch.isdigit() for ch in text) >= 7 and _PHONE_LIKE.fullmatch(text):
        conditions.append(has_phone(session, text))
    return or_(*conditions)


def leads_matching(session: Session, text: str) -> Select[uuid.UUID]:
    """Ids of the leads the search's ``q`` finds for this text (a part of the name or external id, or an exact
    e-mail or phone), for other lists to filter by (the signal feed's ``q``)."""
    return select(Lead.id).where(_matches_text(session, text.strip()))


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


_PHONE_LIKE = re.compile(r"\+?[\d\s().\-]+")


def read_lead(session: Session, lead_id: uuid.UUID, *, user: User) -> LeadRead:
    return with_names(session, [lead_read(visible_lead(session, lead_id, user), user)])[0]


def update_lead(session: Session, lead_id: uuid.UUID, data: LeadUpdate, *, user: User,
                if_match: str | None = None) -> LeadRead:
    """Change a lead's status, assignee or team; with ``if_match`` only if the lead is still at that version (the
    row locked to the end of the transaction)."""
    lead = visible_lead(session, lead_id, user)
    if if_match is not None:
        session.refresh(lead, with_for_update=True)
        check_if_match(if_match, etag_of(lead.id, lead.updated_at), "lead")
    if user.role == Role.VIEWER:
        raise PermissionDeniedError("viewers cannot change leads")
    if (data.assignee is not None or data.team is not None) and user.role not in (Role.ADMIN, Role.MANAGER):
        raise PermissionDeniedError("only managers and admins can reassign leads")
    changes: dict[str, Any] = {}
    if data.status is not None and data.status.value != lead.status:
        changes["status"] = {"from": lead.status, "to": data.status.value}
        lead.status = data.status.value
    if data.assignee is not None:
        assignee = session.scalar(select(User).where(User.username == data.assignee, User.is_active.is_(True)))
        if assignee is None:
            raise ValidationFailedError(f"assignee '{data.assignee}' is not an active user",
                                        [{"row": None, "field": "assignee", "message": "unknown user"}])
        if assignee.id != lead.assignee_id:
            changes["assignee"] = data.assignee
            lead.assignee_id = assignee.id
            if data.team is None and assignee.team_id is not None:
                lead.team_id = assignee.team_id
    if data.crm_ids:
        set_ids = set_crm_ids(session, lead, data.crm_ids)
        changes.update({f"crm_ids.{system}": value for system, value in set_ids.items()})
    if data.team is not None:
        team = session.scalar(select(Team).where(Team.name == data.team))
        if team is None:
            raise ValidationFailedError(f"team '{data.team}' does not exist",
                                        [{"row": None, "field": "team", "message": "unknown team"}])
        if team.id != lead.team_id:
            changes["team"] = data.team
            lead.team_id = team.id
    if changes:
        record(session, actor=f"user:{user.username}", action="lead.update", entity_type="lead",
               entity_id=lead.id, details=changes)
        session.flush()
    return with_names(session, [lead_read(lead, user)])[0]


def set_crm_ids(session: Session, lead: Lead, ids: Mapping[str, str | None]) -> dict[str, str | None]:
    """Set (or, for None, remove) the lead's record id in each named system; the changes made, by system. An id
    another lead already holds in that system is refused (409): one record is one borrower."""
    held = {row.system: row for row in session.scalars(select(LeadCrmId).where(LeadCrmId.lead_id == lead.id))}
    changes: dict[str, str | None] = {}
    for system, crm_id in ids.items():
        row = held.get(system)
        if crm_id is None:
            if row is not None:
                session.delete(row)
                changes[system] = None
            continue
        if row is not None and row.crm_id == crm_id:
            continue
        holder = session.scalar(select(LeadCrmId.lead_id).where(LeadCrmId.system == system,
                                                                LeadCrmId.crm_id == crm_id))
        if holder is not None and holder != lead.id:
            raise ConflictError(f"crm_ids.{system}: {crm_id} is already another lead's id in {system}")
        if row is None:
            session.add(LeadCrmId(lead_id=lead.id, system=system, crm_id=crm_id))
        else:
            row.crm_id = crm_id
        changes[system] = crm_id
    if changes:
        lead.updated_at = utcnow()  # a sync client reading changes since then learns the new ids
        try:
            with session.begin_nested():
                session.flush()
        except IntegrityError:  # taken by a concurrent write a moment ago
            raise ConflictError("crm_ids: one of these ids was just given to another lead") from None
    return changes


def upsert_leads(session: Session, data: LeadUpsert, *, actor: str) -> LeadUpsertResult:
    """Create or update leads by external id in one portfolio, all or nothing: checked as an import checks a
    file (``LeadImportFailed`` names each bad item and field, nothing written), then their ``crm_ids`` set. Each
    item's outcome says which lead it is. The caller commits."""
    rows = [item.model_dump(exclude_unset=True, exclude={"crm_ids"}, mode="json") for item in data.items]
    external_ids = [item.external_id.strip() for item in data.items]
    before = _versions(session, data.portfolio, external_ids)
    _names_of_existing(session, rows, external_ids, before)
    report = import_leads(session, rows, actor=actor, portfolio_name=data.portfolio, dry_run=data.dry_run,
                          filename="bulk-upsert")
    after = before if data.dry_run else _versions(session, data.portfolio, external_ids)
    outcomes: list[LeadUpsertOutcome] = []
    for row, (external_id, item) in enumerate(zip(external_ids, data.items, strict=True), start=1):
        found = after.get(external_id)
        if found is None:
            result = "created" if data.dry_run else "suppressed"
        elif external_id not in before:
            result = "created"
        else:
            result = "updated" if found[1] != before[external_id][1] else "unchanged"
        lead_id = found[0] if found is not None else None
        if item.crm_ids and lead_id is not None and not data.dry_run:
            lead = session.get(Lead, lead_id)
            assert lead is not None
            if set_crm_ids(session, lead, item.crm_ids) and result == "unchanged":
                result = "updated"
        outcomes.append(LeadUpsertOutcome(row=row, external_id=external_id, id=lead_id, result=result))
    return LeadUpsertResult(report=report, items=outcomes)


def _names_of_existing(session: Session, rows: list[dict[str, Any]], external_ids: list[str],
                       existing: dict[str, tuple[uuid.UUID, datetime]]) -> None:
    """An update may leave out the name (a file's row may not): the stored one is kept, as given."""
    wanted = {external_ids[index]: row for index, row in enumerate(rows)
              if external_ids[index] in existing and not {"first_name", "last_name"} <= row.keys()}
    if not wanted:
        return
    ids = [existing[external_id][0] for external_id in wanted]
    for external_id, first, last in session.execute(select(Lead.external_id, Lead.first_name, Lead.last_name)
                                                    .where(Lead.id.in_(ids))):
        wanted[external_id].setdefault("first_name", first)
        wanted[external_id].setdefault("last_name", last)


def _versions(session: Session, portfolio: str, external_ids: list[str]) -> dict[str, tuple[uuid.UUID, datetime]]:
    """``external id → (lead id, updated_at)`` of these leads of the portfolio."""
    return {row.external_id: (row.id, row.updated_at) for row in session.execute(
        select(Lead.external_id, Lead.id, Lead.updated_at).join(Portfolio, Portfolio.id == Lead.portfolio_id)
        .where(Portfolio.name == _clean_portfolio_name(portfolio), Lead.external_id.in_(external_ids)))}


def crm_ids_of(session: Session, lead_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, dict[str, str]]:
    """Each lead's record ids in outside systems (leads with none are left out)."""
    found: dict[uuid.UUID, dict[str, str]] = defaultdict(dict)
    ids = list(lead_ids)
    for start in range(0, len(ids), 500):
        for row in session.execute(select(LeadCrmId.lead_id, LeadCrmId.system, LeadCrmId.crm_id)
                                   .where(LeadCrmId.lead_id.in_(ids[start:start + 500]))):
            found[row.lead_id][row.system] = row.crm_id
    return dict(found)


def with_names(session: Session, reads: list[LeadRead]) -> list[LeadRead]:
    """``reads`` with their portfolio's, assignee's and team's names and their CRM ids filled in (four look-ups
    for the whole list, not one per lead)."""
    portfolio_ids = {read.portfolio_id for read in reads}
    user_ids = {read.assignee_id for read in reads if read.assignee_id is not None}
    team_ids = {read.team_id for read in reads if read.team_id is not None}
    portfolios: dict[uuid.UUID, str] = {}
    users: dict[uuid.UUID, str] = {}
    teams: dict[uuid.UUID, str] = {}
    if portfolio_ids:
        portfolios = {row.id: row.name for row in session.execute(
            select(Portfolio.id, Portfolio.name).where(Portfolio.id.in_(portfolio_ids)))}
    if user_ids:
        users = {row.id: row.full_name or row.username for row in session.execute(
            select(User.id, User.username, User.full_name).where(User.id.in_(user_ids)))}
    if team_ids:
        teams = {row.id: row.name for row in session.execute(select(Team.id, Team.name).where(Team.id.in_(team_ids)))}
    crm_ids = crm_ids_of(session, [read.id for read in reads])
    return [read.model_copy(update={
        "crm_ids": crm_ids.get(read.id, {}),
        "portfolio_name": portfolios.get(read.portfolio_id),
        "assignee_name": users.get(read.assignee_id) if read.assignee_id else None,
        "team_name": teams.get(read.team_id) if read.team_id else None,
    }) for read in reads]


def assign_leads(session: Session, data: LeadAssign, *, user: User) -> LeadAssignResult:
    """Give many leads one assignee (or none) in one statement; every lead that changes gets its own audit entry
    (``lead.update``, like a single reassignment, marked ``bulk``). Managers and admins only; a lead id that does
    not exist, or was merged into another lead, is refused by its position in ``lead_ids`` and nothing changes."""
    if user.role not in (Role.ADMIN, Role.MANAGER):
        raise PermissionDeniedError("only managers and admins can reassign leads")
    assignee: User | None = None
    if data.assignee is not None:
        assignee = session.scalar(select(User).where(User.username == data.assignee, User.is_active.is_(True)))
        if assignee is None:
            raise ValidationFailedError(f"assignee '{data.assignee}' is not an active user",
                                        [{"row": None, "field": "assignee", "message": "unknown user"}])
    team_id: uuid.UUID | None = None
    if data.team is not None:
        team_id = session.scalar(select(Team.id).where(Team.name == data.team))
        if team_id is None:
            raise ValidationFailedError(f"team '{data.team}' does not exist",
                                        [{"row": None, "field": "team", "message": "unknown team"}])
    elif assignee is not None:
        team_id = assignee.team_id
    keeps_team = data.team is None and team_id is None  # each lead keeps the team it has
    ids = list(dict.fromkeys(data.lead_ids))
    current = {row.id: row for row in session.execute(
        select(Lead.id, Lead.assignee_id, Lead.team_id, Lead.merged_into_id).where(Lead.id.in_(ids)))}
    problems: list[dict[str, object]] = [{"row": None, "field": f"lead_ids.{data.lead_ids.index(lead_id)}",
                 "message": "no such lead" if lead_id not in current else "merged into another lead"}
                for lead_id in ids if lead_id not in current or current[lead_id].merged_into_id is not None]
    if problems:
        raise ValidationFailedError(f"{len(problems)} of the leads cannot be assigned: {problems[0]['field']} "
                                    f"{problems[0]['message']}", problems)
    new_assignee = assignee.id if assignee is not None else None
    changed = [lead_id for lead_id in ids if current[lead_id].assignee_id != new_assignee
               or (not keeps_team and current[lead_id].team_id != team_id)]
    if changed:
        values: dict[str, Any] = {"assignee_id": new_assignee, "updated_at": utcnow()}
        if not keeps_team:
            values["team_id"] = team_id
        session.execute(update(Lead).where(Lead.id.in_(changed)).values(**values)
                        .execution_options(synchronize_session=False))
        actor = f"user:{user.username}"
        for lead_id in changed:
            details: dict[str, Any] = {"assignee": data.assignee, "bulk": True}
            if not keeps_team and current[lead_id].team_id != team_id:
                details["team"] = data.team if data.team is not None else "(the assignee's team)"
            record(session, actor=actor, action="lead.update", entity_type="lead", entity_id=lead_id,
                   details=details)
        session.flush()
    return LeadAssignResult(updated=len(changed), unchanged=len(ids) - len(changed), assignee_id=new_assignee,
                            team_id=None if keeps_team else team_id)


def list_portfolios(session: Session) -> list[PortfolioRead]:
    return [PortfolioRead.model_validate(row) for row in session.scalars(select(Portfolio).order_by(Portfolio.name))]


def list_assignees(session: Session) -> list[AssigneeRead]:
    """Active users, by name: whom leads can be assigned to."""
    rows = session.execute(select(User.id, User.username, User.full_name, User.role, User.team_id, Team.name)
                           .outerjoin(Team, Team.id == User.team_id).where(User.is_active.is_(True))
                           .order_by(User.username))
    return [AssigneeRead(id=row[0], username=row[1], full_name=row[2], role=row[3], team_id=row[4], team_name=row[5])
            for row in rows]


# --------------------------------------------------------------------------------------------------
# What each role sees of a lead's contact data
# --------------------------------------------------------------------------------------------------


def mask_phone(value: str | None) -> str | None:
    """``+12125550123`` → ``***-***-0123`` (the last four digits)."""
    if not value:
        return value
    digits = "".join(c for c in value if c.isdigit())
    return f"***-***-{digits[-4:]}" if len(digits) >= 4 else "***"


def mask_text(value: str | None) -> str | None:
    """``jordan@example.com`` → ``j***``; ``12 Main St`` → ``1***`` (the first letter)."""
    return f"{value.strip()[:1]}***" if value and value.strip() else value


def lead_read(lead: Lead, user: User) -> LeadRead:
    """The lead as this user may see it: viewers read the book but not the borrower's contact details (e-mail,
    phones and address masked, birth date left out); the other roles work the lead and see them whole."""
    read = LeadRead.model_validate(lead)
    if user.role != Role.VIEWER.value:
        return read
    return read.model_copy(update={
        "email": mask_text(read.email), "phone": mask_phone(read.phone), "address": mask_text(read.address),
        "phones": [{**entry, "number": mask_phone(str(entry.get("number") or ""))} for entry in read.phones],
        "birth_date": None,
    })
