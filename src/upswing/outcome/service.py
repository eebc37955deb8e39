"""Outcomes: recorded from the API, a lender's file or a signal; listed, summarised per lead, promises settled.

Every write is keyed: an outcome with an external id is found by it and changed in place (a re-sent API call or a
re-imported file changes nothing twice), and an outcome recorded on a signal is keyed by the signal and kind.
Services never commit: the request, the CLI command or the task does.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any

from pydantic import ValidationError
from sqlalchemy import ColumnElement, Date, and_, func, literal, select, tuple_
from sqlalchemy.orm import Session
from sqlalchemy.types import Uuid

from upswing.account.models import User
from upswing.audit.service import record
from upswing.core.conditional import check_if_match, etag_of
from upswing.core.db import UTCDateTime, utcnow
from upswing.core.errors import NotFoundError, ValidationFailedError
from upswing.core.pagination import decode_cursor, encode_cursor
from upswing.lead.access import visible_lead, visible_leads_clause
from upswing.lead.importer import LeadFileReader
from upswing.lead.models import Lead, Portfolio
from upswing.outcome.models import Outcome, OutcomeKind, OutcomeSource, PromiseStatus
from upswing.outcome.schemas import (
    LeadOutcomeSummary,
    OutcomeCreate,
    OutcomeFields,
    OutcomeFilters,
    OutcomeImportError,
    OutcomeImportReport,
    OutcomeRead,
    OutcomeUpdate,
)
from upswing.signal.models import Signal

#: Days after a promise's due date within which a payment still keeps it.
PROMISE_GRACE_DAYS = 3
#: Fields compared to tell an update from a repeat.
_COMPARED = ("lead_id", "kind", "amount", "occurred_on", "due_on", "promise_status", "note")
#: A signal's outcome recorded by a specialist, as an outcome of the lead.
SIGNAL_OUTCOME_KINDS = {"payment": OutcomeKind.PAYMENT, "promise_to_pay": OutcomeKind.PROMISE,
                        "dispute": OutcomeKind.DISPUTE}


class OutcomeImportFailed(ValidationFailedError):
    """Rows of the file are invalid: nothing was written; ``report.errors`` names each row and field."""

    def __init__(self, message: str, report: OutcomeImportReport) -> None:
        super().__init__(message, [error.model_dump() for error in report.errors])
        self.report = report


# --------------------------------------------------------------------------------------------------
# Recording


def _find_lead(session: Session, data: OutcomeCreate, user: User | None) -> Lead:
    if data.lead_id is not None:
        return visible_lead(session, data.lead_id, user)
    query = select(Lead).where(Lead.external_id == data.lead_external_id)
    if data.portfolio is not None:
        query = query.join(Portfolio, Portfolio.id == Lead.portfolio_id).where(Portfolio.name == data.portfolio)
    if user is not None:
        query = query.where(visible_leads_clause(user))
    leads = list(session.scalars(query.limit(2)))
    if not leads:
        raise ValidationFailedError(f"lead_external_id: no lead {data.lead_external_id!r}",
                                    [{"row": None, "field": "lead_external_id", "message": "unknown lead"}])
    if len(leads) > 1:
        raise ValidationFailedError("lead_external_id: several portfolios have this lead id; give portfolio",
                                    [{"row": None, "field": "portfolio", "message": "needed: the id is ambiguous"}])
    return leads[0]


def record_outcome(session: Session, data: OutcomeCreate, *, actor: str, user: User | None,
                   source: OutcomeSource = OutcomeSource.API) -> tuple[Outcome, bool]:
    """Record an outcome, or change the one with the same external id; ``(outcome, created)``."""
    lead = _find_lead(session, data, user)
    outcome, created, changed = _upsert(session, lead.id, data, data.external_id, source=source, actor=actor)
    if created or changed:
        record(session, actor=actor, action="outcome.create" if created else "outcome.update", entity_type="lead",
               entity_id=lead.id, details={"outcome_id": str(outcome.id), "kind": outcome.kind,
                                           "external_id": outcome.external_id})
    return outcome, created


def _upsert(session: Session, lead_id: uuid.UUID, data: OutcomeFields, external_id: str | None, *,
            source: OutcomeSource, actor: str, signal_id: uuid.UUID | None = None) -> tuple[Outcome, bool, bool]:
    values: dict[str, Any] = {
        "lead_id": lead_id, "kind": data.kind.value, "amount": data.amount, "occurred_on": data.occurred_on,
        "due_on": data.due_on, "note": data.note,
        "promise_status": (data.promise_status or PromiseStatus.PENDING).value
        if data.kind is OutcomeKind.PROMISE else None,
    }
    existing = session.scalar(select(Outcome).where(Outcome.external_id == external_id)) if external_id else None
    if existing is None:
        outcome = Outcome(source=source.value, external_id=external_id, signal_id=signal_id, created_by=actor,
                          **values)
        session.add(outcome)
        session.flush()
        return outcome, True, False
    if data.kind is OutcomeKind.PROMISE and data.promise_status is None:
        values["promise_status"] = existing.promise_status  # a re-sent promise keeps what settling found
    changed = any(getattr(existing, name) != values[name] for name in _COMPARED)
    if changed:
        for name, value in values.items():
            setattr(existing, name, value)
        session.flush()
    return existing, False, changed


def update_outcome(session: Session, outcome_id: uuid.UUID, data: OutcomeUpdate, *, actor: str, user: User | None,
                   if_match: str | None = None) -> Outcome:
    outcome = get_outcome(session, outcome_id, user)
    if if_match is not None:
        session.refresh(outcome, with_for_update=True)
        check_if_match(if_match, etag_of(outcome.id, outcome.updated_at), "outcome")
    changes = data.model_dump(exclude_unset=True)
    if "promise_status" in changes and outcome.kind != OutcomeKind.PROMISE.value:
        raise ValidationFailedError("promise_status: only a promise has one",
                                    [{"row": None, "field": "promise_status", "message": "not a promise"}])
    if outcome.kind == OutcomeKind.PAYMENT.value and "amount" in changes and not data.amount:
        raise ValidationFailedError("amount: a payment needs an amount above 0",
                                    [{"row": None, "field": "amount", "message": "must be above 0"}])
    for name, value in changes.items():
        setattr(outcome, name, value.value if isinstance(value, PromiseStatus) else value)
    if changes:
        record(session, actor=actor, action="outcome.update", entity_type="lead", entity_id=outcome.lead_id,
               details={"outcome_id": str(outcome.id), "fields": sorted(changes)})
        session.flush()
    return outcome


def record_signal_outcome(session: Session, signal_id: uuid.UUID, outcome: str, *, on: date, actor: str) -> bool:
    """A payment, promise to pay or dispute recorded on a signal becomes the lead's outcome (without an amount:
    the lender's file or the CRM says how much); once per signal and kind. True when one was added."""
    kind = SIGNAL_OUTCOME_KINDS.get(outcome)
    signal = session.get(Signal, signal_id)
    if kind is None or signal is None:
        return False
    key = f"signal:{signal_id}:{kind.value}"
    if session.scalar(select(Outcome.id).where(Outcome.external_id == key)) is not None:
        return False
    due = on + timedelta(days=14) if kind is OutcomeKind.PROMISE else None
    session.add(Outcome(lead_id=signal.lead_id, kind=kind.value, occurred_on=on, due_on=due,
                        promise_status=PromiseStatus.PENDING.value if kind is OutcomeKind.PROMISE else None,
                        source=OutcomeSource.SIGNAL.value, external_id=key, signal_id=signal_id, created_by=actor,
                        note="recorded on a signal"))
    session.flush()
    return True


# --------------------------------------------------------------------------------------------------
# Reading


def get_outcome(session: Session, outcome_id: uuid.UUID, user: User | None) -> Outcome:
    outcome = session.get(Outcome, outcome_id)
    if outcome is None:
        raise NotFoundError(f"outcome {outcome_id} not found")
    try:
        visible_lead(session, outcome.lead_id, user)
    except NotFoundError:
        raise NotFoundError(f"outcome {outcome_id} not found") from None
    return outcome


def read(session: Session, outcomes: Sequence[Outcome]) -> list[OutcomeRead]:
    ids = {outcome.lead_id for outcome in outcomes}
    names = {row.id: row.external_id for row in session.execute(
        select(Lead.id, Lead.external_id).where(Lead.id.in_(ids)))} if ids else {}
    return [OutcomeRead.model_validate({**{c.key: getattr(o, c.key) for c in Outcome.__table__.columns},
                                        "lead_external_id": names.get(o.lead_id, "")}) for o in outcomes]


_SORTS: dict[str, tuple[tuple[Any, ...], bool]] = {
    "-occurred_on": ((Outcome.occurred_on, Outcome.id), False),
    "updated_at": ((Outcome.updated_at, Outcome.id), True),
}


@dataclass(frozen=True, slots=True)
class OutcomeList:
    items: list[OutcomeRead]
    next_cursor: str | None


def page_outcomes(session: Session, filters: OutcomeFilters, *, user: User | None) -> OutcomeList:
    """Outcomes of the leads the user may see, newest first or (sync) least recently changed first, by cursor."""
    keys, ascending = _SORTS[filters.sort]
    where: list[ColumnElement[bool]] = []
    if user is not None:
        where.append(Outcome.lead_id.in_(select(Lead.id).where(visible_leads_clause(user))))
    if filters.lead_id is not None:
        where.append(Outcome.lead_id == filters.lead_id)
    if filters.kind is not None:
        where.append(Outcome.kind == filters.kind.value)
    if filters.occurred_from is not None:
        where.append(Outcome.occurred_on >= filters.occurred_from)
    if filters.occurred_to is not None:
        where.append(Outcome.occurred_on <= filters.occurred_to)
    if filters.updated_since is not None:
        where.append(Outcome.updated_at >= filters.updated_since)
    kind = f"outcomes:{filters.sort}"
    if filters.cursor is not None:
        values = decode_cursor(filters.cursor, kind)
        try:
            first = (literal(datetime.fromisoformat(str(values[0])), UTCDateTime()) if ascending
                     else literal(date.fromisoformat(str(values[0])), Date()))
            after = tuple_(first, literal(uuid.UUID(str(values[1])), Uuid()))
        except (IndexError, TypeError, ValueError):
            raise ValidationFailedError("cursor: not a cursor of this list and sort",
                                        [{"row": None, "field": "cursor", "message": "invalid cursor"}]) from None
        where.append(tuple_(*keys) > after if ascending else tuple_(*keys) < after)
    order = list(keys) if ascending else [key.desc() for key in keys]
    rows = list(session.scalars(select(Outcome).where(*where).order_by(*order).limit(filters.limit + 1)))
    page, more = rows[:filters.limit], len(rows) > filters.limit
    last = page[-1] if page else None
    next_cursor = encode_cursor(kind, [getattr(last, keys[0].key), last.id]) if more and last else None
    return OutcomeList(read(session, page), next_cursor)


def lead_summary(session: Session, lead_id: uuid.UUID, *, user: User | None) -> LeadOutcomeSummary:
    lead = visible_lead(session, lead_id, user)
    return summaries(session, [lead])[lead.id]


def summaries(session: Session, leads: Sequence[Lead]) -> dict[uuid.UUID, LeadOutcomeSummary]:
    """Dollars recovered, first payment and promises per lead (two grouped queries for the whole list)."""
    ids = [lead.id for lead in leads]
    totals = {row.lead_id: row for row in session.execute(
        select(Outcome.lead_id,
               func.coalesce(func.sum(Outcome.amount).filter(Outcome.kind == OutcomeKind.PAYMENT.value), 0)
               .label("recovered"),
               func.count().filter(Outcome.kind == OutcomeKind.PAYMENT.value).label("payments"),
               func.min(Outcome.occurred_on).filter(Outcome.kind == OutcomeKind.PAYMENT.value).label("first"),
               *(func.count().filter(and_(Outcome.kind == OutcomeKind.PROMISE.value,
                                          Outcome.promise_status == status.value)).label(status.value)
                 for status in PromiseStatus),
               func.count().filter(Outcome.kind == OutcomeKind.DISPUTE.value).label("disputes"))
        .where(Outcome.lead_id.in_(ids)).group_by(Outcome.lead_id))} if ids else {}
    first_signals = {row.lead_id: row.first for row in session.execute(
        select(Signal.lead_id, func.min(Signal.detected_at).label("first"))
        .where(Signal.lead_id.in_(ids)).group_by(Signal.lead_id))} if ids else {}
    result: dict[uuid.UUID, LeadOutcomeSummary] = {}
    for lead in leads:
        row = totals.get(lead.id)
        first: date | None = row.first if row is not None else None
        first_signal = first_signals.get(lead.id)
        result[lead.id] = LeadOutcomeSummary(
            lead_id=lead.id, recovered=Decimal(row.recovered) if row is not None else Decimal("0"),
            payments=row.payments if row is not None else 0, first_payment_on=first,
            days_to_first_payment=(first - lead.created_at.date()).days if first else None,
            days_from_first_signal=(first - first_signal.date()).days if first and first_signal else None,
            promises_pending=getattr(row, "pending", 0) if row is not None else 0,
            promises_kept=getattr(row, "kept", 0) if row is not None else 0,
            promises_broken=getattr(row, "broken", 0) if row is not None else 0,
            open_disputes=row.disputes if row is not None else 0)
    return result


# --------------------------------------------------------------------------------------------------
# Promises


def settle_promises(session: Session, *, today: date | None = None) -> tuple[int, int]:
    """Pending promises past due (and the grace days): kept when the lead's payments from the promise's day to the
    due date (plus grace) reach its amount (any payment, for a promise without one), else broken. ``(kept,
    broken)``."""
    today = today or utcnow().date()
    kept = broken = 0
    cutoff = today - timedelta(days=PROMISE_GRACE_DAYS)
    for promise in session.scalars(select(Outcome).where(
            Outcome.kind == OutcomeKind.PROMISE.value, Outcome.promise_status == PromiseStatus.PENDING.value,
            Outcome.due_on < cutoff).limit(10_000)):
        assert promise.due_on is not None
        paid = session.execute(select(func.count(), func.coalesce(func.sum(Outcome.amount), 0)).where(
            Outcome.lead_id == promise.lead_id, Outcome.kind == OutcomeKind.PAYMENT.value,
            Outcome.occurred_on >= promise.occurred_on,
            Outcome.occurred_on <= promise.due_on + timedelta(days=PROMISE_GRACE_DAYS))).one()
        is_kept = paid[0] > 0 and (promise.amount is None or Decimal(str(paid[1] or 0)) >= promise.amount)
        promise.promise_status = (PromiseStatus.KEPT if is_kept else PromiseStatus.BROKEN).value
        kept, broken = kept + is_kept, broken + (not is_kept)
    session.flush()
    return kept, broken


# --------------------------------------------------------------------------------------------------
# Import


#: File columns → fields (lower-cased, spaces and dashes as underscores).
_COLUMNS = {"external_id": "external_id", "outcome_id": "external_id", "id": "external_id",
            "lead_external_id": "lead_external_id", "lead_id": "lead_external_id", "account_id": "lead_external_id",
            "kind": "kind", "type": "kind", "amount": "amount", "date": "occurred_on", "occurred_on": "occurred_on",
            "due_date": "due_on", "due_on": "due_on", "promise_status": "promise_status", "status": "promise_status",
            "note": "note", "portfolio": "portfolio"}
_REQUIRED = ("external_id", "lead_external_id", "kind", "occurred_on")


def import_outcomes(session: Session, source: str | Path | bytes | IO[bytes], *, actor: str,
                    filename: str | None = None, portfolio: str | None = None, dry_run: bool = False,
                    max_errors: int = 100) -> OutcomeImportReport:
    """A lender's outcomes file (CSV, XLSX, JSON), keyed by each row's ``external_id``: every row checked before
    anything is written (``OutcomeImportFailed`` names each bad row and field, nothing written); a re-import
    changes nothing. One audit entry records the import."""
    reader = LeadFileReader(source, filename=filename)
    report = OutcomeImportReport(file=reader.filename, dry_run=dry_run)
    rows: list[tuple[int, OutcomeFields, str, str, str | None]] = []
    seen: dict[str, int] = {}
    try:
        for number, raw in reader:
            report.total += 1
            parsed = _parse_row(number, raw, portfolio, report, seen)
            if parsed is not None:
                rows.append(parsed)
    finally:
        reader.close()
    leads = _leads_by_external_id(session, [(r[2], r[4] or portfolio) for r in rows])
    for number, _fields, lead_external_id, _ext, row_portfolio in rows:
        key = (lead_external_id, row_portfolio or portfolio)
        found = leads.get(key)
        if found is None:
            _error(report, number, "lead_external_id", f"no lead {lead_external_id!r}"
                   + (f" in portfolio {key[1]!r}" if key[1] else ""))
        elif found == "ambiguous":
            _error(report, number, "portfolio", "several portfolios have this lead id: add a portfolio column")
    if report.errors:
        del report.errors[max_errors:]
        raise OutcomeImportFailed(f"{len({e.row for e in report.errors})} row(s) are invalid; nothing was imported",
                                  report)
    for _number, fields, lead_external_id, external_id, row_portfolio in rows:
        lead_id = leads[(lead_external_id, row_portfolio or portfolio)]
        assert isinstance(lead_id, uuid.UUID)
        if dry_run:
            existing = session.scalar(select(Outcome).where(Outcome.external_id == external_id))
            report.created += existing is None
            report.unchanged += existing is not None
            continue
        _, created, changed = _upsert(session, lead_id, fields, external_id, source=OutcomeSource.IMPORT, actor=actor)
        report.created += created
        report.updated += changed
        report.unchanged += not created and not changed
    if not dry_run:
        record(session, actor=actor, action="outcome.import", entity_type="outcome_file", entity_id=None,
               details=report.model_dump(include={"file", "total", "created", "updated", "unchanged"}))
    return report


def _error(report: OutcomeImportReport, row: int | None, field: str | None, message: str) -> None:
    report.errors.append(OutcomeImportError(row=row, field=field, message=message))


def _parse_row(number: int, raw: Mapping[str, Any], portfolio: str | None, report: OutcomeImportReport,
               seen: dict[str, int]) -> tuple[int, OutcomeFields, str, str, str | None] | None:
    values: dict[str, Any] = {}
    for column, value in raw.items():
        name = _COLUMNS.get(str(column).strip().lower().replace(" ", "_").replace("-", "_"))
        if name is not None and value not in (None, ""):
            values[name] = value.strip() if isinstance(value, str) else value
    missing = [name for name in _REQUIRED if name not in values]
    for name in missing:
        _error(report, number, name, "is required")
    if missing:
        return None
    external_id = str(values.pop("external_id"))
    if external_id in seen:
        _error(report, number, "external_id", f"repeats row {seen[external_id]}")
        return None
    seen[external_id] = number
    lead_external_id = str(values.pop("lead_external_id"))
    row_portfolio = values.pop("portfolio", None)
    for name in ("occurred_on", "due_on"):
        if isinstance(values.get(name), datetime):
            values[name] = values[name].date()
    if isinstance(values.get("kind"), str):
        values["kind"] = values["kind"].lower().replace(" ", "_")
    if isinstance(values.get("promise_status"), str):
        values["promise_status"] = values["promise_status"].lower()
    if "amount" in values:
        try:
            values["amount"] = Decimal(str(values["amount"]).replace("$", "").replace(",", "")).quantize(
                Decimal("0.01"))
        except InvalidOperation:
            _error(report, number, "amount", "not an amount")
            return None
    try:
        fields = OutcomeFields.model_validate(values)
    except ValidationError as exc:
        for item in exc.errors():
            location = ".".join(str(part) for part in item["loc"]) or None
            message = str(item["msg"]).removeprefix("Value error, ")
            field, _, rest = message.partition(": ")
            if location is None and rest:
                location, message = field, rest
            _error(report, number, location, message)
        return None
    return number, fields, lead_external_id, external_id, str(row_portfolio) if row_portfolio else None


def _leads_by_external_id(session: Session, keys: Iterable[tuple[str, str | None]]
                          ) -> dict[tuple[str, str | None], uuid.UUID | str]:
    """``(lead external id, portfolio or None)`` → the lead's id, or "ambiguous" (one query per 500 ids)."""
    wanted = sorted(set(keys), key=lambda key: (key[0], key[1] or ""))
    found: dict[tuple[str, str | None], uuid.UUID | str] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        rows = session.execute(select(Lead.id, Lead.external_id, Portfolio.name)
                               .join(Portfolio, Portfolio.id == Lead.portfolio_id)
                               .where(Lead.external_id.in_({key[0] for key in chunk}),
                                      Lead.merged_into_id.is_(None))).all()
        for external_id, portfolio_name in chunk:
            matches = [row.id for row in rows if row.external_id == external_id
                       and (portfolio_name is None or row.name == portfolio_name)]
            if matches:
                found[(external_id, portfolio_name)] = matches[0] if len(matches) == 1 else "ambiguous"
    return found

