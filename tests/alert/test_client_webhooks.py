"""Webhook subscriptions managed by a machine client (``webhooks:manage``): its own, and alerts reach them."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from factories import auth, make_lead, make_signal, make_user
from upswing.account.models import ApiClient, Role
from upswing.alert import service
from upswing.alert.models import AlertDelivery, AlertRule
from upswing.alert.schemas import RuleCreate

NOW = datetime(2026, 12, 8, 18, 30, tzinfo=UTC)
HOOK = {"url": "https://hooks.example.com/crm", "event_types": ["alert.created"]}


def _client_token(client: Any, admin: dict[str, str], scopes: list[str]) -> tuple[str, dict[str, str]]:
    registered = client.post("/api/v1/api-clients", headers=admin,
                             json={"name": f"crm-{uuid.uuid4().hex[:8]}", "scopes": scopes}).json()
    basic = base64.b64encode(f"{registered['id']}:{registered['client_secret']}".encode()).decode()
    token = client.post("/api/v1/oauth/token", data={"grant_type": "client_credentials"},
                        headers={"Authorization": f"Basic {basic}"}).json()["access_token"]
    return registered["id"], {"Authorization": f"Bearer {token}"}


def test_a_client_manages_its_own_subscriptions_only(app: Any, client: Any, db_session: Session) -> None:
    admin_user, manager_user = make_user(db_session, Role.ADMIN), make_user(db_session, Role.MANAGER)
    db_session.commit()
    admin, manager = auth(app, admin_user), auth(app, manager_user)
    client_id, crm = _client_token(client, admin, ["webhooks:manage"])
    created = client.post("/api/v1/webhooks", json=HOOK, headers=crm)
    assert created.status_code == 201, created.text
    assert created.json()["client_id"] == client_id and created.json()["owner_id"] is None
    assert created.json()["secret"]
    mine = client.post("/api/v1/webhooks", json=HOOK, headers=manager).json()
    listed = client.get("/api/v1/webhooks", headers=crm).json()
    assert [item["id"] for item in listed] == [created.json()["id"]]
    assert client.get(f"/api/v1/webhooks/{mine['id']}", headers=crm).status_code == 404
    assert created.json()["id"] not in [item["id"] for item in client.get("/api/v1/webhooks", headers=manager).json()]
    assert len(client.get("/api/v1/webhooks", headers=admin).json()) == 2
    rotated = client.post(f"/api/v1/webhooks/{created.json()['id']}/rotate-secret", headers=crm)
    assert rotated.status_code == 200 and rotated.json()["secret"] != created.json()["secret"]
    assert client.delete(f"/api/v1/webhooks/{created.json()['id']}", headers=crm).status_code == 204
    _, reader = _client_token(client, admin, ["leads:read"])
    refused = client.get("/api/v1/webhooks", headers=reader)
    assert refused.status_code == 403
    assert 'scope="webhooks:manage"' in refused.headers["WWW-Authenticate"]


def test_alerts_reach_a_clients_subscription_while_the_client_is_active(app: Any, client: Any,
                                                                       db_session: Session) -> None:
    admin_user = make_user(db_session, Role.ADMIN)
    db_session.commit()
    client_id, crm = _client_token(client, auth(app, admin_user), ["webhooks:manage"])
    subscription_id = uuid.UUID(client.post("/api/v1/webhooks", json=HOOK, headers=crm).json()["id"])
    db_session.execute(delete(AlertRule))
    service.create_rule(db_session, RuleCreate.model_validate({"name": "all", "channels": ["in_app", "webhook"]}),
                        user=None, actor="test")
    agent = make_user(db_session)
    lead = make_lead(db_session, assignee_id=agent.id)
    service.on_signal(db_session, make_signal(db_session, lead), now=NOW)
    deliveries = list(db_session.scalars(select(AlertDelivery).where(AlertDelivery.subscription_id == subscription_id)))
    assert [d.event_type for d in deliveries] == ["alert.created"]
    assert deliveries[0].payload["data"]["lead"] == {"id": str(lead.id), "external_id": lead.external_id}
    api_client = db_session.get(ApiClient, uuid.UUID(client_id))
    assert api_client is not None
    api_client.is_active = False
    other = make_lead(db_session, assignee_id=agent.id)
    service.on_signal(db_session, make_signal(db_session, other), now=NOW)
    assert len(list(db_session.scalars(select(AlertDelivery).where(
        AlertDelivery.subscription_id == subscription_id)))) == 1
