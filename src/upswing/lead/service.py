"""Lead import (upsert on portfolio + external_id) and lead look-ups.

Services never commit: the CLI command or the request that calls them does.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from pathlib import Path
from typing import Any

from psycopg import sql as pg_sql
from sqlalchemy import ColumnElement, Table, func, or_, select, update
from sqlalchemy.orm import Session

from upswing.account.models import Role, Team, User
from upswing.audit.service import record
from upswing.core.bulk import bulk_insert, chunks, copy_rows, json_columns, psycopg_cursor
from upswing.core.crypto import sealers
from upswing.core.db import utcnow
from upswing.core.errors import NotFoundError, PermissionDeniedError, UpswingError, ValidationFailedError
from upswing.core.logging import get_logger
from upswing.core.runtime import gc_paused
from upswing.lead.access import assignee_clause, visible_lead, visible_leads_clause
from upswing.lead.importer import (
    FileFormat,
    LeadFileReader,
    LeadImportRow,
    LeadSource,
    LeadValidator,
    RowError,
    write_rejects_csv,
)
from upswing.lead.models import Lead, LeadStatus, Portfolio
from upswing.lead.pii import CONTACT_FIELDS, INDEX_FIELDS, blind_indexes, with_blind_indexes
from upswing.lead.queries import has_email, has_phone
from upswing.lead.schemas import (
    MAX_REPORTED_ERRORS,
    ImportReport,
    ImportRowError,
    LeadFilters,
    LeadRead,
    LeadUpdate,
)
from upswing.privacy import policy as privacy_policy
from upswing.privacy.tombstones import ErasedFilter

DEFAULT_PORTFOLIO = "default"
log = get_logger(__name__)

#: Row errors a rejected import logs (the values of PII fields are masked by the log filter).
_LOGGED_ERRORS = 20
#: Rows between two progress callbacks.
PROGRESS_STEP = 1000
#: Below this many rows the existing leads are looked up by external id instead of loading the portfolio.
_LOOKUP_BY_ID_BELOW = 2000

# Lead attributes an import row sets directly (same names on LeadImportRow).
_DIRECT_FIELDS: tuple[str, ...] = (
    "first_name", "middle_name", "last_name", "email", "phone", "address", "city", "state", "region",
    "region_code", "postal_code", "country", "timezone", "linkedin_url", "linkedin_public_id", "employer", "title",
    "balance", "days_delinquent", "birth_date",
)
_EXISTING_FIELDS: tuple[str, ...] = ("id", "external_id", *_DIRECT_FIELDS, "emails", "phones", "assignee_id",
                                      "team_id", *INDEX_FIELDS)
_get_direct = attrgetter(*_DIRECT_FIELDS)


_LEADS: Table = Lead.__table__  # type: ignore[assignment]
_EXISTING_COLUMNS = tuple(_LEADS.c[name] for name in _EXISTING_FIELDS)


class LeadImportFailed(ValidationFailedError):
    """Some rows are invalid and ``skip_invalid`` was not given: nothing was written.

    ``errors`` holds the first ``MAX_REPORTED_ERRORS`` row errors; ``report`` the full counts.
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


@dataclass(slots=True)
class _Reject:
    row: int
    raw: Mapping[str, Any]
    errors: list[RowError]


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
    return _Rows(reader, lambda: reader.columns, reader.filename, reader.format, reader.encoding)


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
) -> ImportReport:
    """Validate a lead file and upsert its rows into a portfolio on ``external_id``.

    ``source`` is a path, the file's bytes, a binary file object, or a sequence of row mappings
    (numbered from 1, like JSON items). ``filename`` names the upload (its extension picks the
    format unless ``file_format`` is given or the content is an XLSX workbook; otherwise the content
    is sniffed). ``encoding`` is the text encoding of a CSV/JSON/JSONL file; by default it is detected
    (``LeadFileReader``), and a file that does not decode raises ``LeadFileError`` naming the line.

    * Any invalid row (``LeadValidator`` checks plus unknown ``assignee``/``team``) and not
      ``skip_invalid``: raises ``LeadImportFailed`` (a ``ValidationFailedError``) and writes nothing,
      not even the portfolio. File-level problems raise ``LeadFileError``, also before any write.
    * ``skip_invalid``: valid rows are written; rejected rows go to a CSV (their original columns plus
      ``error``, in the file's own encoding; UTF-8 with a byte-order mark for XLSX, so Excel reads it)
      at ``rejects_path``, by default ``<file stem>.rejects.csv`` next to a file given by path, e.g.
      ``leads.csv`` → ``leads.rejects.csv`` (no reject file for bytes/streams unless ``rejects_path``
      is given). ``report.rejects_file`` is its absolute path. If it cannot be written, an
      ``UpswingError`` is raised after the leads were written: the caller's rollback undoes them.
    * ``dry_run``: everything is validated and the created/updated/unchanged counts computed, but
      nothing is written (no portfolio, leads, audit entry or reject file). It raises like a real run.
    * Existing leads are updated only in the fields the file provides and only if a value changed;
      re-importing the same file changes nothing (``updated_at`` included).
    * ``progress`` is called with the number of rows just read and validated (an increment), every
      ``PROGRESS_STEP`` rows; the writes follow once every row has been validated.

    One audit entry (``lead.import``) records the import. The caller commits.
    """
    with gc_paused():
        return _import_leads(session, source, actor=actor, filename=filename, file_format=file_format,
                             encoding=encoding, portfolio_name=portfolio_name, dry_run=dry_run,
                             skip_invalid=skip_invalid, progress=progress, rejects_path=rejects_path)


def _import_leads(session: Session, source: LeadSource | LeadRows, *, actor: str, filename: str | None,
                  file_format: FileFormat | None, encoding: str | None, portfolio_name: str, dry_run: bool,
                  skip_invalid: bool, progress: Callable[[int], None] | None,
                  rejects_path: Path | None) -> ImportReport:
    portfolio_name = _clean_portfolio_name(portfolio_name)
    opened = _open_rows(source, filename, file_format, encoding)
    report = ImportReport(file=opened.filename, format=opened.format, encoding=opened.encoding,
                          portfolio=portfolio_name, dry_run=dry_run, skip_invalid=skip_invalid)

    validator = LeadValidator()
    directory = _Directory(session)
    valid: list[tuple[LeadImportRow, dict[str, Any]]] = []
    rejects: list[_Reject] = []
    done = 0
    for number, raw in opened.rows:
        row, errors = validator.validate(number, raw)
        people: dict[str, Any] = {}
        if row is not None and ("assignee" in row.provided or "team" in row.provided):
            people, errors = _resolve_people(row, directory)
        if row is None or errors:
            rejects.append(_Reject(number, raw, errors))
        else:
            valid.append((row, people))
        done += 1
        if progress is not None and done % PROGRESS_STEP == 0:
            progress(PROGRESS_STEP)
    if progress is not None and done % PROGRESS_STEP:
        progress(done % PROGRESS_STEP)

    all_errors = [error for reject in rejects for error in reject.errors]
    report.total = done
    report.rejected = len(rejects)
    report.error_count = len(all_errors)
    report.errors = [ImportRowError(row=e.row, field=e.field, value=_jsonable(e.value), message=e.message)
                     for e in all_errors[:MAX_REPORTED_ERRORS]]
    report.warnings = list(validator.warnings)
    if rejects:
        log.warning("lead_import.rows_rejected", file=report.file, rejected=len(rejects),
                    errors=[error.as_dict() for error in all_errors[:_LOGGED_ERRORS]])
    if rejects and not skip_invalid:
        raise LeadImportFailed(
            f"{len(rejects)} of {done} row(s) are invalid ({len(all_errors)} error(s)); nothing was imported",
            report)

    # Privacy (privacy/): people erased on request are never imported again, and the privacy mode's dropped
    # fields are never written.
    erased = ErasedFilter(session)
    if erased.active:
        for index, (row, _) in enumerate(valid):
            erased.add(index, email=row.email, phone=row.phone, linkedin_public_id=row.linkedin_public_id,
                       first_name=row.first_name, last_name=row.last_name,
                       birth_date=getattr(row, "birth_date", None))
        dropped = erased.erased()
        report.suppressed = len(dropped)
        valid = [item for index, item in enumerate(valid) if index not in dropped]
    privacy = privacy_policy.current()

    portfolio = get_portfolio(session, portfolio_name)
    existing = _load_existing(session, portfolio.id if portfolio else None, [row for row, _ in valid])

    now = utcnow()
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for row, people in valid:
        current = existing.get(row.external_id)
        if current is None:
            inserts.append(privacy.prepare_lead_values(_new_lead(row, people, now)))
        else:
            changes = privacy.prepare_lead_values(_changes(row, people, current))
            if changes:
                changes["id"] = current["id"]
                changes["updated_at"] = now
                updates.append(changes)
    report.created = len(inserts)
    report.updated = len(updates)
    report.unchanged = len(valid) - len(inserts) - len(updates)
    if dry_run:
        return report

    portfolio = portfolio or get_or_create_portfolio(session, portfolio_name)
    for values in inserts:
        values["portfolio_id"] = portfolio.id
    bulk_insert(session, _LEADS, inserts)
    _update_leads(session, updates)

    if rejects:
        target = rejects_path
        if target is None and isinstance(source, str | Path):
            path = Path(source)
            target = path.with_name(f"{path.stem}.rejects.csv")
        if target is not None:
            target = target.absolute()
            _write_rejects(target, opened, rejects)
            report.rejects_file = str(target)

    log.info("lead_import.finished", file=report.file, portfolio=report.portfolio, created=report.created,
             updated=report.updated, unchanged=report.unchanged, rejected=report.rejected, dry_run=report.dry_run)
    record(session, actor=actor, action="lead.import", entity_type="portfolio", entity_id=portfolio.id,
           details=report.model_dump(include={"file", "format", "portfolio", "total", "created", "updated",
                                              "unchanged", "rejected", "error_count", "skip_invalid",
                                              "rejects_file"}))
    return report


def _write_rejects(target: Path, opened: _Rows, rejects: list[_Reject]) -> None:
    """The rejects CSV, in the import file's encoding (so it opens as the file did); for a workbook UTF-8
    with a byte-order mark, which Excel needs to read the accents right."""
    encoding = opened.encoding or ("utf-8-sig" if opened.format == "xlsx" else "utf-8")
    try:
        write_rejects_csv(target, opened.columns(), ((r.raw, r.errors) for r in rejects), encoding=encoding)
    except OSError as exc:
        raise UpswingError(f"cannot write the rejected rows to {target}: {exc.strerror or exc}; nothing was "
                           "imported") from exc


#: On PostgreSQL, update groups at least this large go through COPY into a temporary table.
_COPY_UPDATE_MIN_ROWS = 200
_JSON_COLUMNS = json_columns(_LEADS)


def _update_leads(session: Session, updates: list[dict[str, Any]]) -> None:
    """Apply changes (dicts of ``id`` plus the changed columns). Rows changing the same columns go
    together: one executemany each (ORM bulk update by primary key), or on PostgreSQL for large
    groups COPY into a temporary table and one ``UPDATE ... FROM`` (executemany is slow there)."""
    by_keys: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for values in updates:
        by_keys.setdefault(tuple(sorted(values)), []).append(values)
    cursor = psycopg_cursor(session) if updates else None
    try:
        for keys, group in by_keys.items():
            if cursor is not None and len(group) >= _COPY_UPDATE_MIN_ROWS:
                columns = ["id", *(k for k in keys if k != "id")]
                idents = [pg_sql.Identifier(c) for c in columns]
                leads, temp = pg_sql.Identifier(_LEADS.name), pg_sql.Identifier("_lead_import_update")
                cursor.execute(pg_sql.SQL("CREATE TEMP TABLE {} AS SELECT {} FROM {} WITH NO DATA").format(
                    temp, pg_sql.SQL(", ").join(idents), leads))
                copy_rows(cursor, "_lead_import_update", columns, group, _JSON_COLUMNS,
                          sealers=sealers(_LEADS, columns))
                assignments = pg_sql.SQL(", ").join(
                    pg_sql.SQL("{} = u.{}").format(ident, ident) for ident in idents[1:])
                cursor.execute(pg_sql.SQL("UPDATE {} SET {} FROM {} u WHERE {}.id = u.id").format(
                    leads, assignments, temp, leads))
                cursor.execute(pg_sql.SQL("DROP TABLE {}").format(temp))
            else:
                for chunk in chunks(group):
                    session.execute(update(Lead), chunk)
    finally:
        if cursor is not None:
            cursor.close()


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return json.loads(json.dumps(value, default=str))


def _load_existing(session: Session, portfolio_id: uuid.UUID | None,
                   rows: list[LeadImportRow]) -> dict[str, dict[str, Any]]:
    """Existing leads of the portfolio that the rows name, keyed by external id."""
    if portfolio_id is None or not rows:
        return {}
    # Core execution (no ORM row processing): this is the hot path of a large re-import.
    connection = session.connection()
    query = select(*_EXISTING_COLUMNS).where(_LEADS.c.portfolio_id == portfolio_id)
    names = _EXISTING_FIELDS
    if len(rows) >= _LOOKUP_BY_ID_BELOW:
        return {r[1]: dict(zip(names, r, strict=True)) for r in connection.execute(query)}
    found: dict[str, dict[str, Any]] = {}
    ids = [row.external_id for row in rows]
    for start in range(0, len(ids), 500):
        for r in connection.execute(query.where(_LEADS.c.external_id.in_(ids[start:start + 500]))):
            found[r[1]] = dict(zip(names, r, strict=True))
    return found


def _new_lead(row: LeadImportRow, people: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Values for a new ``leads`` row, keyed by column key (all rows get the same keys)."""
    values = dict(zip(_DIRECT_FIELDS, _get_direct(row), strict=True))
    values.update(
        id=uuid.uuid4(), external_id=row.external_id,
        emails=[row.email] if row.email else [],
        phones=[{"number": row.phone, "type": row.phone_type}] if row.phone else [],
        status=LeadStatus.NEW.value, assignee_id=people.get("assignee_id"), team_id=people.get("team_id"),
        created_at=now, updated_at=now,
    )
    return with_blind_indexes(values)


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
    if not CONTACT_FIELDS.isdisjoint(changes):  # the blind indexes follow the e-mails and phones
        after = {name: changes.get(name, current[name]) for name in CONTACT_FIELDS}
        for name, index in blind_indexes(after["email"], after["emails"], after["phone"], after["phones"]).items():
            if index != current[name]:
                changes[name] = index
    return changes


# --------------------------------------------------------------------------- look-ups and updates


def search_leads(session: Session, filters: LeadFilters, *, user: User) -> tuple[list[LeadRead], int]:
    """Leads the user may see, filtered and paginated (most delinquent first); merged duplicates are left out."""
    query = select(Lead).where(visible_leads_clause(user), Lead.merged_into_id.is_(None))
    if filters.q and filters.q.strip():
        query = query.where(_matches_text(session, filters.q.strip()))
    if filters.status is not None:
        query = query.where(Lead.status == filters.status.value)
    if filters.portfolio is not None:
        query = query.join(Portfolio, Portfolio.id == Lead.portfolio_id).where(Portfolio.name == filters.portfolio)
    if filters.assignee_id is not None:
        query = query.where(Lead.assignee_id == filters.assignee_id)
    if filters.assignee is not None:
        query = query.where(assignee_clause(session, user, filters.assignee))
    if filters.team_id is not None:
        query = query.where(Lead.team_id == filters.team_id)
    if filters.state is not None:
        query = query.where(Lead.state == filters.state.upper())
    if filters.min_days_delinquent is not None:
        query = query.where(Lead.days_delinquent >= filters.min_days_delinquent)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Lead.days_delinquent.desc().nulls_last(), Lead.external_id)
                           .limit(filters.limit).offset(filters.offset))
    return [LeadRead.model_validate(lead) for lead in rows], total


def _matches_text(session: Session, text: str) -> ColumnElement[bool]:
    """Lead search's ``q``: a part of the name or external id; or, when it is an e-mail address or a phone
    number, exactly that contact (through the blind indexes: e-mails and phones are encrypted, so a part of
    one cannot be searched)."""
    pattern = f"%{text.lower()}%"
    full_name = func.lower(Lead.first_name + " " + Lead.last_name)
    conditions: list[ColumnElement[bool]] = [full_name.like(pattern), func.lower(Lead.external_id).like(pattern)]
    if "@" in text:
        conditions.append(has_email(session, text))
    elif sum(ch.isdigit() for ch in text) >= 7 and _PHONE_LIKE.fullmatch(text):
        conditions.append(has_phone(session, text))
    return or_(*conditions)


_PHONE_LIKE = re.compile(r"\+?[\d\s().\-]+")


def read_lead(session: Session, lead_id: uuid.UUID, *, user: User) -> LeadRead:
    return LeadRead.model_validate(visible_lead(session, lead_id, user))


def update_lead(session: Session, lead_id: uuid.UUID, data: LeadUpdate, *, user: User) -> LeadRead:
    lead = visible_lead(session, lead_id, user)
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
    return LeadRead.model_validate(lead)
