"""CRM sync: signals pushed into each connected CRM, and what the team does there applied back.

**Push** (outbox-driven): the ``crm.enqueue`` consumer writes one ``crm_pushes`` row per active connection in the
transaction that delivered ``signal.created``; the ``crm.push`` task claims due rows under a lease, calls the
connector outside any transaction, and records the remote ids. A worker killed between the CRM's answer and the
record leaves the row claimed; after the lease another worker repeats the push, and the connector finds the
contact by our external id and the note/task by the signal id, so nothing is doubled and nothing lost.

**Pull** (webhooks for HubSpot, polling for Salesforce): each change is kept by its event id (a repeat is
applied once), our own writes coming back are recognised (``by_us``, or the value we last wrote) and ignored, and
a field is applied only when the connection's field-ownership map gives it to the CRM. A shared field changed on
both sides since our last write is decided by the later change and logged in ``crm_conflicts``.

Services never commit; the task or request boundary does (``push_due`` manages its own short transactions
because the CRM calls must happen outside them).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

import httpx
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from upswing.account.models import Role, User
from upswing.audit import service as audit
from upswing.compliance.rules import Channel
from upswing.compliance.service import check_contacts
from upswing.core import tasks
from upswing.core.db import session_factory, utcnow
from upswing.core.errors import ConflictError, NotFoundError, ValidationFailedError
from upswing.core.http import ssl_context
from upswing.core.logging import get_logger
from upswing.crm.connector import (
    RECONCILE_BATCH,
    ChangeKind,
    CrmConnector,
    CrmError,
    LeadRecord,
    RateLimited,
    RemoteChange,
    RemoteRecord,
    SignalPush,
    SignalRecord,
)
from upswing.crm.connectors import connector_for
from upswing.crm.models import (
    ConnectionStatus,
    CrmConflict,
    CrmConnection,
    CrmInboundEvent,
    CrmLink,
    CrmPush,
    CrmSystem,
    PushStatus,
)
from upswing.lead import service as lead_service
from upswing.lead.models import Lead
from upswing.signal import service as signals
from upswing.signal.models import Signal as SignalRow
from upswing.signal.models import SignalAction, SignalStatus

log = get_logger(__name__)

PUSH_TASK = "crm.push"
CONNECT_TASK = "crm.connect"
SYNC_TASK = "crm.sync"
RECONCILE_TASK = "crm.reconcile"
#: Which side owns each shared field unless the connection says otherwise.
DEFAULT_OWNERSHIP: dict[str, str] = {"signals": "upswing", "score": "upswing", "owner": "crm", "status": "crm",
                                     "outcomes": "crm"}
#: The CRMs' names for the fields the ownership map speaks of.
OWNER_FIELDS = frozenset({"hubspot_owner_id", "OwnerId"})
STATUS_FIELDS = frozenset({"hs_lead_status", "Status"})
#: The CRMs' lead statuses in Upswing's words (a connection's ``config.status_map`` adds or replaces entries;
#: a status not mapped is not imported).
DEFAULT_STATUS_MAPS: dict[str, dict[str, str]] = {
    "hubspot": {"NEW": "new", "OPEN": "new", "IN_PROGRESS": "contacted", "ATTEMPTED_TO_CONTACT": "contacted",
                "CONNECTED": "contacted", "BAD_TIMING": "contacted", "OPEN_DEAL": "promise",
                "UNQUALIFIED": "lost"},
    "salesforce": {"Open - Not Contacted": "new", "Working - Contacted": "contacted",
                   "Closed - Converted": "resolved", "Closed - Not Converted": "lost"},
}
#: Our properties on the CRM record that reconcile compares with what we last wrote (the rest are times, written
#: in each CRM's own format).
_COMPARED_PROPERTIES = ("upswing_score", "upswing_priority", "upswing_last_signal_type")
MAX_ATTEMPTS = 8
_TYPE_WORDS = {"new_employment": "New job", "promotion": "Promotion", "certification": "Certification",
               "license_renewal": "License", "award": "Award", "business_launch": "Business launch",
               "education": "Education", "job_loss": "Job loss"}


# --------------------------------------------------------------------------------------------------
# Connections
# --------------------------------------------------------------------------------------------------


def create_connection(session: Session, *, system: str, name: str, config: dict[str, Any],
                      field_ownership: dict[str, str] | None = None, owner_map: dict[str, str] | None = None,
                      daily_budget: int = 10_000, actor: str) -> CrmConnection:
    if system not in {s.value for s in CrmSystem}:
        raise ValidationFailedError(f"system {system!r} is not a CRM we connect to", [
            {"row": None, "field": "system", "message": f"one of {', '.join(s.value for s in CrmSystem)}"}])
    ownership = {**DEFAULT_OWNERSHIP, **(field_ownership or {})}
    bad = [k for k, v in ownership.items() if v not in ("crm", "upswing")]
    if bad:
        raise ValidationFailedError("field_ownership values must be crm or upswing",
                                    [{"row": None, "field": f"field_ownership.{k}", "message": "crm or upswing"}
                                     for k in bad])
    if session.scalar(select(CrmConnection.id).where(CrmConnection.name == name)) is not None:
        raise ValidationFailedError(f"a connection named {name!r} exists",
                                    [{"row": None, "field": "name", "message": "already used"}])
    connection = CrmConnection(name=name, system=system, config=config, field_ownership=ownership,
                               owner_map=owner_map or {}, daily_budget=daily_budget)
    session.add(connection)
    session.flush()
    audit.record(session, actor=actor, action="crm.connection_created", entity_type="crm_connection",
                 entity_id=connection.id, details={"system": system, "name": name})
    return connection


def get_connection(session: Session, connection_id: uuid.UUID | str) -> CrmConnection:
    connection = None
    try:
        connection = session.get(CrmConnection, uuid.UUID(str(connection_id)))
    except ValueError:
        connection = session.scalar(select(CrmConnection).where(CrmConnection.name == str(connection_id)))
    if connection is None:
        raise NotFoundError(f"no CRM connection {connection_id}")
    return connection


def list_connections(session: Session) -> list[CrmConnection]:
    return list(session.scalars(select(CrmConnection).order_by(CrmConnection.name)))


def make_connector(connection: CrmConnection, http: httpx.Client | None = None) -> CrmConnector:
    return connector_for(connection.system)(dict(connection.config),
                                            http or httpx.Client(timeout=30.0, verify=ssl_context()))


def connect(session: Session, connection: CrmConnection, *, http: httpx.Client | None = None,
            actor: str) -> dict[str, Any]:
    """Check the credentials and create our custom properties/fields in the CRM (idempotent)."""
    try:
        info = make_connector(connection, http).connect()
    except CrmError as exc:
        connection.status, connection.last_error = ConnectionStatus.ERROR.value, str(exc)
        raise
    connection.info = info
    connection.status, connection.last_error = ConnectionStatus.ACTIVE.value, None
    audit.record(session, actor=actor, action="crm.connected", entity_type="crm_connection",
                 entity_id=connection.id, details={"system": connection.system})
    return info


def disconnect(session: Session, connection: CrmConnection, *, actor: str) -> None:
    """Stop syncing (pending pushes stay, and go out if it is connected again)."""
    connection.status = ConnectionStatus.DISCONNECTED.value
    audit.record(session, actor=actor, action="crm.disconnected", entity_type="crm_connection",
                 entity_id=connection.id, details={})


# --------------------------------------------------------------------------------------------------
# Push
# --------------------------------------------------------------------------------------------------


def enqueue_signals(session: Session, signal_ids: Sequence[uuid.UUID]) -> int:
    """One push per active connection for each signal (the outbox consumer); a signal already queued is skipped."""
    connections = list(session.scalars(select(CrmConnection.id).where(
        CrmConnection.status.in_([ConnectionStatus.ACTIVE.value, ConnectionStatus.PAUSED.value]))))
    if not connections or not signal_ids:
        return 0
    # Held-out signals (an experiment's control group) never reach a CRM.
    leads = dict(session.execute(select(SignalRow.id, SignalRow.lead_id).where(
        SignalRow.id.in_(signal_ids), SignalRow.holdout.is_(False))).all())
    queued = {(c, s) for c, s in session.execute(select(CrmPush.connection_id, CrmPush.signal_id).where(
        CrmPush.signal_id.in_(list(leads)))).all()}
    added = 0
    for connection_id in connections:
        for signal_id, lead_id in leads.items():
            if (connection_id, signal_id) not in queued:
                session.add(CrmPush(connection_id=connection_id, signal_id=signal_id, lead_id=lead_id))
                added += 1
    if added:
        session.flush()
        tasks.enqueue(session, PUSH_TASK, key=f"{PUSH_TASK}:{utcnow().isoformat(timespec='seconds')}")
    return added


@dataclass
class PushReport:
    sent: int = 0
    failed: int = 0
    retried: int = 0
    api_calls: int = 0
    paused: list[str] = field(default_factory=list)


def _due(now: datetime) -> Any:
    return (CrmPush.status == PushStatus.PENDING.value) & (CrmPush.run_after <= now) & \
        or_(CrmPush.locked_until.is_(None), CrmPush.locked_until < now)


def claim(factory: sessionmaker[Session], worker: str, limit: int, lease: timedelta) -> list[uuid.UUID]:
    """Take up to ``limit`` due pushes of connections that may push now, under a lease."""
    now = utcnow()
    with factory() as session, session.begin():
        usable = select(CrmConnection.id).where(
            CrmConnection.status.in_([ConnectionStatus.ACTIVE.value, ConnectionStatus.PAUSED.value]),
            or_(CrmConnection.paused_until.is_(None), CrmConnection.paused_until <= now))
        query = select(CrmPush.id).where(_due(now), CrmPush.connection_id.in_(usable)) \
            .order_by(CrmPush.run_after, CrmPush.id).limit(limit)
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        ids = list(session.scalars(query))
        if not ids:
            return []
        session.execute(update(CrmPush).where(CrmPush.id.in_(ids), _due(now))
                        .values(locked_by=worker, locked_until=now + lease, attempts=CrmPush.attempts + 1)
                        .execution_options(synchronize_session=False))
        return list(session.scalars(select(CrmPush.id).where(CrmPush.id.in_(ids), CrmPush.locked_by == worker)))


def push_due(factory: sessionmaker[Session] | None = None, *, http: Callable[[CrmConnection], httpx.Client] | None
             = None, worker: str | None = None, batch: int = 100, max_batches: int | None = None,
             lease: timedelta = timedelta(minutes=5)) -> PushReport:
    """Push every due signal, a batch per connection at a time; returns the counts."""
    factory = factory or session_factory()
    worker = worker or tasks.worker_name("crm")
    report = PushReport()
    batches = 0
    # One connector per connection for the whole run: its access token and rate-limit state carry over batches.
    connectors: dict[uuid.UUID, CrmConnector] = {}
    while max_batches is None or batches < max_batches:
        claimed = claim(factory, worker, batch, lease)
        if not claimed:
            break
        batches += 1
        for connection_id, pushes in _prepare(factory, claimed).items():
            _push_batch(factory, connection_id, pushes, http, worker, report, connectors)
    return report


@dataclass
class _Prepared:
    push_id: uuid.UUID
    lead: LeadRecord
    signal: SignalRecord


def _prepare(factory: sessionmaker[Session], push_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[_Prepared]]:
    """Read what each claimed push sends (lead, signal, the guard's next allowed contact) in one transaction."""
    now = utcnow()
    grouped: dict[uuid.UUID, list[_Prepared]] = defaultdict(list)
    with factory() as session, session.begin():
        rows = session.execute(select(CrmPush, SignalRow, Lead, CrmConnection)
                               .join(SignalRow, SignalRow.id == CrmPush.signal_id)
                               .join(Lead, Lead.id == CrmPush.lead_id)
                               .join(CrmConnection, CrmConnection.id == CrmPush.connection_id)
                               .where(CrmPush.id.in_(push_ids))).all()
        leads = list({lead.id: lead for _, _, lead, _ in rows}.values())
        decisions = check_contacts(session, leads, [Channel.CALL], now) if leads else {}
        for push, signal, lead, connection in rows:
            decision = decisions.get(lead.id, {}).get(Channel.CALL)
            due = now if decision is None or decision.allowed else decision.next_allowed_at
            owner = connection.owner_map.get(str(lead.assignee_id)) if lead.assignee_id else None
            grouped[connection.id].append(_Prepared(push.id, _lead_record(lead, signal, due, owner),
                                                    _signal_record(signal, lead, due, owner)))
    return grouped


def _lead_record(lead: Lead, signal: SignalRow, due: datetime | None, owner: str | None) -> LeadRecord:
    return LeadRecord(
        lead_id=lead.id, external_id=lead.external_id, first_name=lead.first_name, last_name=lead.last_name,
        email=lead.email, phone=lead.phone, owner_remote_id=owner,
        properties={"upswing_lead_id": str(lead.id), "upswing_score": f"{signal.score:.0f}",
                    "upswing_priority": signal.priority, "upswing_last_signal_type": signal.type,
                    "upswing_last_signal_at": signal.detected_at.isoformat(),
                    "upswing_contactable_from": due.isoformat() if due else None})


def _signal_record(signal: SignalRow, lead: Lead, due: datetime | None, owner: str | None) -> SignalRecord:
    what = _TYPE_WORDS.get(signal.type, signal.type.replace("_", " ").capitalize())
    role = " at ".join(part for part in (signal.title, signal.organization) if part)
    summary = f"{what}{': ' + role if role else ''} (score {signal.score:.0f}, {signal.priority})"
    contact = f"Contact allowed from {due.isoformat(timespec='minutes')}" if due else "No contact allowed now"
    detail = "\n".join(part for part in (signal.evidence_snippet, signal.evidence_url, contact) if part)
    return SignalRecord(signal_id=signal.id, lead_id=lead.id, type=signal.type, priority=signal.priority,
                        score=float(signal.score), summary=summary, detail=detail, detected_at=signal.detected_at,
                        due_at=due, make_task=signal.priority in ("urgent", "high"), owner_remote_id=owner)


def _push_batch(factory: sessionmaker[Session], connection_id: uuid.UUID, pushes: list[_Prepared],
                http: Callable[[CrmConnection], httpx.Client] | None, worker: str, report: PushReport,
                connectors: dict[uuid.UUID, CrmConnector]) -> None:
    connector = connectors.get(connection_id)
    if connector is None:
        with factory() as session:
            connection = session.get(CrmConnection, connection_id)
            assert connection is not None
            session.expunge(connection)
        connector = connectors[connection_id] = make_connector(connection, http(connection) if http else None)
    calls_before = connector.usage.calls
    now = utcnow()
    results: list[SignalPush | CrmError]
    paused: RateLimited | None = None
    try:
        results = connector.push_signals([(p.lead, p.signal) for p in pushes])
    except RateLimited as exc:
        paused, results = exc, []
    except CrmError as exc:  # the whole call failed (credentials, outage): every push waits and retries
        results = [exc for _ in pushes]
    with factory() as session, session.begin():
        row = session.get(CrmConnection, connection_id)
        assert row is not None
        calls = connector.usage.calls - calls_before
        _count_calls(row, calls, now)
        report.api_calls += calls
        if paused is not None:
            row.status = ConnectionStatus.PAUSED.value
            row.paused_until = now + timedelta(seconds=max(1.0, paused.retry_after))
            row.last_error = str(paused)
            report.paused.append(row.name)
            session.execute(update(CrmPush).where(CrmPush.id.in_([p.push_id for p in pushes]),
                                                  CrmPush.locked_by == worker)
                            .values(locked_by=None, locked_until=None, run_after=row.paused_until,
                                    attempts=CrmPush.attempts - 1).execution_options(synchronize_session=False))
            return
        if row.status == ConnectionStatus.PAUSED.value:
            row.status, row.paused_until = ConnectionStatus.ACTIVE.value, None
        row.last_push_at = now
        for prepared, result in zip(pushes, results, strict=True):
            push = session.get(CrmPush, prepared.push_id)
            if push is None or push.locked_by != worker:
                continue  # another worker took it over after our lease ran out: its record stands
            push.locked_by, push.locked_until = None, None
            if isinstance(result, SignalPush):
                push.status, push.sent_at, push.last_error = PushStatus.SENT.value, now, None
                push.remote_lead_id, push.note_id, push.task_id = result.remote_lead_id, result.note_id, result.task_id
                _remember_link(session, row, prepared.lead, result.remote_lead_id, now)
                report.sent += 1
            elif push.attempts >= MAX_ATTEMPTS:
                push.status, push.last_error = PushStatus.FAILED.value, str(result)
                row.last_error = str(result)
                report.failed += 1
            else:
                push.last_error = str(result)
                push.run_after = now + timedelta(seconds=min(3600, 10 * 2 ** push.attempts))
                report.retried += 1


def _count_calls(connection: CrmConnection, calls: int, now: datetime) -> None:
    """Today's API calls against the daily budget; spent: paused until the next UTC day."""
    today = now.date()
    if connection.calls_day != today:
        connection.calls_day, connection.calls_today = today, 0
    connection.calls_today += calls
    if connection.calls_today >= connection.daily_budget:
        connection.status = ConnectionStatus.PAUSED.value
        connection.paused_until = datetime.combine(today + timedelta(days=1), time(0), tzinfo=UTC)
        connection.last_error = f"daily API budget of {connection.daily_budget} calls spent"


def _remember_link(session: Session, connection: CrmConnection, lead: LeadRecord, remote_id: str,
                   now: datetime) -> None:
    link = session.scalar(select(CrmLink).where(CrmLink.connection_id == connection.id,
                                                CrmLink.lead_id == lead.lead_id))
    written = {"owner": lead.owner_remote_id, **{k: v for k, v in lead.properties.items()}}
    if link is None or link.remote_id != remote_id:
        _record_crm_id(session, connection, lead.lead_id, remote_id)
    if link is None:
        session.add(CrmLink(connection_id=connection.id, lead_id=lead.lead_id, remote_id=remote_id,
                            written=written, written_at=now))
    else:
        link.remote_id, link.written, link.written_at = remote_id, written, now
    session.flush()


def _record_crm_id(session: Session, connection: CrmConnection, lead_id: uuid.UUID, remote_id: str) -> None:
    """The lead's ``crm_ids`` learn its record in this CRM (the API shows it, CRMs look leads up by it); a record
    another lead already holds (two of our leads on one CRM contact) is logged, not forced."""
    lead = session.get(Lead, lead_id)
    if lead is None:
        return
    try:
        lead_service.set_crm_ids(session, lead, {connection.system: remote_id})
    except ConflictError as exc:
        log.warning("crm.record_shared", connection=connection.name, lead_id=str(lead_id), error=str(exc))


# --------------------------------------------------------------------------------------------------
# Pull: changes made in the CRM
# --------------------------------------------------------------------------------------------------


@dataclass
class ApplyReport:
    applied: int = 0
    echoes: int = 0
    duplicates: int = 0
    conflicts: int = 0
    ignored: int = 0


def pull(session: Session, connection: CrmConnection, *, http: httpx.Client | None = None) -> ApplyReport:
    """Poll the CRM for changes since the saved cursor and apply them."""
    connector = make_connector(connection, http)
    changes, cursor = connector.pull_changes(connection.cursor)
    report = apply_changes(session, connection, changes)
    connection.cursor = cursor or connection.cursor
    connection.last_pull_at = utcnow()
    _count_calls(connection, connector.usage.calls, utcnow())
    return report


def sync(factory: sessionmaker[Session], connection_id: uuid.UUID | str) -> tuple[PushReport, ApplyReport | None]:
    """Push what is due, then (a polled CRM, ``polled``) pull its changes, in a transaction of its own."""
    pushed = push_due(factory)
    with factory() as session, session.begin():
        connection = get_connection(session, connection_id)
        return pushed, pull(session, connection) if polled(connection) else None


def polled(connection: CrmConnection) -> bool:
    """Salesforce sends no webhooks: it is polled. HubSpot is polled only as a fallback (``config.poll``), where
    its webhooks cannot reach us."""
    return connection.system == CrmSystem.SALESFORCE or bool((connection.config or {}).get("poll"))


def receive_webhook(session: Session, connection_id: uuid.UUID, headers: dict[str, str], body: bytes,
                    url: str) -> ApplyReport:
    """Verify an inbound webhook (``WebhookRejected`` otherwise) and apply its changes."""
    connection = get_connection(session, connection_id)
    changes = make_connector(connection).parse_webhook(headers, body, url)
    return apply_changes(session, connection, changes)


_REPORT_FIELD = {"applied": "applied", "echo": "echoes", "conflict": "conflicts"}


def apply_changes(session: Session, connection: CrmConnection, changes: Sequence[RemoteChange]) -> ApplyReport:
    report = ApplyReport()
    seen = set(session.scalars(select(CrmInboundEvent.event_id).where(
        CrmInboundEvent.connection_id == connection.id,
        CrmInboundEvent.event_id.in_([c.event_id for c in changes])))) if changes else set()
    for change in changes:
        if change.event_id in seen:
            report.duplicates += 1
            continue
        seen.add(change.event_id)
        result, detail = _apply(session, connection, change)
        counter = _REPORT_FIELD.get(result, "ignored")
        setattr(report, counter, getattr(report, counter) + 1)
        session.add(CrmInboundEvent(connection_id=connection.id, event_id=change.event_id, kind=change.kind.value,
                                    result=result, detail=detail))
    session.flush()
    return report


def _lead_of(session: Session, connection: CrmConnection, change: RemoteChange) -> tuple[Lead | None, CrmLink | None]:
    link = None
    if change.remote_lead_id:
        link = session.scalar(select(CrmLink).where(CrmLink.connection_id == connection.id,
                                                    CrmLink.remote_id == change.remote_lead_id))
    lead_id = change.lead_id or (link.lead_id if link else None)
    lead = session.get(Lead, lead_id) if lead_id else None
    if lead is not None and link is None:
        link = session.scalar(select(CrmLink).where(CrmLink.connection_id == connection.id,
                                                    CrmLink.lead_id == lead.id))
    return lead, link


def _apply(session: Session, connection: CrmConnection, change: RemoteChange) -> tuple[str, dict[str, Any]]:
    detail: dict[str, Any] = {"field": change.field, "value": None if change.value is None else str(change.value)}
    if change.by_us:
        return "echo", detail
    ownership = {**DEFAULT_OWNERSHIP, **connection.field_ownership}
    if change.kind is ChangeKind.TASK_COMPLETED:
        if ownership.get("outcomes") != "crm" or change.signal_id is None:
            return "ignored", detail
        signal = session.get(SignalRow, change.signal_id)
        if signal is None or signal.status not in (SignalStatus.NEW.value, SignalStatus.ACKNOWLEDGED.value):
            return "ignored", {**detail, "signal_id": str(change.signal_id)}
        lead = session.get(Lead, signal.lead_id)
        signals.record_action(session, signal.id, SignalAction.CRM_TASK, user=_acting_user(session, lead),
                              note=f"task completed in {connection.name}")
        return "applied", {**detail, "signal_id": str(signal.id)}
    lead, link = _lead_of(session, connection, change)
    if lead is None:
        return "ignored", detail
    detail["lead_id"] = str(lead.id)
    if change.field in OWNER_FIELDS:
        if ownership.get("owner") != "crm":
            return "ignored", detail
        if link is not None and link.written.get("owner") == change.value:
            return "echo", detail
        users = {remote: local for local, remote in connection.owner_map.items()}
        user_id = users.get(str(change.value)) if change.value is not None else None
        if change.value is not None and user_id is None:
            return "ignored", {**detail, "reason": "owner not in the owner map"}
        new = uuid.UUID(user_id) if user_id else None
        ours_changed = link is not None and link.written_at is not None and lead.updated_at > link.written_at and \
            (str(lead.assignee_id) if lead.assignee_id else None) != users.get(str(link.written.get("owner")))
        if ours_changed:
            crm_wins = change.changed_at is None or change.changed_at >= lead.updated_at
            session.add(CrmConflict(connection_id=connection.id, lead_id=lead.id, field="owner",
                                    upswing_value=str(lead.assignee_id) if lead.assignee_id else None,
                                    crm_value=str(change.value), upswing_changed_at=lead.updated_at,
                                    crm_changed_at=change.changed_at, winner="crm" if crm_wins else "upswing"))
            if crm_wins:
                lead.assignee_id = new
            return "conflict", detail
        lead.assignee_id = new
        return "applied", detail
    if change.field in STATUS_FIELDS:
        if ownership.get("status") != "crm":
            return "ignored", detail
        status = status_map(connection).get(str(change.value)) if change.value is not None else None
        if status is None:
            return "ignored", {**detail, "reason": "status not in the status map"}
        if status != lead.status:
            lead.status = status
            return "applied", {**detail, "status": status}
        return "ignored", detail
    return "ignored", detail


def status_map(connection: CrmConnection) -> dict[str, str]:
    """The connection's CRM lead statuses → Upswing's (defaults per CRM, ``config.status_map`` on top)."""
    custom = dict((connection.config or {}).get("status_map") or {})
    return {**DEFAULT_STATUS_MAPS.get(connection.system, {}), **{str(k): str(v) for k, v in custom.items()}}


def _acting_user(session: Session, lead: Lead | None) -> User:
    """Who a CRM-side change is recorded as: the lead's assignee, else the first active admin."""
    if lead is not None and lead.assignee_id is not None:
        user = session.get(User, lead.assignee_id)
        if user is not None:
            return user
    admin = session.scalar(select(User).where(User.role == Role.ADMIN.value, User.is_active.is_(True))
                           .order_by(User.created_at))
    if admin is None:
        raise CrmError("no active admin to record the CRM's change as")
    return admin


# --------------------------------------------------------------------------------------------------
# Reconcile and status
# --------------------------------------------------------------------------------------------------


@dataclass
class ReconcileReport:
    leads_checked: int = 0
    missing: int = 0  # pushes recorded as sent whose note/task is not in the CRM (re-queued when repairing)
    unsent: int = 0  # signals of linked leads never queued (queued when repairing)
    fields: int = 0  # fields that differ between the two sides (the owning side's value written to the other)
    records_missing: int = 0  # linked records the CRM no longer has (their pushes count in ``missing``)
    field_details: list[dict[str, Any]] = field(default_factory=list)  # the first ``_DETAILS_KEPT`` of them
    differences: int = 0


_DETAILS_KEPT = 100


def reconcile(session: Session, connection: CrmConnection, *, http: httpx.Client | None = None,
              repair: bool = True) -> ReconcileReport:
    """Compare both sides and repair drift: the signals we recorded as pushed against the notes/tasks each linked
    record holds, the linked leads' signals never queued, and each record's fields against the owning side's
    value (owner and status from the CRM into Upswing; our score, priority and last signal type back into the
    CRM). Reads ``RECONCILE_BATCH`` records per call."""
    connector = make_connector(connection, http)
    report = ReconcileReport()
    ownership = {**DEFAULT_OWNERSHIP, **connection.field_ownership}
    sent: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    for push in session.scalars(select(CrmPush).where(CrmPush.connection_id == connection.id,
                                                      CrmPush.status == PushStatus.SENT.value)):
        sent[push.lead_id].add(push.signal_id)
    links = list(session.scalars(select(CrmLink).where(CrmLink.connection_id == connection.id)
                                 .order_by(CrmLink.id)))
    for start in range(0, len(links), RECONCILE_BATCH):
        batch = links[start:start + RECONCILE_BATCH]
        report.leads_checked += len(batch)
        remote_ids = [link.remote_id for link in batch]
        present = connector.signal_ids_on(remote_ids)
        missing = set().union(*(sent.get(link.lead_id, set()) for link in batch)) - present
        report.missing += len(missing)
        if repair and missing:
            session.execute(update(CrmPush).where(CrmPush.connection_id == connection.id,
                                                  CrmPush.signal_id.in_(missing))
                            .values(status=PushStatus.PENDING.value, run_after=utcnow(), attempts=0)
                            .execution_options(synchronize_session=False))
        records = connector.read_records(remote_ids)
        for link in batch:
            record = records.get(link.remote_id)
            if record is None:
                report.records_missing += 1
                continue
            _reconcile_fields(session, connection, connector, ownership, link, record, report, repair=repair)
    queued = select(CrmPush.signal_id).where(CrmPush.connection_id == connection.id)
    linked = select(CrmLink.lead_id).where(CrmLink.connection_id == connection.id)
    unsent = list(session.scalars(select(SignalRow.id).where(SignalRow.lead_id.in_(linked),
                                                             SignalRow.id.not_in(queued))))
    report.unsent = len(unsent)
    if repair and unsent:
        enqueue_signals(session, unsent)
    report.differences = report.missing + report.unsent + report.fields
    _count_calls(connection, connector.usage.calls, utcnow())
    return report


def _reconcile_fields(session: Session, connection: CrmConnection, connector: CrmConnector,
                      ownership: Mapping[str, str], link: CrmLink, record: RemoteRecord, report: ReconcileReport,
                      *, repair: bool) -> None:
    """One record's fields against the owning side: the CRM's owner and status into the lead, and the values we
    last wrote (``link.written``) back onto the record."""
    lead = session.get(Lead, link.lead_id)
    if lead is None:
        return
    found: list[dict[str, Any]] = []
    users = {remote: local for local, remote in connection.owner_map.items()}
    ours_in_crm = connection.owner_map.get(str(lead.assignee_id)) if lead.assignee_id else None
    rewrite = False
    if record.owner_remote_id != ours_in_crm:
        if ownership.get("owner") == "crm":
            local = users.get(str(record.owner_remote_id)) if record.owner_remote_id else None
            if record.owner_remote_id is None or local is not None:  # an owner not in the map cannot be followed
                found.append({"field": "owner", "upswing": str(lead.assignee_id) if lead.assignee_id else None,
                              "crm": record.owner_remote_id, "repaired": "upswing"})
                if repair:
                    lead.assignee_id = uuid.UUID(local) if local else None
        elif ours_in_crm is not None:
            found.append({"field": "owner", "upswing": ours_in_crm, "crm": record.owner_remote_id, "repaired": "crm"})
            rewrite = True
    if ownership.get("status") == "crm" and record.status is not None:
        status = status_map(connection).get(record.status)
        if status is not None and status != lead.status:
            found.append({"field": "status", "upswing": lead.status, "crm": record.status, "repaired": "upswing"})
            if repair:
                lead.status = status
    if ownership.get("score") == "upswing":
        for name in _COMPARED_PROPERTIES:
            wanted = link.written.get(name)
            if wanted is not None and not _same_value(wanted, record.properties.get(name)):
                found.append({"field": name, "upswing": wanted, "crm": record.properties.get(name),
                              "repaired": "crm"})
                rewrite = True
    if found:
        report.fields += len(found)
        room = _DETAILS_KEPT - len(report.field_details)
        report.field_details.extend({"lead_id": str(lead.id), **item} for item in found[:max(room, 0)])
    if repair and rewrite:
        owner = ours_in_crm if ownership.get("owner") != "crm" else None  # the CRM's own owner is left alone
        connector.upsert_lead(LeadRecord(
            lead_id=lead.id, external_id=lead.external_id, first_name=lead.first_name, last_name=lead.last_name,
            email=lead.email, phone=lead.phone, owner_remote_id=owner,
            properties={k: v for k, v in link.written.items() if k.startswith("upswing_")}))


def _same_value(ours: Any, theirs: Any) -> bool:
    """The same value as each CRM stores it (a number field answers 82.0 for the 82 we wrote)."""
    if theirs is None:
        return ours is None
    try:
        return float(ours) == float(theirs)
    except (TypeError, ValueError):
        return str(ours) == str(theirs)


def status(session: Session, connection: CrmConnection) -> dict[str, Any]:
    counts: dict[str, int] = dict(session.execute(
        select(CrmPush.status, func.count()).where(CrmPush.connection_id == connection.id).group_by(CrmPush.status)
    ).all())
    conflicts = session.scalar(select(func.count()).where(CrmConflict.connection_id == connection.id,
                                                      CrmConflict.resolved_at.is_(None)))
    return {"id": str(connection.id), "name": connection.name, "system": connection.system,
            "status": connection.status, "last_error": connection.last_error,
            "last_push_at": connection.last_push_at, "last_pull_at": connection.last_pull_at,
            "paused_until": connection.paused_until,
            "calls_today": connection.calls_today if connection.calls_day == utcnow().date() else 0,
            "daily_budget": connection.daily_budget,
            "pushes": {s.value: int(counts.get(s.value, 0)) for s in PushStatus}, "open_conflicts": int(conflicts or 0)}

