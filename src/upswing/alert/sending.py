"""Sending alert deliveries (e-mail, webhooks) and managing webhook subscriptions.

A delivery row is written with its alert (``alert.service``). The ``alerts.send`` task claims due rows under a
lease, sends each outside any transaction, then records the provider's id. A worker killed between the send and
the record leaves the row claimed; when the lease runs out another worker sends it again, with the same
Message-ID / ``webhook-id`` (the delivery's id), so the receiver can tell it is a repeat. Nothing is lost: a
failed attempt is retried with exponential backoff and jitter, and a permanent failure stays visible as
``failed`` with its reason.

A delivery may carry its message rendered in advance (``content``: a digest), sent as it is to the user's current
address; no alert row is needed. No e-mail goes to an address the provider reported bouncing or complaining
(``notify.suppressions``): such a delivery fails for good, saying why.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from upswing.account.clients import client_id_of
from upswing.account.models import Role, User
from upswing.alert import service
from upswing.alert.models import (
    Alert,
    AlertChannel,
    AlertDelivery,
    DeliveryStatus,
    WebhookSubscription,
)
from upswing.alert.schemas import SubscriptionCreate, SubscriptionUpdate
from upswing.audit import service as audit
from upswing.compliance import service as compliance
from upswing.core import tasks
from upswing.core.db import session_factory, utcnow
from upswing.core.errors import NotFoundError, PermissionDeniedError, ValidationFailedError
from upswing.core.logging import get_logger
from upswing.core.metrics import ALERT_DELIVERY_LATENCY
from upswing.lead.models import Lead
from upswing.notify.email import EmailMessage, EmailTransport, email_transport, message_id_for
from upswing.notify.errors import SendFailed
from upswing.notify.models import EmailSuppression
from upswing.notify.suppressions import active_for, describe, normalise
from upswing.notify.templates import AlertEmailContext, GuardLine, render_alert_email
from upswing.notify.webhooks import check_webhook_url, new_secret, send_webhook
from upswing.settings import Settings, get_settings
from upswing.signal.models import Signal

log = get_logger(__name__)

_SENDABLE = (AlertChannel.EMAIL.value, AlertChannel.WEBHOOK.value)
#: Webhook retry waits (Standard Webhooks' suggested schedule), then every 10 hours until the retry period ends.
_WEBHOOK_WAITS = (5, 300, 1800, 7200, 18000, 36000)


@dataclass
class SendReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0

    @property
    def processed(self) -> int:
        return self.sent + self.retried + self.failed


def _due(now: datetime) -> Any:
    return and_(AlertDelivery.status == DeliveryStatus.PENDING.value, AlertDelivery.channel.in_(_SENDABLE),
                AlertDelivery.run_after <= now,
                or_(AlertDelivery.locked_until.is_(None), AlertDelivery.locked_until < now))


def claim(factory: sessionmaker[Session], worker: str, limit: int, lease: timedelta) -> list[uuid.UUID]:
    """Take up to ``limit`` due deliveries under a lease (skipping rows another worker holds)."""
    now = utcnow()
    with factory() as session, session.begin():
        query = select(AlertDelivery.id).where(_due(now)).order_by(AlertDelivery.run_after, AlertDelivery.id) \
            .limit(limit)
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        ids = list(session.scalars(query))
        if not ids:
            return []
        session.execute(update(AlertDelivery).where(AlertDelivery.id.in_(ids), _due(now))
                        .values(locked_by=worker, locked_until=now + lease, attempts=AlertDelivery.attempts + 1)
                        .execution_options(synchronize_session=False))
        session.execute(update(AlertDelivery).where(AlertDelivery.id.in_(ids), AlertDelivery.locked_by == worker,
                                                    AlertDelivery.first_attempt_at.is_(None))
                        .values(first_attempt_at=now).execution_options(synchronize_session=False))
        return list(session.scalars(select(AlertDelivery.id).where(AlertDelivery.id.in_(ids),
                                                                   AlertDelivery.locked_by == worker)
                                    .order_by(AlertDelivery.run_after, AlertDelivery.id)))


@dataclass(frozen=True)
class _Prepared:
    """One claimed delivery, read and rendered in a short transaction; sent outside it."""

    channel: str
    attempts: int
    first_attempt_at: datetime
    email: EmailMessage | None = None
    url: str | None = None
    secret: str | None = None
    payload: dict[str, Any] | None = None
    subscription_id: uuid.UUID | None = None


def _fmt(moment: str | None, zone: str | None) -> str | None:
    if not moment:
        return None
    name = zone or "UTC"
    return f"{datetime.fromisoformat(moment).astimezone(ZoneInfo(name)):%Y-%m-%d %H:%M} {name}"


def _initials(lead: Lead) -> str:
    return ". ".join(part[:1].upper() for part in (lead.first_name, lead.last_name) if part) + "."


@dataclass(frozen=True)
class _Context:
    """What a batch of claimed deliveries needs, loaded in a few queries for the whole batch."""

    alerts: dict[uuid.UUID, Alert]
    users: dict[uuid.UUID, User]
    leads: dict[uuid.UUID, Lead]
    signals: dict[uuid.UUID, Signal]
    subscriptions: dict[uuid.UUID, WebhookSubscription]
    restricted: set[uuid.UUID]  # leads restricted now
    guards: dict[uuid.UUID, dict[str, Any]]  # the guard's answer now, per lead
    suppressed: dict[str, EmailSuppression]  # recipients' addresses mail must not go to, lower-cased


def _load_context(session: Session, deliveries: list[AlertDelivery]) -> _Context:
    def by_id(model: Any, ids: set[Any]) -> dict[uuid.UUID, Any]:
        ids.discard(None)
        return {row.id: row for row in session.scalars(select(model).where(model.id.in_(ids)))} if ids else {}

    alerts: dict[uuid.UUID, Alert] = by_id(Alert, {d.alert_id for d in deliveries
                                                   if d.channel == AlertChannel.EMAIL.value})
    leads: dict[uuid.UUID, Lead] = by_id(Lead, {a.lead_id for a in alerts.values()})
    # The answer as of sending (quiet hours may have held the e-mail); a lead restricted meanwhile turns the
    # e-mail into a note.
    actionable = [leads[a.lead_id] for a in alerts.values() if a.actionable and a.lead_id in leads]
    unique = list({lead.id: lead for lead in actionable}.values())
    flags = compliance.active_flags_of(session, [lead.id for lead in unique])
    guards = compliance.check_contacts(session, unique, service.GUARD_CHANNELS, utcnow()) if unique else {}
    users: dict[uuid.UUID, User] = by_id(User, {d.user_id for d in deliveries})
    emailed = {d.user_id for d in deliveries if d.channel == AlertChannel.EMAIL.value}
    return _Context(
        alerts=alerts, users=users, leads=leads,
        signals=by_id(Signal, {a.signal_id for a in alerts.values()}),
        subscriptions=by_id(WebhookSubscription, {d.subscription_id for d in deliveries}),
        restricted={lead_id for lead_id, found in flags.items() if found & service.RESTRICTING_FLAGS},
        guards={lead_id: service.guard_json(answer) for lead_id, answer in guards.items()},
        suppressed=active_for(session, [users[u].email for u in emailed if u in users]))


def _recipient(delivery: AlertDelivery, context: _Context) -> tuple[User, str]:
    """The delivery's user and their current address, if mail may go there; else the permanent reason why not."""
    user = context.users.get(delivery.user_id) if delivery.user_id else None
    if user is None:
        raise SendFailed("the recipient no longer exists", permanent=True)
    if not user.is_active or not user.email:
        raise SendFailed(f"user {user.username} is inactive or has no e-mail address", permanent=True)
    suppression = context.suppressed.get(normalise(user.email))
    if suppression is not None:
        raise SendFailed(describe(suppression), permanent=True)
    return user, user.email


def _prepared_email(delivery: AlertDelivery, user: User, address: str) -> EmailMessage:
    """A message rendered in advance (a digest), sent as it is: a repeat carries the same Message-ID."""
    content = delivery.content or {}
    subject, html, text = content.get("subject"), content.get("html"), content.get("text")
    headers, tags = content.get("headers") or {}, content.get("tags") or []
    if not isinstance(subject, str) or not subject or not isinstance(text, str) or not (
            html is None or isinstance(html, str)) or not isinstance(headers, dict) or not isinstance(tags, list):
        raise SendFailed("the prepared message is incomplete (subject, text, html, headers or tags)",
                         permanent=True)
    return EmailMessage(to=address, to_name=user.full_name, subject=subject, html=html, text=text,
                        message_id=message_id_for(str(delivery.id)), tags=tuple(str(tag) for tag in tags),
                        headers=tuple((str(name), str(value)) for name, value in headers.items()))


def _email(delivery: AlertDelivery, context: _Context, settings: Settings) -> EmailMessage:
    if delivery.content is not None:
        return _prepared_email(delivery, *_recipient(delivery, context))
    alert = context.alerts.get(delivery.alert_id) if delivery.alert_id else None
    if alert is None:
        raise SendFailed("the alert no longer exists", permanent=True)
    user, address = _recipient(delivery, context)
    lead = context.leads.get(alert.lead_id) if alert.lead_id else None
    signal = context.signals.get(alert.signal_id) if alert.signal_id else None
    actionable, guard = alert.actionable, alert.guard or {}
    if lead is not None and actionable:
        actionable = lead.id not in context.restricted
        guard = context.guards.get(lead.id, guard)
    lines = [GuardLine(channel=channel, allowed=answer["allowed"], reasons=list(answer["reasons"]),
                       next_allowed_at=_fmt(answer["next_allowed_at"], lead.timezone if lead else None))
             for channel, answer in guard.items()] if actionable else []
    # The e-mail leaves our systems: the lead by external id and initials only, the rest behind the sign-in.
    email_context = AlertEmailContext(
        recipient_name=user.full_name or user.username, priority=alert.priority, headline=alert.title,
        lead_label=f"{lead.external_id} ({_initials(lead)})" if lead else "",
        signal_type=signal.type if signal else alert.kind, signal_title=signal.title if signal else None,
        organization=signal.organization if signal else None,
        effective_date=signal.effective_date.isoformat() if signal and signal.effective_date else None,
        score=signal.score if signal else 0, evidence_url=signal.evidence_url if signal else None,
        actionable=actionable, guard=lines,
        lead_url=f"{settings.public_base_url.rstrip('/')}/leads/{lead.id}" if lead else settings.public_base_url,
        signal_count=alert.signal_count,
        note=None if actionable else "This lead may not be contacted about this signal.")
    subject, html, text = render_alert_email(email_context)
    return EmailMessage(to=address, to_name=user.full_name, subject=subject, html=html, text=text,
                        message_id=message_id_for(str(delivery.id)), tags=("alert", alert.priority))


def _prepared(delivery: AlertDelivery, context: _Context, settings: Settings) -> _Prepared:
    first = delivery.first_attempt_at or utcnow()
    if delivery.channel == AlertChannel.EMAIL.value:
        return _Prepared(delivery.channel, delivery.attempts, first, email=_email(delivery, context, settings))
    subscription = context.subscriptions.get(delivery.subscription_id) if delivery.subscription_id else None
    if subscription is None:
        raise SendFailed("the webhook subscription was deleted", permanent=True)
    if not subscription.enabled:
        raise SendFailed(f"the subscription is disabled: {subscription.disabled_reason or 'by its owner'}",
                         permanent=True)
    return _Prepared(delivery.channel, delivery.attempts, first, url=subscription.url, secret=subscription.secret,
                     payload=dict(delivery.payload or {}), subscription_id=subscription.id)


def _prepare_many(factory: sessionmaker[Session], delivery_ids: list[uuid.UUID], worker: str,
                  settings: Settings) -> dict[uuid.UUID, _Prepared | SendFailed]:
    """Read and render a claimed batch in one short transaction (the sends happen outside it). A delivery this
    worker no longer holds is left out; one that cannot be prepared carries its permanent failure."""
    with factory() as session, session.begin():
        deliveries = list(session.scalars(select(AlertDelivery).where(AlertDelivery.id.in_(delivery_ids),
                                                                      AlertDelivery.locked_by == worker)))
        context = _load_context(session, deliveries)
        out: dict[uuid.UUID, _Prepared | SendFailed] = {}
        for delivery in deliveries:
            try:
                out[delivery.id] = _prepared(delivery, context, settings)
            except SendFailed as failure:
                out[delivery.id] = failure
        return out


def _backoff(prepared: _Prepared, failure: SendFailed, settings: Settings, now: datetime,
             rng: random.Random) -> datetime | None:
    """When to try again, or None when it is time to give up."""
    if failure.permanent:
        return None
    if prepared.channel == AlertChannel.WEBHOOK.value:
        if now - prepared.first_attempt_at >= timedelta(days=settings.webhook_retry_days):
            return None
        wait = float(_WEBHOOK_WAITS[min(prepared.attempts - 1, len(_WEBHOOK_WAITS) - 1)])
    else:
        if prepared.attempts >= settings.alert_email_max_attempts:
            return None
        wait = min(30.0 * 2 ** (prepared.attempts - 1), 3600.0)
    wait *= rng.uniform(0.8, 1.2)  # jitter: a provider's outage does not end in a thundering herd
    return now + timedelta(seconds=max(wait, failure.retry_after or 0.0))


def _record(session: Session, delivery_id: uuid.UUID, worker: str, prepared: _Prepared | None,
            values: dict[str, Any], settings: Settings, *, succeeded: bool) -> bool:
    """Write one attempt's result (only while this worker still holds the delivery)."""
    done = session.execute(update(AlertDelivery).where(AlertDelivery.id == delivery_id,
                                                       AlertDelivery.locked_by == worker)
                           .values(locked_by=None, locked_until=None, **values)
                           .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
    if done and prepared is not None and prepared.subscription_id is not None:
        _subscription_health(session, prepared.subscription_id, succeeded, settings)
    return bool(done)


def _subscription_health(session: Session, subscription_id: uuid.UUID, succeeded: bool, settings: Settings) -> None:
    subscription = session.get(WebhookSubscription, subscription_id)
    if subscription is None:
        return
    now = utcnow()
    if succeeded:
        subscription.consecutive_failures, subscription.failing_since = 0, None
        return
    subscription.consecutive_failures += 1
    subscription.failing_since = subscription.failing_since or now
    failing_for = now - subscription.failing_since
    if subscription.enabled and (subscription.consecutive_failures >= settings.webhook_disable_after_failures
                                 or failing_for >= timedelta(days=settings.webhook_disable_after_days)):
        subscription.enabled = False
        subscription.disabled_reason = (f"{subscription.consecutive_failures} consecutive failures over "
                                        f"{failing_for.days} day(s)")
        audit.record(session, actor="system", action="webhook.disabled", entity_type="webhook_subscription",
                     entity_id=subscription.id, details={"reason": subscription.disabled_reason})
        if subscription.owner_id is not None:  # a client's is seen in its subscription's state and the audit
            service.system_alert(session, subscription.owner_id,
                                 f"Webhook disabled after repeated failures: {subscription.url}")


#: Attempts recorded per transaction: a sender killed before recording repeats at most these (same ids).
_RECORD_EVERY = 20


def send_due(factory: sessionmaker[Session] | None = None, *, settings: Settings | None = None,
             transport: EmailTransport | None = None, worker: str | None = None, batch: int = 50,
             max_batches: int | None = None, rng: random.Random | None = None,
             on_sent: Callable[[uuid.UUID], None] | None = None) -> SendReport:
    """Send every due delivery; returns the counts. A claimed batch is sent ``alert_send_concurrency`` at a time
    (a provider answers in tens or hundreds of milliseconds: one at a time would cap a team at a few e-mails a
    second), and the results are recorded as they come, a few per transaction."""
    factory = factory or session_factory()
    settings = settings or get_settings()
    transport = transport or email_transport(settings)
    worker = worker or tasks.worker_name("alerts")
    rng = rng or random.Random()  # noqa: S311 - retry jitter, not a secret
    lease = timedelta(seconds=settings.alert_delivery_lease_seconds)
    report = SendReport()
    batches = 0
    with ThreadPoolExecutor(max_workers=settings.alert_send_concurrency,
                            thread_name_prefix="upswing-send") as pool:
        while max_batches is None or batches < max_batches:
            claimed = claim(factory, worker, batch, lease)
            if not claimed:
                break
            batches += 1
            prepared = _prepare_many(factory, claimed, worker, settings)
            futures = {pool.submit(_attempt, delivery_id, ready, settings, transport): delivery_id
                       for delivery_id, ready in prepared.items()}
            done: list[tuple[uuid.UUID, _Prepared | SendFailed, tuple[str, int | None] | SendFailed]] = []
            for future in as_completed(futures):
                delivery_id = futures[future]
                done.append((delivery_id, prepared[delivery_id], future.result()))
                if len(done) >= _RECORD_EVERY:
                    _record_results(factory, done, worker, settings, rng, report, on_sent)
                    done = []
            _record_results(factory, done, worker, settings, rng, report, on_sent)
    return report


def _observe_latency(session: Session, sent: dict[uuid.UUID, str], now: datetime) -> None:
    """``upswing_alert_delivery_latency_seconds``: from each sent delivery's signal's detection to now."""
    if not sent:
        return
    for delivery_id, detected_at in session.execute(
            select(AlertDelivery.id, Signal.detected_at).join(Alert, Alert.id == AlertDelivery.alert_id)
            .join(Signal, Signal.id == Alert.signal_id).where(AlertDelivery.id.in_(list(sent)))):
        ALERT_DELIVERY_LATENCY.labels(sent[delivery_id]).observe(max((now - detected_at).total_seconds(), 0.0))


def _attempt(delivery_id: uuid.UUID, ready: _Prepared | SendFailed, settings: Settings,
             transport: EmailTransport) -> tuple[str, int | None] | SendFailed:
    """One send (in a pool thread): (provider id, HTTP status) or the failure."""
    if isinstance(ready, SendFailed):
        return ready
    try:
        if ready.email is not None:
            return transport.send(ready.email).provider_id, None
        assert ready.url and ready.secret is not None and ready.payload is not None
        result = send_webhook(settings, ready.url, ready.secret, f"msg_{delivery_id}", ready.payload)
        return f"msg_{delivery_id}", result.status
    except SendFailed as failure:
        return failure


def _record_results(factory: sessionmaker[Session],
                    results: list[tuple[uuid.UUID, _Prepared | SendFailed, tuple[str, int | None] | SendFailed]],
                    worker: str, settings: Settings, rng: random.Random, report: SendReport,
                    on_sent: Callable[[uuid.UUID], None] | None) -> None:
    if not results:
        return
    now = utcnow()
    with factory() as session, session.begin():
        sent: dict[uuid.UUID, str] = {}
        for delivery_id, ready, outcome in results:
            prepared = ready if isinstance(ready, _Prepared) else None
            if not isinstance(outcome, SendFailed):
                provider_id, status = outcome
                if _record(session, delivery_id, worker, prepared, {
                        "status": DeliveryStatus.SENT.value, "provider_id": provider_id, "response_status": status,
                        "sent_at": now, "last_error": None}, settings, succeeded=True):
                    report.sent += 1
                    sent[delivery_id] = prepared.channel if prepared is not None else "unknown"
                continue
            # A delivery that could not even be prepared has failed for good.
            retry_at = _backoff(prepared, outcome, settings, now, rng) if prepared is not None else None
            values: dict[str, Any] = {"last_error": str(outcome)[:4000], "response_status": outcome.status}
            if retry_at is None:
                values["status"] = DeliveryStatus.FAILED.value
                report.failed += 1
            else:
                values["run_after"] = retry_at
                report.retried += 1
            _record(session, delivery_id, worker, prepared, values, settings, succeeded=False)
            log.warning("alerts.send_failed", delivery_id=str(delivery_id), permanent=outcome.permanent,
                        retry_at=retry_at.isoformat() if retry_at else None, error=str(outcome))
        _observe_latency(session, sent, now)
    if on_sent is not None:
        for delivery_id, _, _ in results:
            on_sent(delivery_id)


# --------------------------------------------------------------------------------------------------
# Webhook subscriptions
# --------------------------------------------------------------------------------------------------


def _owns(user: User, subscription: WebhookSubscription) -> bool:
    """An admin manages every subscription; a manager their own; a machine client its own."""
    if user.role == Role.ADMIN.value:
        return True
    client_id = client_id_of(user)
    return subscription.client_id == client_id if client_id is not None else subscription.owner_id == user.id


def _own_subscription(session: Session, user: User | None, subscription_id: uuid.UUID) -> WebhookSubscription:
    subscription = session.get(WebhookSubscription, subscription_id)
    if subscription is None or (user is not None and not _owns(user, subscription)):
        raise NotFoundError(f"webhook subscription {subscription_id} not found")
    return subscription


def list_subscriptions(session: Session, user: User | None) -> list[WebhookSubscription]:
    query = select(WebhookSubscription).order_by(WebhookSubscription.created_at)
    if user is not None and user.role != Role.ADMIN.value:
        client_id = client_id_of(user)
        query = query.where(WebhookSubscription.client_id == client_id if client_id is not None
                            else WebhookSubscription.owner_id == user.id)
    return list(session.scalars(query))


def get_subscription(session: Session, user: User | None, subscription_id: uuid.UUID) -> WebhookSubscription:
    return _own_subscription(session, user, subscription_id)


def create_subscription(session: Session, data: SubscriptionCreate, *, owner: User,
                        settings: Settings | None = None) -> WebhookSubscription:
    if owner.role not in (Role.ADMIN.value, Role.MANAGER.value):
        raise PermissionDeniedError("only admins and managers subscribe webhooks")
    check_webhook_url(settings or get_settings(), data.url)
    subscription = WebhookSubscription(owner_id=owner.id, client_id=client_id_of(owner), url=data.url,
                                       description=data.description,
                                       event_types=list(dict.fromkeys(data.event_types)), secret=new_secret(),
                                       enabled=True, consecutive_failures=0)
    session.add(subscription)
    session.flush()
    audit.record(session, actor=f"user:{owner.username}", action="webhook.create",
                 entity_type="webhook_subscription", entity_id=subscription.id,
                 details={"url": data.url, "event_types": subscription.event_types})
    return subscription


def update_subscription(session: Session, subscription_id: uuid.UUID, data: SubscriptionUpdate, *,
                        user: User | None, actor: str, settings: Settings | None = None) -> WebhookSubscription:
    subscription = _own_subscription(session, user, subscription_id)
    changes = data.model_dump(exclude_unset=True)
    if data.url is not None:
        check_webhook_url(settings or get_settings(), data.url)
        subscription.url = data.url
    if data.event_types is not None:
        subscription.event_types = list(dict.fromkeys(data.event_types))
    if "description" in changes:
        subscription.description = data.description
    if data.enabled is not None:
        subscription.enabled = data.enabled
        if data.enabled:  # switched back on: a fresh start
            subscription.disabled_reason, subscription.consecutive_failures = None, 0
            subscription.failing_since = None
    session.flush()
    audit.record(session, actor=actor, action="webhook.update", entity_type="webhook_subscription",
                 entity_id=subscription.id, details=changes)
    return subscription


def delete_subscription(session: Session, subscription_id: uuid.UUID, *, user: User | None, actor: str) -> None:
    subscription = _own_subscription(session, user, subscription_id)
    session.delete(subscription)
    audit.record(session, actor=actor, action="webhook.delete", entity_type="webhook_subscription",
                 entity_id=subscription_id, details={"url": subscription.url})
    session.flush()


def rotate_secret(session: Session, subscription_id: uuid.UUID, *, user: User | None,
                  actor: str) -> WebhookSubscription:
    subscription = _own_subscription(session, user, subscription_id)
    subscription.secret = new_secret()
    session.flush()
    audit.record(session, actor=actor, action="webhook.rotate_secret", entity_type="webhook_subscription",
                 entity_id=subscription.id)
    return subscription


def ping(session: Session, subscription_id: uuid.UUID, *, user: User | None) -> AlertDelivery:
    """Queue a signed ``ping`` event to the subscription (its delivery shows whether it arrived)."""
    subscription = _own_subscription(session, user, subscription_id)
    now = utcnow()
    delivery = AlertDelivery(id=uuid.uuid4(), channel=AlertChannel.WEBHOOK.value, subscription_id=subscription.id,
                             event_type="ping", payload={"type": "ping", "timestamp": now.isoformat(), "data": {
                                 "subscription_id": str(subscription.id)}},
                             status=DeliveryStatus.PENDING.value, run_after=now, created_at=now, attempts=0)
    session.add(delivery)
    session.flush()
    tasks.enqueue(session, service.SEND_TASK, key=f"{service.SEND_TASK}:{delivery.id}", max_attempts=1)
    return delivery


def list_deliveries(session: Session, subscription_id: uuid.UUID, *, user: User | None, status: str | None = None,
                    limit: int = 100) -> list[AlertDelivery]:
    _own_subscription(session, user, subscription_id)
    query = select(AlertDelivery).where(AlertDelivery.subscription_id == subscription_id)
    if status:
        query = query.where(AlertDelivery.status == status)
    return list(session.scalars(query.order_by(AlertDelivery.created_at.desc(), AlertDelivery.id.desc())
                                .limit(limit)))


def replay(session: Session, subscription_id: uuid.UUID, delivery_id: uuid.UUID, *,
           user: User | None) -> AlertDelivery:
    """Send a delivery's event again, as a new delivery (a new ``webhook-id``: the receiver asked for it again)."""
    _own_subscription(session, user, subscription_id)
    original = session.get(AlertDelivery, delivery_id)
    if original is None or original.subscription_id != subscription_id:
        raise NotFoundError(f"delivery {delivery_id} not found for this subscription")
    if original.payload is None:
        raise ValidationFailedError("this delivery has no event body to replay")
    now = utcnow()
    copy = AlertDelivery(id=uuid.uuid4(), alert_id=original.alert_id, channel=original.channel,
                         subscription_id=subscription_id, event_type=original.event_type, payload=original.payload,
                         status=DeliveryStatus.PENDING.value, run_after=now, created_at=now, attempts=0,
                         replay_of=original.id)
    session.add(copy)
    session.flush()
    tasks.enqueue(session, service.SEND_TASK, key=f"{service.SEND_TASK}:{copy.id}", max_attempts=1)
    return copy


def failed_deliveries(session: Session, *, limit: int = 100) -> list[AlertDelivery]:
    """Deliveries that failed for good (admins' view: nothing fails quietly)."""
    return list(session.scalars(select(AlertDelivery).where(AlertDelivery.status == DeliveryStatus.FAILED.value)
                                .order_by(AlertDelivery.created_at.desc()).limit(limit)))
