"""Digest routes for the role matrix (tests/account/test_role_matrix.py loads this file).

``PUBLIC`` routes take no sign-in: the one-click unsubscribe link (its signed token is the authority) and Brevo's
event webhook (a token and a network of its own). tests/digest/test_mail.py covers who they accept and refuse.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from upswing.account.models import Role, Team
from upswing.notify.models import EmailSuppression

ADMIN = {Role.ADMIN}
EVERYONE = {Role.ADMIN, Role.MANAGER, Role.AGENT, Role.VIEWER}

ROUTES: list[tuple[str, str, set[Role]]] = [
    ("GET", "/api/v1/digest/preferences", EVERYONE),
    ("PATCH", "/api/v1/digest/preferences", EVERYONE),
    ("GET", "/api/v1/digest/preferences/users/{user_id}", ADMIN),
    ("PATCH", "/api/v1/digest/preferences/users/{user_id}", ADMIN),
    ("GET", "/api/v1/digest/preferences/teams/{team_id}", ADMIN),
    ("PATCH", "/api/v1/digest/preferences/teams/{team_id}", ADMIN),
    ("GET", "/api/v1/digest/preview", EVERYONE),
    ("POST", "/api/v1/digest/send", EVERYONE),
    ("GET", "/api/v1/digests", EVERYONE),
    ("GET", "/api/v1/email-suppressions", ADMIN),
    ("DELETE", "/api/v1/email-suppressions/{address}", ADMIN),
]

PUBLIC: set[tuple[str, str]] = {
    ("GET", "/api/v1/digest/unsubscribe"),
    ("POST", "/api/v1/digest/unsubscribe"),
    ("POST", "/api/v1/email/events/brevo"),
}


def prepare(session: Session, method: str, path: str, lead: Any, user: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    if "{user_id}" in path:
        return {"user_id": user.id}, ({"json": {"send_time": "06:30"}} if method == "PATCH" else {})
    if "{team_id}" in path:
        team = Team(name=f"matrix-{uuid.uuid4().hex[:8]}")
        session.add(team)
        session.flush()
        return {"team_id": team.id}, ({"json": {"frequency": "weekdays"}} if method == "PATCH" else {})
    if path == "/api/v1/digest/preferences" and method == "PATCH":
        return {}, {"json": {"send_time": "06:30"}}
    if path == "/api/v1/digest/send":
        return {}, {"json": {}}
    if "{address}" in path:
        address = f"bounced-{uuid.uuid4().hex[:8]}@team.example"
        session.add(EmailSuppression(address=address, reason="hard_bounce", source="brevo"))
        session.flush()
        return {"address": address}, {}
    return {}, {}
