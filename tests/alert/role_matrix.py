"""Alert routes for the role matrix (tests/account/test_role_matrix.py loads this file)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from upswing.account.models import Role, User
from upswing.alert.models import Alert, AlertDelivery, AlertRule, WebhookSubscription
from upswing.core.db import utcnow
from upswing.lead.models import Lead

ADMIN, MANAGER, AGENT, VIEWER = Role.ADMIN, Role.MANAGER, Role.AGENT, Role.VIEWER
EVERYONE = {ADMIN, MANAGER, AGENT, VIEWER}
MANAGERS = {ADMIN, MANAGER}

ROUTES: list[tuple[str, str, set[Role]]] = [
    ("GET", "/api/v1/alert-rules", MANAGERS),
    ("POST", "/api/v1/alert-rules", MANAGERS),
    ("POST", "/api/v1/alert-rules/dry-run", MANAGERS),
    ("GET", "/api/v1/alert-rules/options", MANAGERS),
    ("GET", "/api/v1/alert-rules/{rule_id}", MANAGERS),
    ("PATCH", "/api/v1/alert-rules/{rule_id}", MANAGERS),
    ("DELETE", "/api/v1/alert-rules/{rule_id}", MANAGERS),
    ("POST", "/api/v1/alert-rules/{rule_id}/dry-run", MANAGERS),
    ("GET", "/api/v1/alerts", EVERYONE),
    ("GET", "/api/v1/alerts/summary", EVERYONE),
    ("POST", "/api/v1/alerts/read-all", EVERYONE),
    ("GET", "/api/v1/alerts/deliveries/failed", {ADMIN}),
    ("GET", "/api/v1/alerts/{alert_id}", EVERYONE),
    ("POST", "/api/v1/alerts/{alert_id}/read", EVERYONE),
    ("GET", "/api/v1/stream", EVERYONE),
    ("GET", "/api/v1/webhooks", MANAGERS),
    ("POST", "/api/v1/webhooks", MANAGERS),
    ("GET", "/api/v1/webhooks/{subscription_id}", MANAGERS),
    ("PATCH", "/api/v1/webhooks/{subscription_id}", MANAGERS),
    ("DELETE", "/api/v1/webhooks/{subscription_id}", MANAGERS),
    ("POST", "/api/v1/webhooks/{subscription_id}/rotate-secret", MANAGERS),
    ("POST", "/api/v1/webhooks/{subscription_id}/test", MANAGERS),
    ("GET", "/api/v1/webhooks/{subscription_id}/deliveries", MANAGERS),
    ("POST", "/api/v1/webhooks/{subscription_id}/deliveries/{delivery_id}/replay", MANAGERS),
]


def prepare(session: Session, method: str, path: str, lead: Lead, user: User) -> tuple[dict[str, Any], dict[str, Any]]:
    """(extra path parameters, request kwargs) for one route; ``lead`` is assigned to ``user``."""
    params: dict[str, Any] = {}
    if "{rule_id}" in path:
        rule = AlertRule(name="matrix", channels=["in_app"], conditions={}, recipients={"to": "owner"},
                         team_id=user.team_id)
        session.add(rule)
        session.flush()
        params["rule_id"] = rule.id
    if "{alert_id}" in path:
        now = utcnow()
        alert = Alert(id=uuid.uuid4(), user_id=user.id, lead_id=lead.id, kind="signal", priority="high",
                      title="New job", guard={}, routed_by="assignee", window_ends_at=now, created_at=now,
                      updated_at=now)
        session.add(alert)
        session.flush()
        params["alert_id"] = alert.id
    if "{subscription_id}" in path:
        subscription = WebhookSubscription(owner_id=user.id, url="https://hooks.example.com/upswing",
                                           event_types=["alert.created"], secret="whsec_" + "A" * 32)
        session.add(subscription)
        session.flush()
        params["subscription_id"] = subscription.id
        if "{delivery_id}" in path:
            delivery = AlertDelivery(channel="webhook", subscription_id=subscription.id, event_type="ping",
                                     payload={"type": "ping"}, status="failed")
            session.add(delivery)
            session.flush()
            params["delivery_id"] = delivery.id
    if path == "/api/v1/alert-rules" and method == "POST":
        return params, {"json": {"name": "matrix rule", "conditions": {"min_score": 50}}}
    if path.endswith("/alert-rules/dry-run"):
        return params, {"json": {"conditions": {"min_score": 50}, "last": 10}}
    if path.endswith("{rule_id}") and method == "PATCH":
        return params, {"json": {"enabled": False}}
    if path == "/api/v1/stream":
        return params, {"params": {"max_seconds": 0.05}}
    if path == "/api/v1/webhooks" and method == "POST":
        return params, {"json": {"url": "https://hooks.example.com/new"}}
    if path.endswith("{subscription_id}") and method == "PATCH":
        return params, {"json": {"description": "CRM"}}
    return params, {}
