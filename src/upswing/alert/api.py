"""HTTP endpoints of the alert domain: rules, the inbox, the live stream, webhook subscriptions (thin)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Annotated

import anyio
import orjson
from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session, sessionmaker

from upswing.account.deps import Admin, AnyUser, ManagerOrAdmin
from upswing.account.models import User
from upswing.alert import sending, service
from upswing.alert.models import AlertDelivery
from upswing.alert.schemas import (
    AlertFilters,
    AlertPage,
    AlertRead,
    AlertSummary,
    DeliveryRead,
    DryRunRequest,
    DryRunResult,
    ReadAllResult,
    RuleCreate,
    RuleOptions,
    RuleRead,
    RuleUpdate,
    SubscriptionCreate,
    SubscriptionRead,
    SubscriptionUpdate,
    SubscriptionWithSecret,
)
from upswing.core import rls
from upswing.core.db import read_session
from upswing.core.deps import AppSettings, DbSession
from upswing.notify import stream
from upswing.settings import Settings

router = APIRouter(prefix="/api/v1", tags=["alerts"])


def _actor(user: User) -> str:
    return f"user:{user.username}"


# --------------------------------------------------------------------------------------------------
# Rules


@router.get("/alert-rules", response_model=list[RuleRead], operation_id="alert_rules_list")
def list_rules(user: ManagerOrAdmin, session: DbSession) -> list[object]:
    """Rules that apply to your team's leads (admins: every rule)."""
    return list(service.list_rules(session, user))


@router.post("/alert-rules", response_model=RuleRead, status_code=201, operation_id="alert_rules_create")
def create_rule(body: RuleCreate, user: ManagerOrAdmin, session: DbSession) -> object:
    rule = service.create_rule(session, body, user=user, actor=_actor(user))
    session.commit()
    return rule


@router.post("/alert-rules/dry-run", response_model=DryRunResult, operation_id="alert_rules_dry_run")
def dry_run(body: DryRunRequest, user: ManagerOrAdmin, session: DbSession) -> DryRunResult:
    """Which of the newest signals these conditions would have matched (nothing is sent)."""
    return service.dry_run(session, body.conditions, last=body.last, team=body.team, user=user)


@router.get("/alert-rules/options", response_model=RuleOptions, operation_id="alert_rules_options")
def rule_options(user: ManagerOrAdmin, session: DbSession) -> RuleOptions:
    """The names a rule's conditions and recipients may use: the rule editor's choices."""
    return service.rule_options(session, user)


@router.get("/alert-rules/{rule_id}", response_model=RuleRead, operation_id="alert_rules_get")
def get_rule(rule_id: uuid.UUID, user: ManagerOrAdmin, session: DbSession) -> object:
    return service.get_rule(session, rule_id, user)


@router.patch("/alert-rules/{rule_id}", response_model=RuleRead, operation_id="alert_rules_update")
def update_rule(rule_id: uuid.UUID, body: RuleUpdate, user: ManagerOrAdmin, session: DbSession) -> object:
    rule = service.update_rule(session, rule_id, body, user=user, actor=_actor(user))
    session.commit()
    return rule


@router.delete("/alert-rules/{rule_id}", status_code=204, operation_id="alert_rules_delete")
def delete_rule(rule_id: uuid.UUID, user: ManagerOrAdmin, session: DbSession) -> Response:
    service.delete_rule(session, rule_id, user=user, actor=_actor(user))
    session.commit()
    return Response(status_code=204)


@router.post("/alert-rules/{rule_id}/dry-run", response_model=DryRunResult, operation_id="alert_rules_dry_run_one")
def dry_run_rule(rule_id: uuid.UUID, user: ManagerOrAdmin, session: DbSession,
                 last: Annotated[int, Query(ge=1, le=5000)] = 200) -> DryRunResult:
    rule = service.get_rule(session, rule_id, user)
    return service.dry_run(session, rule.conditions, last=last, user=user)


# --------------------------------------------------------------------------------------------------
# The inbox


@router.get("/alerts", response_model=AlertPage, operation_id="alerts_list")
def list_alerts(filters: Annotated[AlertFilters, Query()], user: AnyUser, session: DbSession) -> AlertPage:
    """Your alerts, newest first (page with ``next_cursor``)."""
    return service.list_alerts(session, user, filters)


@router.get("/alerts/summary", response_model=AlertSummary, operation_id="alerts_summary")
def alerts_summary(user: AnyUser, session: DbSession) -> AlertSummary:
    """Counts of your alerts by priority and status."""
    return service.summary(session, user)


@router.post("/alerts/read-all", response_model=ReadAllResult, operation_id="alerts_read_all")
def read_all(user: AnyUser, session: DbSession) -> ReadAllResult:
    marked = service.read_all(session, user)
    session.commit()
    return ReadAllResult(marked=marked)


@router.get("/alerts/deliveries/failed", response_model=list[DeliveryRead], operation_id="alerts_failed_deliveries")
def failed_deliveries(_: Admin, session: DbSession,
                      limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[AlertDelivery]:
    """Deliveries that failed for good, newest first (a failure must not look like a quiet day)."""
    return sending.failed_deliveries(session, limit=limit)


@router.get("/alerts/{alert_id}", response_model=AlertRead, operation_id="alerts_get")
def get_alert(alert_id: uuid.UUID, user: AnyUser, session: DbSession) -> AlertRead:
    """One of your alerts, with its deliveries."""
    return service.get_alert(session, user, alert_id)


@router.post("/alerts/{alert_id}/read", response_model=AlertRead, operation_id="alerts_read")
def read_alert(alert_id: uuid.UUID, user: AnyUser, session: DbSession) -> AlertRead:
    alert = service.mark_read(session, user, alert_id)
    session.commit()
    return alert


# --------------------------------------------------------------------------------------------------
# The live stream (Server-Sent Events)


def _events_since(factory: sessionmaker[Session], user_id: uuid.UUID, after: int) -> list[tuple[int, str, bytes]]:
    with read_session(factory) as session:
        return [(row.id, row.kind, orjson.dumps(row.data)) for row in stream.read_since(session, user_id, after)]


def _latest(factory: sessionmaker[Session], user_id: uuid.UUID) -> int:
    with read_session(factory) as session:
        return stream.latest_id(session, user_id)


async def _sse(request: Request, user_id: uuid.UUID, after: int | None, settings: Settings,
               max_seconds: float | None) -> AsyncIterator[bytes]:
    factory: sessionmaker[Session] = request.app.state.session_factory
    loop = asyncio.get_running_loop()
    deadline = loop.time() + max_seconds if max_seconds is not None else None
    stream.ensure_listener(settings.sqlalchemy_url)
    wake, unsubscribe = stream.BROADCASTER.subscribe(user_id)
    try:
        if after is None:
            after = await anyio.to_thread.run_sync(_latest, factory, user_id)
        yield f"retry: 3000\n: connected as {user_id}\n\n".encode()
        idle = 0.0
        while not await request.is_disconnected():
            if deadline is not None and loop.time() >= deadline:
                return
            wake.clear()
            events = await anyio.to_thread.run_sync(_events_since, factory, user_id, after)
            for event_id, kind, data in events:
                yield b"id: %d\nevent: %s\ndata: %s\n\n" % (event_id, kind.encode(), data)
                after = event_id
            if events:
                idle = 0.0
                continue
            wait = settings.stream_poll_seconds
            if deadline is not None:
                wait = max(min(wait, deadline - loop.time()), 0.0)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout=wait)
                continue
            idle += settings.stream_poll_seconds
            if idle >= settings.stream_heartbeat_seconds:
                idle = 0.0
                yield b": heartbeat\n\n"
    finally:
        unsubscribe()


@router.get("/stream", operation_id="stream", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}}, "description": "Server-Sent Events"}})
def live_stream(request: Request, user: AnyUser, settings: AppSettings, session: DbSession,
                last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
                max_seconds: Annotated[float | None, Query(gt=0, le=3600, description=(
                    "Close the stream after this long (long-polling clients); default: never"))] = None,
                ) -> StreamingResponse:
    """Your live events (``alert.created``, ``alert.updated``, ``alert.read``…) as Server-Sent Events. Send
    ``Last-Event-ID`` to resume after a disconnect; a comment line every ``stream_heartbeat_seconds`` keeps
    proxies from closing an idle stream."""
    # The request's session only authenticated: give its connection back now, not when the stream ends hours
    # later (each open stream would otherwise hold a connection and an open transaction).
    user_id = user.id
    session.rollback()
    rls.stop_acting(session)
    session.close()
    after: int | None = None
    if last_event_id is not None:
        try:
            after = max(int(last_event_id), 0)
        except ValueError:
            after = None
    return StreamingResponse(_sse(request, user_id, after, settings, max_seconds), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


# --------------------------------------------------------------------------------------------------
# Webhook subscriptions


@router.get("/webhooks", response_model=list[SubscriptionRead], operation_id="webhooks_list", tags=["webhooks"])
def list_webhooks(user: ManagerOrAdmin, session: DbSession) -> list[object]:
    return list(sending.list_subscriptions(session, user))


@router.post("/webhooks", response_model=SubscriptionWithSecret, status_code=201, operation_id="webhooks_create",
             tags=["webhooks"])
def create_webhook(body: SubscriptionCreate, user: ManagerOrAdmin, session: DbSession,
                   settings: AppSettings) -> object:
    """Subscribe a URL to alert events; the answer shows the signing secret once."""
    subscription = sending.create_subscription(session, body, owner=user, settings=settings)
    session.commit()
    return subscription


@router.get("/webhooks/{subscription_id}", response_model=SubscriptionRead, operation_id="webhooks_get",
            tags=["webhooks"])
def get_webhook(subscription_id: uuid.UUID, user: ManagerOrAdmin, session: DbSession) -> object:
    return sending.get_subscription(session, user, subscription_id)


@router.patch("/webhooks/{subscription_id}", response_model=SubscriptionRead, operation_id="webhooks_update",
              tags=["webhooks"])
def update_webhook(subscription_id: uuid.UUID, body: SubscriptionUpdate, user: ManagerOrAdmin, session: DbSession,
                   settings: AppSettings) -> object:
    subscription = sending.update_subscription(session, subscription_id, body, user=user, actor=_actor(user),
                                               settings=settings)
    session.commit()
    return subscription


@router.delete("/webhooks/{subscription_id}", status_code=204, operation_id="webhooks_delete", tags=["webhooks"])
def delete_webhook(subscription_id: uuid.UUID, user: ManagerOrAdmin, session: DbSession) -> Response:
    sending.delete_subscription(session, subscription_id, user=user, actor=_actor(user))
    session.commit()
    return Response(status_code=204)


@router.post("/webhooks/{subscription_id}/rotate-secret", response_model=SubscriptionWithSecret,
             operation_id="webhooks_rotate_secret", tags=["webhooks"])
def rotate_webhook_secret(subscription_id: uuid.UUID, user: ManagerOrAdmin, session: DbSession) -> object:
    subscription = sending.rotate_secret(session, subscription_id, user=user, actor=_actor(user))
    session.commit()
    return subscription


@router.post("/webhooks/{subscription_id}/test", response_model=DeliveryRead, status_code=202,
             operation_id="webhooks_test", tags=["webhooks"])
def test_webhook(subscription_id: uuid.UUID, user: ManagerOrAdmin, session: DbSession) -> AlertDelivery:
    """Queue a signed ``ping``; its delivery (``GET …/deliveries``) shows whether it arrived."""
    delivery = sending.ping(session, subscription_id, user=user)
    session.commit()
    return delivery


@router.get("/webhooks/{subscription_id}/deliveries", response_model=list[DeliveryRead],
            operation_id="webhooks_deliveries", tags=["webhooks"])
def webhook_deliveries(subscription_id: uuid.UUID, user: ManagerOrAdmin, session: DbSession,
                       status: Annotated[str | None, Query(pattern="^(pending|sent|failed)$")] = None,
                       limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[AlertDelivery]:
    return sending.list_deliveries(session, subscription_id, user=user, status=status, limit=limit)


@router.post("/webhooks/{subscription_id}/deliveries/{delivery_id}/replay", response_model=DeliveryRead,
             status_code=202, operation_id="webhooks_replay", tags=["webhooks"])
def replay_delivery(subscription_id: uuid.UUID, delivery_id: uuid.UUID, user: ManagerOrAdmin,
                    session: DbSession) -> AlertDelivery:
    delivery = sending.replay(session, subscription_id, delivery_id, user=user)
    session.commit()
    return delivery
