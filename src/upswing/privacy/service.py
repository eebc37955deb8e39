"""Data-subject requests (access/export, erasure, correction, opt-out), erasure tombstones and retention.

What belongs to a person is found generically: the lead rows that are them (a lead and the duplicates merged
into it), then every row of every table that references one of those rows by foreign key, recursively (so a
table added later, such as the contact ledger, is covered without a change here), plus the observations about
them that are not linked yet (in review for them, or carrying their LinkedIn id or e-mail address).

Services never commit; the API endpoint or CLI command does.
"""

from __future__ import annotations

import calendar
import io
import json
import re
import uuid
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Table, Text, and_, cast, delete, func, inspect, or_, select, true, update
from sqlalchemy.orm import Session

from upswing.audit import service as audit
from upswing.audit.models import AuditEntry
from upswing.core.crypto import DecryptionError, get_key_ring, is_encrypted
from upswing.core.csvsafe import SafeWriter
from upswing.core.db import Base, utcnow
from upswing.core.errors import ConflictError, NotFoundError, ValidationFailedError
from upswing.core.pagination import capped_count
from upswing.lead import queries as lead_queries
from upswing.lead.models import Lead
from upswing.observation.models import Observation, ObservationKind
from upswing.privacy import sealing
from upswing.privacy.models import (
    CLOSED_STATUSES,
    DataSubjectRequest,
    ErasureTombstone,
    RequestStatus,
    RequestType,
    TombstoneKind,
)
from upswing.privacy.policy import PrivacyPolicy, Regime
from upswing.privacy.policy import current as current_policy
from upswing.privacy.tombstones import (
    canonical_email,
    canonical_linkedin,
    canonical_phone,
    erased_keys,
    identifier_keys,
)
from upswing.resolution.models import Match, MatchOutcome
from upswing.signal.models import Evidence, Signal, SignalStatus

_CHUNK = 500
#: Never treated as "about the person" even if they reference a lead: the request queue is the record that
#: a request was answered; tombstones and the audit log hold no PII.
_NOT_OWNED = {"privacy_requests", "privacy_tombstones", "audit_log"}

# --------------------------------------------------------------------------------------------------------------
# Subjects and tombstones
# --------------------------------------------------------------------------------------------------------------


@dataclass
class Subject:
    """What a requester gives to be found: any of these (all optional)."""

    email: str | None = None
    phone: str | None = None
    linkedin: str | None = None  # a profile URL or public id
    first_name: str | None = None
    last_name: str | None = None
    birth_date: date | None = None
    external_id: str | None = None
    lead_ids: list[uuid.UUID] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"email": self.email, "phone": self.phone, "linkedin": self.linkedin, "first_name": self.first_name,
                "last_name": self.last_name, "birth_date": self.birth_date.isoformat() if self.birth_date else None,
                "external_id": self.external_id}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Subject:
        birth = data.get("birth_date")
        return cls(email=data.get("email"), phone=data.get("phone"), linkedin=data.get("linkedin"),
                   first_name=data.get("first_name"), last_name=data.get("last_name"),
                   birth_date=date.fromisoformat(birth) if birth else None, external_id=data.get("external_id"))


def _add_tombstones(session: Session, keys: Iterable[tuple[TombstoneKind, str]], request_id: uuid.UUID) -> int:
    keys = set(keys)
    existing = erased_keys(session, keys)
    added = 0
    for kind, index in keys:
        if (str(kind), index) not in existing:
            session.add(ErasureTombstone(kind=kind.value, value_index=index, request_id=request_id))
            added += 1
    session.flush()
    return added


# --------------------------------------------------------------------------------------------------------------
# Deadlines
# --------------------------------------------------------------------------------------------------------------

CCPA_ACKNOWLEDGE_BUSINESS_DAYS = 10
CCPA_ANSWER_DAYS = 45
CCPA_EXTENSION_DAYS = 45
GDPR_ANSWER_MONTHS = 1
GDPR_EXTENSION_MONTHS = 2


def add_business_days(start: datetime, days: int) -> datetime:
    """``days`` weekdays after ``start`` (Saturday and Sunday skipped; public holidays are not known)."""
    current = start
    while days > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


def add_months(start: datetime, months: int) -> datetime:
    """The same day ``months`` later, or the month's last day when it has no such day (Jan 31 → Feb 28)."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return start.replace(year=year, month=month, day=min(start.day, calendar.monthrange(year, month)[1]))


def deadlines(regime: Regime, received_at: datetime) -> tuple[datetime | None, datetime]:
    """``(acknowledge_by, due_at)``: CCPA 10 business days and 45 days; GDPR one month (no separate ack)."""
    if regime is Regime.CCPA:
        return (add_business_days(received_at, CCPA_ACKNOWLEDGE_BUSINESS_DAYS),
                received_at + timedelta(days=CCPA_ANSWER_DAYS))
    return None, add_months(received_at, GDPR_ANSWER_MONTHS)


# --------------------------------------------------------------------------------------------------------------
# The request queue
# --------------------------------------------------------------------------------------------------------------


def _audit(session: Session, request: DataSubjectRequest, action: str, actor: str, **details: Any) -> None:
    # Ids, types and counts only: the audit log is append-only and must never hold personal data.
    audit.record(session, actor=actor, action=f"privacy.dsar.{action}", entity_type="privacy_request",
                 entity_id=request.id, details=details)


_SUBJECT_CONTEXT = "privacy_requests.subject_encrypted"  # "table.column", as every encrypted column


def _seal(subject: Subject) -> str:
    return get_key_ring().encrypt_json(subject.to_json(), context=_SUBJECT_CONTEXT)


def subject_of(request: DataSubjectRequest) -> Subject:
    """The identifiers the requester gave (empty once an erasure has wiped them)."""
    if request.subject_encrypted is None:
        return Subject()
    return Subject.from_json(get_key_ring().decrypt_json(request.subject_encrypted,
                                                         context=_SUBJECT_CONTEXT))


def find_leads(session: Session, subject: Subject) -> list[uuid.UUID]:
    """The leads that are this person: by id, external id, e-mail, phone or LinkedIn id, and every duplicate
    merged into one of them."""
    conditions: list[Any] = []
    if subject.lead_ids:
        conditions.append(Lead.id.in_(subject.lead_ids))
    if subject.external_id:
        conditions.append(Lead.external_id == subject.external_id)
    # E-mails and phones are encrypted at rest: they are found through their blind indexes (lead.pii).
    if subject.email:
        conditions.append(lead_queries.has_email(session, canonical_email(subject.email)))
    if subject.phone:
        conditions.append(lead_queries.has_phone(session, canonical_phone(subject.phone)))
    if subject.linkedin:
        conditions.append(Lead.linkedin_public_id == canonical_linkedin(subject.linkedin))
    if not conditions:
        return []
    found = set(session.scalars(select(Lead.id).where(or_(*conditions))))
    frontier = set(found)
    while frontier:  # duplicates merged into them (and merged into those) are the same person
        merged = set(session.scalars(select(Lead.id).where(Lead.merged_into_id.in_(frontier)))) - found
        found |= merged
        frontier = merged
    return sorted(found, key=str)


def create_request(session: Session, *, type_: RequestType, subject: Subject, actor: str,
                   regime: Regime | None = None, received_at: datetime | None = None,
                   policy: PrivacyPolicy | None = None) -> DataSubjectRequest:
    """Queue a request with its deadlines; the leads it concerns are found now (and again when it is acted on)."""
    if not (subject.lead_ids or subject.external_id or subject.email or subject.phone or subject.linkedin
            or (subject.first_name and subject.last_name and subject.birth_date)):
        raise ValidationFailedError(
            "a request needs at least one identifier: lead id, external id, e-mail, phone, LinkedIn, "
            "or name with birth date", [{"row": None, "field": "subject", "message": "no identifier given"}])
    regime = regime or (policy or current_policy()).default_regime
    received = received_at or utcnow()
    if received.tzinfo is None:
        raise ValidationFailedError("received_at needs a time zone",
                                    [{"row": None, "field": "received_at", "message": "naive datetime"}])
    acknowledge_by, due_at = deadlines(regime, received)
    request = DataSubjectRequest(
        type=type_.value, regime=regime.value, status=RequestStatus.RECEIVED.value, received_at=received,
        acknowledge_by=acknowledge_by, due_at=due_at, extended=False,
        subject_lead_ids=[str(i) for i in find_leads(session, subject)], subject_encrypted=_seal(subject),
        outcome={}, created_by=actor)
    session.add(request)
    session.flush()
    _audit(session, request, "create", actor, type=type_.value, regime=regime.value,
           leads=len(request.subject_lead_ids))
    return request


def get_request(session: Session, request_id: uuid.UUID | str) -> DataSubjectRequest:
    try:
        key = request_id if isinstance(request_id, uuid.UUID) else uuid.UUID(str(request_id))
    except ValueError:
        raise NotFoundError(f"request {request_id} not found") from None
    request = session.get(DataSubjectRequest, key)
    if request is None:
        raise NotFoundError(f"request {request_id} not found")
    return request


def is_overdue(request: DataSubjectRequest, now: datetime) -> bool:
    if request.status in CLOSED_STATUSES:
        return False
    late_ack = (request.status == RequestStatus.RECEIVED.value and request.acknowledge_by is not None
                and request.acknowledge_by < now)
    return request.due_at < now or late_ack


def list_requests(session: Session, *, status: RequestStatus | None = None, type_: RequestType | None = None,
                  overdue: bool = False, now: datetime | None = None, limit: int = 100,
                  offset: int = 0) -> tuple[list[DataSubjectRequest], int]:
    """Requests by due date (soonest first); ``overdue``: open ones past a deadline (answer or CCPA ack)."""
    now = now or utcnow()
    query = select(DataSubjectRequest)
    if status is not None:
        query = query.where(DataSubjectRequest.status == status.value)
    if type_ is not None:
        query = query.where(DataSubjectRequest.type == type_.value)
    if overdue:
        query = query.where(
            DataSubjectRequest.status.not_in(CLOSED_STATUSES),
            or_(DataSubjectRequest.due_at < now,
                and_(DataSubjectRequest.status == RequestStatus.RECEIVED.value,
                     DataSubjectRequest.acknowledge_by < now)))
    total, _ = capped_count(session, query)
    rows = session.scalars(query.order_by(DataSubjectRequest.due_at, DataSubjectRequest.id).limit(limit)
                           .offset(offset))
    return list(rows), total


def _open(session: Session, request_id: uuid.UUID | str, *types: RequestType) -> DataSubjectRequest:
    request = get_request(session, request_id)
    if request.status in CLOSED_STATUSES:
        raise ConflictError(f"request {request.id} is {request.status}")
    if types and request.type not in {t.value for t in types}:
        raise ConflictError(f"request {request.id} is an {request.type} request, not "
                            f"{' or '.join(t.value for t in types)}")
    return request


def acknowledge(session: Session, request_id: uuid.UUID | str, *, actor: str) -> DataSubjectRequest:
    request = _open(session, request_id)
    if request.status != RequestStatus.RECEIVED.value:
        raise ConflictError(f"request {request.id} is already {request.status}")
    request.status, request.acknowledged_at = RequestStatus.ACKNOWLEDGED.value, utcnow()
    _audit(session, request, "acknowledge", actor)
    return request


def start(session: Session, request_id: uuid.UUID | str, *, actor: str) -> DataSubjectRequest:
    request = _open(session, request_id)
    if request.status == RequestStatus.IN_PROGRESS.value:
        return request
    if request.acknowledged_at is None:
        request.acknowledged_at = utcnow()
    request.status = RequestStatus.IN_PROGRESS.value
    _audit(session, request, "start", actor)
    return request


def extend(session: Session, request_id: uuid.UUID | str, *, actor: str) -> DataSubjectRequest:
    """Move the answer deadline once: CCPA by 45 days, GDPR by two months (the requester must be told why)."""
    request = _open(session, request_id)
    if request.extended:
        raise ConflictError(f"request {request.id} was already extended once")
    request.due_at = (request.due_at + timedelta(days=CCPA_EXTENSION_DAYS) if request.regime == Regime.CCPA.value
                      else add_months(request.due_at, GDPR_EXTENSION_MONTHS))
    request.extended = True
    _audit(session, request, "extend", actor, due_at=request.due_at.isoformat())
    return request


def reject(session: Session, request_id: uuid.UUID | str, *, reason: str, actor: str) -> DataSubjectRequest:
    """Close without acting (e.g. identity not verified, or a legal obligation to keep the records)."""
    if not reason.strip():
        raise ValidationFailedError("a rejection needs a reason",
                                    [{"row": None, "field": "reason", "message": "is required"}])
    request = _open(session, request_id)
    request.status, request.rejection_reason, request.completed_at = (
        RequestStatus.REJECTED.value, reason.strip(), utcnow())
    _audit(session, request, "reject", actor)
    return request


def complete(session: Session, request_id: uuid.UUID | str, *, actor: str) -> DataSubjectRequest:
    """Close an access request (once its export was sent) or one whose action is done."""
    request = _open(session, request_id)
    if request.type != RequestType.ACCESS.value:
        raise ConflictError(f"an {request.type} request completes when it is carried out "
                            f"(upswing privacy dsar {request.type.replace('_', '-')})")
    if not request.outcome.get("exported"):
        raise ConflictError(f"request {request.id}: export the data before completing the request")
    return _close(session, request, actor)


def _close(session: Session, request: DataSubjectRequest, actor: str) -> DataSubjectRequest:
    now = utcnow()
    request.status, request.completed_at = RequestStatus.COMPLETED.value, now
    request.acknowledged_at = request.acknowledged_at or now
    _audit(session, request, "complete", actor, type=request.type)
    return request


def _subject_leads(session: Session, request: DataSubjectRequest) -> list[uuid.UUID]:
    subject = subject_of(request)
    subject.lead_ids = [uuid.UUID(i) for i in request.subject_lead_ids]
    return find_leads(session, subject)


# --------------------------------------------------------------------------------------------------------------
# Everything about a person
# --------------------------------------------------------------------------------------------------------------


@dataclass
class _Owned:
    """Per table: the person's rows (as read) and their primary keys."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    keys: dict[str, set[Any]] = field(default_factory=dict)


def _tables(session: Session) -> list[Table]:
    """Mapped tables that exist in this database, parents before children."""
    existing = set(inspect(session.connection()).get_table_names())
    return [t for t in Base.metadata.sorted_tables if t.name in existing and t.name not in _NOT_OWNED]


def _primary_key(table: Table) -> Column[Any] | None:
    columns = list(table.primary_key.columns)
    return columns[0] if len(columns) == 1 else None


def _observations_about(session: Session, lead_ids: Sequence[uuid.UUID], linkedin_ids: set[str], emails: set[str],
                        names: set[str]) -> set[uuid.UUID]:
    """Unlinked observations that are about the person: in review (or linked) for one of their leads, or
    whose subject key or payload names their LinkedIn id, e-mail address or full name (a text that mentions
    them; an unlinked namesake's item goes too, which errs on the side of the person asking)."""
    found: set[uuid.UUID] = set()
    open_outcomes = (MatchOutcome.REVIEW.value, MatchOutcome.LINKED.value, MatchOutcome.APPROVED.value)
    for start in range(0, len(lead_ids), _CHUNK):
        found.update(session.scalars(
            select(Match.observation_id).join(Observation, Observation.id == Match.observation_id)
            .where(Match.lead_id.in_(lead_ids[start:start + _CHUNK]), Match.outcome.in_(open_outcomes),
                   or_(Observation.lead_id.is_(None), Observation.lead_id.in_(lead_ids[start:start + _CHUNK])))))
    from upswing.observation.service import email_subject_key

    keys = {f"li:{i}" for i in linkedin_ids} | {email_subject_key(e) for e in emails}
    if keys:
        found.update(session.scalars(select(Observation.id).where(Observation.subject_key.in_(keys),
                                                                   Observation.lead_id.is_(None))))
    # Sealed identifiers: the blind indexes kept with the observation (privacy.sealing).
    ring = get_key_ring()
    sealed = [sealing.email_index(ring, e) for e in emails]
    if sealed:
        index_text = cast(Observation.identifier_index, Text)
        found.update(session.scalars(select(Observation.id).where(
            Observation.lead_id.is_(None), or_(*[index_text.contains(i, autoescape=True) for i in sealed]))))
    # Payload text: a JSON string value equal to the LinkedIn id, or the e-mail address or full name anywhere
    # (observations stored before sealing).
    needles = [f'"{i}"' for i in linkedin_ids] + sorted(emails) + sorted(names)
    if needles:
        text_of = [cast(Observation.raw, Text), cast(Observation.normalized, Text)]
        matches = [column.contains(needle, autoescape=True) for needle in needles for column in text_of]
        found.update(session.scalars(select(Observation.id).where(Observation.lead_id.is_(None), or_(*matches))))
    return found


def _collect(session: Session, lead_ids: Sequence[uuid.UUID], observation_ids: set[uuid.UUID]) -> _Owned:
    """Every row that is about the person: the leads (and the given observations), then recursively every row
    of every table whose foreign key points at a row already found."""
    owned = _Owned()
    tables = _tables(session)
    by_name = {str(t.name): t for t in tables}
    pending: dict[str, list[tuple[Column[Any], list[Any]]]] = {}
    seeds = {"leads": set(lead_ids), "observations": set(observation_ids)}
    for name, ids in seeds.items():
        pk = _primary_key(by_name[name]) if name in by_name else None
        if ids and pk is not None:
            pending[name] = [(pk, sorted(ids, key=str))]
    while pending:
        name, conditions = pending.popitem()
        table = by_name[name]
        new_keys = _fetch(session, owned, table, conditions)
        if not new_keys:
            continue
        for child in tables:
            for fk in child.foreign_keys:
                if fk.column.table is table and fk.column.primary_key:
                    pending.setdefault(str(child.name), []).append((fk.parent, sorted(new_keys, key=str)))
    return owned


def _fetch(session: Session, owned: _Owned, table: Table, conditions: list[tuple[Column[Any], list[Any]]],
           ) -> set[Any]:
    """Load the table's rows matching any condition; returns the primary keys of rows not seen before."""
    pk = _primary_key(table)
    seen = owned.keys.setdefault(str(table.name), set())
    rows = owned.rows.setdefault(str(table.name), [])
    new: set[Any] = set()
    for column, ids in conditions:
        for start in range(0, len(ids), _CHUNK):
            for row in session.execute(select(table).where(column.in_(ids[start:start + _CHUNK]))).mappings():
                key = row[pk.name] if pk is not None else tuple(row[c.name] for c in table.primary_key.columns)
                if key in seen:
                    continue
                seen.add(key)
                rows.append(dict(row))
                new.add(key)
    return new if pk is not None else set()


def _jsonable(value: Any) -> Any:
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


Identifiers = tuple[set[str], set[str], set[str], list[tuple[str, str, Any]]]


def _person_identifiers(owned: _Owned, subject: Subject) -> Identifiers:
    """(LinkedIn ids, e-mails, phones, (first, last, birth date)) from the lead rows, profiles and request."""
    linkedin_ids: set[str] = set()
    emails: set[str] = set()
    phones: set[str] = set()
    births: list[tuple[str, str, Any]] = []
    if subject.linkedin:
        linkedin_ids.add(canonical_linkedin(subject.linkedin))
    if subject.email:
        emails.add(canonical_email(subject.email))
    if subject.phone:
        phones.add(canonical_phone(subject.phone))
    if subject.first_name and subject.last_name and subject.birth_date:
        births.append((subject.first_name, subject.last_name, subject.birth_date))
    for lead in owned.rows.get("leads", []):
        if lead.get("linkedin_public_id"):
            linkedin_ids.add(str(lead["linkedin_public_id"]).lower())
        emails.update(canonical_email(e) for e in [lead.get("email"), *(lead.get("emails") or [])] if e)
        numbers = [lead.get("phone"), *((p or {}).get("number") for p in (lead.get("phones") or []))]
        phones.update(canonical_phone(n) for n in numbers if n)
        if lead.get("birth_date") and lead.get("first_name") and lead.get("last_name"):
            births.append((lead["first_name"], lead["last_name"], lead["birth_date"]))
    ring = get_key_ring()
    for observation in owned.rows.get("observations", []):
        if observation.get("kind") != ObservationKind.PROFILE.value:
            continue
        normalized = sealing.reveal_identifiers(observation.get("normalized") or {}, ring)
        if normalized.get("public_identifier"):
            linkedin_ids.add(str(normalized["public_identifier"]).lower())
        emails.update(canonical_email(e) for e in normalized.get("emails") or [] if e)
    return linkedin_ids, emails, phones, births


def _gather(session: Session, request: DataSubjectRequest) -> tuple[_Owned, Subject]:
    subject = subject_of(request)
    lead_ids = _subject_leads(session, request)
    first = _collect(session, lead_ids, set())
    linkedin_ids, emails, _, _ = _person_identifiers(first, subject)
    names = {f"{lead['first_name']} {lead['last_name']}" for lead in first.rows.get("leads", [])}
    if subject.first_name and subject.last_name:
        names.add(f"{subject.first_name} {subject.last_name}")
    extra = _observations_about(session, lead_ids, linkedin_ids, emails, names)
    known = first.keys.get("observations", set())
    if extra - known:
        return _collect(session, lead_ids, extra | known), subject
    return first, subject


# --------------------------------------------------------------------------------------------------------------
# Access / export
# --------------------------------------------------------------------------------------------------------------


@dataclass
class SubjectExport:
    request_id: uuid.UUID
    generated_at: datetime
    tables: dict[str, list[dict[str, Any]]]
    audit_entries: list[dict[str, Any]]

    def as_json(self) -> dict[str, Any]:
        return {"request_id": str(self.request_id), "generated_at": self.generated_at.isoformat(),
                "tables": self.tables, "audit_log": self.audit_entries}

    def write_zip(self) -> bytes:
        """``export.json`` (everything) plus one CSV per table (JSON values as JSON text in their cells)."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("export.json", json.dumps(self.as_json(), indent=2, ensure_ascii=False))
            for name, rows in {**self.tables, "audit_log": self.audit_entries}.items():
                archive.writestr(f"{name}.csv", _csv(rows))
        return buffer.getvalue()

    def write_directory(self, directory: Path) -> list[Path]:
        directory.mkdir(parents=True, exist_ok=True)
        written = [directory / "export.json"]
        written[0].write_text(json.dumps(self.as_json(), indent=2, ensure_ascii=False), encoding="utf-8")
        for name, rows in {**self.tables, "audit_log": self.audit_entries}.items():
            path = directory / f"{name}.csv"
            path.write_text(_csv(rows), encoding="utf-8")
            written.append(path)
        return written


def _csv(rows: list[dict[str, Any]]) -> str:
    """One CSV per table, every cell neutralised against formula injection (the person opens it in a
    spreadsheet, and their rows hold text other people typed or scraped)."""
    out = io.StringIO()
    columns: list[str] = []
    for row in rows:
        columns.extend(c for c in row if c not in columns)
    writer = SafeWriter(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return out.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


#: Encryption contexts that are not "table.column" (the compliance domain seals every target with one context).
_OTHER_CONTEXTS = ("compliance.target",)


def _reveal(table: str, row: dict[str, Any]) -> dict[str, Any]:
    """The row with encrypted values decrypted: the person gets their data, not our ciphertexts. Tried with the
    contexts the domains use ("table.column", the column, none); a value no key opens stays as it is."""
    ring = get_key_ring()
    revealed = dict(row)
    for column, value in row.items():
        if isinstance(value, dict | list):  # e-mails and phones sealed inside stored payloads
            revealed[column] = sealing.reveal_identifiers(value, ring)
            continue
        if not is_encrypted(value):
            continue
        for context in (f"{table}.{column}", column, table, *_OTHER_CONTEXTS, ""):
            try:
                revealed[column] = ring.decrypt(value, context=context)
                break
            except DecryptionError:
                continue
    return revealed


#: Columns (and keys of stored JSON, such as a merge's snapshot of the merged lead) that hold our look-up hashes
#: of the person's identifiers: blind indexes, keyed HMACs that only find rows. The export is the person's own
#: data, so it carries their decrypted values and leaves these out.
_LOOKUP_HASH_KEYS = frozenset({"email_bidx", "phone_bidx", "contact_bidx", "target_index", "value_index",
                               "identifier_index"})
#: A value that is such a hash: a subject key of a profile known only by its e-mail (``email:<hmac>``), or an
#: audit entry's pseudonym of an identifier (``hmac:<hmac>``).
_LOOKUP_HASH_VALUE = re.compile(r"(?:email|hmac):[0-9a-f]{32,64}")


def _is_lookup_hash(value: Any) -> bool:
    if isinstance(value, str):
        return _LOOKUP_HASH_VALUE.fullmatch(value) is not None
    return isinstance(value, list) and bool(value) and all(_is_lookup_hash(item) for item in value)


def without_lookup_hashes(value: Any) -> Any:
    """``value`` without our blind indexes, wherever they are nested: keys named like one (``*_bidx``,
    ``target_index``, ``value_index``) and entries whose value is one are left out."""
    if isinstance(value, dict):
        return {key: without_lookup_hashes(item) for key, item in value.items()
                if not (str(key) in _LOOKUP_HASH_KEYS or str(key).endswith("_bidx") or _is_lookup_hash(item))}
    if isinstance(value, list):
        return [without_lookup_hashes(item) for item in value if not _is_lookup_hash(item)]
    return value


def export_request(session: Session, request_id: uuid.UUID | str, *, actor: str) -> SubjectExport:
    """Everything held about the person (raw observations included), for an access request; audited. Their
    encrypted values are decrypted; our look-up hashes of them are left out (``without_lookup_hashes``)."""
    request = _open(session, request_id, RequestType.ACCESS, RequestType.ERASURE)
    owned, _ = _gather(session, request)
    tables = {name: [without_lookup_hashes(_jsonable(_reveal(name, row))) for row in rows]
              for name, rows in owned.rows.items() if rows}
    ids = sorted({str(key) for keys in owned.keys.values() for key in keys if not isinstance(key, tuple)})
    entries: list[dict[str, Any]] = []
    for start in range(0, len(ids), _CHUNK):
        for entry in session.scalars(select(AuditEntry).where(AuditEntry.entity_id.in_(ids[start:start + _CHUNK]))
                                     .order_by(AuditEntry.id)):
            entries.append({"id": entry.id, "at": entry.at.isoformat(), "actor": entry.actor, "action": entry.action,
                            "entity_type": entry.entity_type, "entity_id": entry.entity_id,
                            "details": without_lookup_hashes(entry.details)})
    if request.status == RequestStatus.RECEIVED.value:
        request.status, request.acknowledged_at = RequestStatus.IN_PROGRESS.value, utcnow()
    request.outcome = {**request.outcome, "exported": True,
                       "export_counts": {name: len(rows) for name, rows in tables.items()}}
    _audit(session, request, "export", actor, counts=request.outcome["export_counts"])
    return SubjectExport(request.id, utcnow(), tables, sorted(entries, key=lambda e: e["id"]))


# --------------------------------------------------------------------------------------------------------------
# Erasure
# --------------------------------------------------------------------------------------------------------------


def erase(session: Session, request_id: uuid.UUID | str, *, actor: str) -> DataSubjectRequest:
    """Delete everything about the person, everywhere; keep only hashed tombstones so they are never
    collected again, and an audit entry naming the request id. The request's identifiers are wiped."""
    request = _open(session, request_id, RequestType.ERASURE)
    owned, subject = _gather(session, request)
    linkedin_ids, emails, phones, births = _person_identifiers(owned, subject)
    keys: list[tuple[TombstoneKind, str]] = []
    for value in linkedin_ids:
        keys += identifier_keys(linkedin_public_id=value)
    for value in emails:
        keys += identifier_keys(email=value)
    for value in phones:
        keys += identifier_keys(phone=value)
    for first, last, born in births:
        keys += identifier_keys(first_name=first, last_name=last, birth_date=born)
    tombstones = _add_tombstones(session, keys, request.id)

    deleted: dict[str, int] = {}
    by_name = {str(t.name): t for t in _tables(session)}
    for table in reversed(list(by_name.values())):  # children before parents
        rows = owned.rows.get(str(table.name))
        if not rows:
            continue
        pk = _primary_key(table)
        if pk is not None:
            ids = [row[pk.name] for row in rows]
            for start in range(0, len(ids), _CHUNK):
                session.execute(delete(table).where(pk.in_(ids[start:start + _CHUNK])))
        else:
            for row in rows:
                session.execute(delete(table).where(and_(*(c == row[c.name] for c in table.primary_key.columns))))
        deleted[str(table.name)] = len(rows)
    session.expire_all()  # rows went with Core deletes: loaded objects must not be flushed back
    request = get_request(session, request.id)
    request.subject_encrypted = None
    # Other requests about the same person (an access request answered before) lose their identifiers too.
    erased_ids = {str(i) for i in owned.keys.get("leads", set())}
    for other in session.scalars(select(DataSubjectRequest).where(DataSubjectRequest.id != request.id,
                                                                  DataSubjectRequest.subject_encrypted.is_not(None))):
        if erased_ids & set(other.subject_lead_ids):
            other.subject_encrypted = None
    request.outcome = {**request.outcome, "deleted": deleted, "tombstones": tombstones}
    _audit(session, request, "erase", actor, deleted=deleted, tombstones=tombstones)
    return _close(session, request, actor)


# --------------------------------------------------------------------------------------------------------------
# Correction and opt-out
# --------------------------------------------------------------------------------------------------------------

CORRECTABLE_FIELDS = ("first_name", "middle_name", "last_name", "email", "phone", "address", "city", "state",
                      "postal_code", "country", "employer", "title", "linkedin_url")


def _clean_correction(changes: dict[str, str | None]) -> dict[str, Any]:
    from upswing.core.identifiers import normalize_email, normalize_phone
    from upswing.lead.importer import normalize_country

    errors: list[dict[str, object]] = []
    clean: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in CORRECTABLE_FIELDS:
            errors.append({"row": None, "field": name,
                           "message": f"cannot be corrected (one of: {', '.join(CORRECTABLE_FIELDS)})"})
            continue
        text = (value or "").strip() or None
        if text is None and name in ("first_name", "last_name"):
            errors.append({"row": None, "field": name, "message": "is required"})
            continue
        try:
            if text is not None and name == "email":
                text = normalize_email(text)
            elif text is not None and name == "phone":
                text = normalize_phone(text)
            elif text is not None and name == "country":
                text = normalize_country(text)
            elif text is not None and name == "state":
                text = text.upper()
        except ValueError as exc:
            errors.append({"row": None, "field": name, "message": str(exc)})
            continue
        if name == "linkedin_url" and text is not None:
            from upswing.core.identifiers import normalize_linkedin_url

            normalized = normalize_linkedin_url(text)
            if normalized is None:
                errors.append({"row": None, "field": name, "message": "not a LinkedIn profile URL"})
                continue
            clean["linkedin_url"], clean["linkedin_public_id"] = normalized
            continue
        clean[name] = text
    if errors:
        raise ValidationFailedError("the correction is invalid; nothing was changed", errors)
    if not clean:
        raise ValidationFailedError("a correction needs at least one field",
                                    [{"row": None, "field": "changes", "message": "empty"}])
    return clean


def correct(session: Session, request_id: uuid.UUID | str, changes: dict[str, str | None], *,
            actor: str) -> DataSubjectRequest:
    """Apply the corrected values to every lead of the person; audited with the field names only."""
    request = _open(session, request_id, RequestType.CORRECTION)
    clean = _clean_correction(changes)
    lead_ids = _subject_leads(session, request)
    if not lead_ids:
        raise ConflictError(f"request {request.id}: no lead matches the person, nothing to correct")
    for lead in session.scalars(select(Lead).where(Lead.id.in_(lead_ids))):
        for name, value in clean.items():
            setattr(lead, name, value)
        if "email" in clean:
            lead.emails = [e for e in [clean["email"], *(lead.emails or [])] if e]
            lead.emails = list(dict.fromkeys(lead.emails))
        if clean.get("phone"):
            kinds = {p.get("number"): p.get("type") for p in lead.phones or []}
            lead.phones = [{"number": clean["phone"], "type": kinds.get(clean["phone"])},
                           *(p for p in lead.phones or [] if p.get("number") != clean["phone"])]
        audit.record(session, actor=actor, action="lead.correct", entity_type="lead", entity_id=lead.id,
                     details={"request_id": str(request.id), "fields": sorted(clean)})
    session.flush()
    request.outcome = {**request.outcome, "corrected_fields": sorted(clean), "leads": len(lead_ids)}
    return _close(session, request, actor)


def opt_out(session: Session, request_id: uuid.UUID | str, *, actor: str) -> DataSubjectRequest:
    """Suppress every e-mail address and phone number of the person on every channel (the contact guard's
    suppression list), and record it on the request."""
    from upswing.privacy import suppression
    from upswing.tracking import service as tracking_service

    request = _open(session, request_id, RequestType.OPT_OUT)
    owned, subject = _gather(session, request)
    _, emails, phones, _ = _person_identifiers(owned, subject)
    targets = sorted(emails | phones)
    if not targets:
        raise ConflictError(f"request {request.id}: no e-mail address or phone number is known for the person")
    suppressed = suppression.suppress(session, targets, actor=actor, reason=f"privacy request {request.id}")
    # "Do Not Sell or Share": the portal behaviour of the person's leads is deleted, and no more is kept or turned
    # into signals (upswing.tracking reads the completed opt-out requests' leads).
    lead_ids = sorted(owned.keys.get("leads", set()), key=str)
    request.subject_lead_ids = [str(i) for i in lead_ids]
    events = tracking_service.forget_behaviour(session, lead_ids, actor=actor)
    request.outcome = {**request.outcome, "suppressed": suppressed, "tracking_events_deleted": events}
    return _close(session, request, actor)


# --------------------------------------------------------------------------------------------------------------
# Retention
# --------------------------------------------------------------------------------------------------------------


@dataclass
class PurgeItem:
    table: str
    what: str
    cutoff: datetime
    count: int


@dataclass
class PurgeReport:
    mode: str
    dry_run: bool
    now: datetime
    items: list[PurgeItem]

    def as_json(self) -> dict[str, Any]:
        return {"mode": self.mode, "dry_run": self.dry_run, "now": self.now.isoformat(),
                "items": [{"table": i.table, "what": i.what, "cutoff": i.cutoff.isoformat(), "count": i.count}
                          for i in self.items]}


_CLOSED_SIGNAL_STATUSES = (SignalStatus.NEW.value, SignalStatus.RESOLVED.value, SignalStatus.DISMISSED.value)


def purge(session: Session, *, dry_run: bool = False, now: datetime | None = None,
          policy: PrivacyPolicy | None = None, actor: str = "system:retention") -> PurgeReport:
    """Apply the retention periods of the privacy mode (``dry_run``: count only, change nothing).

    * raw payloads of observations stored before the raw-payload cutoff are emptied (``{}``);
    * signals detected before the signal cutoff that nobody is working on (new, resolved, dismissed) are
      deleted with their evidence;
    * observations last seen before the observation cutoff are deleted, except evidence of a kept signal and
      each lead's latest profile snapshot (the next ingest diffs against it);
    * closed data-subject requests older than their record-keeping period are deleted.
    The contact ledger (Regulation F, 3 years) and the audit log (append-only) are never purged.
    """
    policy = policy or current_policy()
    now = now or utcnow()
    cutoffs = policy.cutoffs(now)
    items: list[PurgeItem] = []

    raw_cutoff = cutoffs["raw_payload"]
    raw_query = (Observation.created_at < raw_cutoff, cast(Observation.raw, Text) != "{}")
    raw_count = session.scalar(select(func.count()).where(*raw_query)) or 0
    items.append(PurgeItem("observations", "raw payloads emptied", raw_cutoff, raw_count))
    if raw_count and not dry_run:
        session.execute(update(Observation).where(*raw_query).values(raw={})
                        .execution_options(synchronize_session=False))

    signal_cutoff = cutoffs["signal"]
    signal_query = (Signal.detected_at < signal_cutoff, Signal.status.in_(_CLOSED_SIGNAL_STATUSES))
    signal_count = session.scalar(select(func.count()).where(*signal_query)) or 0
    evidence_count = session.scalar(select(func.count()).select_from(Evidence).join(Signal)
                                    .where(*signal_query)) or 0
    items.append(PurgeItem("signals", "deleted (new, resolved or dismissed)", signal_cutoff, signal_count))
    items.append(PurgeItem("evidence", "deleted with their signals", signal_cutoff, evidence_count))
    if signal_count and not dry_run:
        ids = list(session.scalars(select(Signal.id).where(*signal_query)))
        for start in range(0, len(ids), _CHUNK):
            session.execute(delete(Evidence).where(Evidence.signal_id.in_(ids[start:start + _CHUNK])))
            session.execute(delete(Signal).where(Signal.id.in_(ids[start:start + _CHUNK])))

    observation_cutoff = cutoffs["observation"]
    latest = (select(Observation.id, func.row_number().over(
        partition_by=Observation.lead_id, order_by=Observation.observed_at.desc()).label("rank"))
        .where(Observation.lead_id.is_not(None), Observation.kind == ObservationKind.PROFILE.value).subquery())
    kept_signals = Signal.id.not_in(select(Signal.id).where(*signal_query)) if dry_run else true()
    old = select(Observation.id).where(
        Observation.last_observed_at < observation_cutoff,
        Observation.id.not_in(select(Evidence.observation_id).join(Signal).where(kept_signals)),
        Observation.id.not_in(select(latest.c.id).where(latest.c.rank == 1)))
    old_ids = list(session.scalars(old))
    items.append(PurgeItem("observations", "deleted (not evidence, not a lead's latest snapshot)",
                           observation_cutoff, len(old_ids)))
    if old_ids and not dry_run:
        for start in range(0, len(old_ids), _CHUNK):
            chunk = old_ids[start:start + _CHUNK]
            session.execute(delete(Match).where(Match.observation_id.in_(chunk)))
            session.execute(delete(Evidence).where(Evidence.observation_id.in_(chunk)))
            session.execute(delete(Observation).where(Observation.id.in_(chunk)))

    dsar_cutoff = cutoffs["dsar_record"]
    dsar_query = (DataSubjectRequest.status.in_(CLOSED_STATUSES), DataSubjectRequest.completed_at < dsar_cutoff)
    dsar_count = session.scalar(select(func.count()).where(*dsar_query)) or 0
    items.append(PurgeItem("privacy_requests", "closed requests deleted", dsar_cutoff, dsar_count))
    if dsar_count and not dry_run:
        session.execute(delete(DataSubjectRequest).where(*dsar_query))

    report = PurgeReport(policy.mode.value, dry_run, now, items)
    if not dry_run:
        session.expire_all()
        audit.record(session, actor=actor, action="privacy.purge", entity_type="retention", entity_id=None,
                     details=report.as_json())
    return report


def seal_stored_observations(session: Session, *, limit: int = 2000) -> int:
    """Seal the e-mails and phones of observations stored before sealing existed (``identifier_index`` null),
    ``limit`` at a time; returns how many were sealed (0: none left)."""
    ring = get_key_ring()
    rows = session.execute(select(Observation.id, Observation.raw, Observation.normalized)
                           .where(Observation.identifier_index.is_(None)).limit(limit)).all()
    updates = []
    for row in rows:
        raw, normalized, identifiers = sealing.seal_observation(row.raw or {}, row.normalized or {}, ring)
        updates.append({"id": row.id, "raw": raw, "normalized": normalized, "identifier_index": identifiers})
    if updates:
        session.execute(update(Observation), updates)
    return len(updates)
