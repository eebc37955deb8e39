"""Role matrix rows for the tracking routes (tests/account/test_role_matrix.py loads this file): everyone reads the
profiles of the leads they see; admins manage sites and issue link tokens. The snippet and the calls it makes take
no sign-in (a site key, allowed origins, rate and size limits): tests/tracking tests them."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from upswing.account.models import Role
from upswing.tracking import service
from upswing.tracking.models import TrackingVisitor
from upswing.tracking.schemas import SiteCreate

EVERYONE = {Role.ADMIN, Role.MANAGER, Role.AGENT, Role.VIEWER}
ROUTES: list[tuple[str, str, set[Role]]] = [
    ("GET", "/api/v1/tracking/profiles", EVERYONE),
    ("GET", "/api/v1/tracking/profiles/{profile_id}", EVERYONE),
    ("GET", "/api/v1/tracking/sites", {Role.ADMIN}),
    ("POST", "/api/v1/tracking/sites", {Role.ADMIN}),
    ("POST", "/api/v1/tracking/link-tokens", {Role.ADMIN}),
    ("GET", "/api/v1/tracking/sites/{site_id}/stats", {Role.ADMIN}),
]
PUBLIC = {("GET", "/t.js"), ("POST", "/api/v1/tracking/page"), ("POST", "/api/v1/tracking/track"),
          ("POST", "/api/v1/tracking/identify")}


def prepare(session: Session, method: str, path: str, lead: Any, user: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    if path == "/api/v1/tracking/sites" and method == "POST":
        return {}, {"json": {"name": f"portal-{lead.id}", "allowed_origins": ["https://portal.example"]}}
    if path.endswith("/link-tokens"):
        return {}, {"json": {"lead_id": str(lead.id), "days": 7}}
    if "{site_id}" in path:
        site, _ = service.create_site(session, SiteCreate(name=f"stats-{lead.id}",
                                                          allowed_origins=["https://portal.example"]), actor="test")
        return {"site_id": site.id}, {}
    if "{profile_id}" in path:
        site, _ = service.create_site(session, SiteCreate(name=f"matrix-{lead.id}",
                                                          allowed_origins=["https://portal.example"]), actor="test")
        visitor = TrackingVisitor(site_id=site.id, visitor_hash=f"{lead.id.hex}{'0' * 32}", lead_id=lead.id,
                                  consent="granted", link_method="login")
        session.add(visitor)
        session.flush()
        return {"profile_id": visitor.id}, {}
    return {}, {}
