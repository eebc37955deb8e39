"""Every endpoint × every role: who gets in, who is refused, and agents see only their own leads."""

from __future__ import annotations

import importlib.util
import io
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from factories import PASSWORD, auth, make_lead, make_portfolio, make_review_match, make_signal, make_team, make_user
from upswing.account.models import Role
from upswing.signal import service as signal_service
from upswing.signal.models import SignalAction

ADMIN, MANAGER, AGENT, VIEWER = Role.ADMIN, Role.MANAGER, Role.AGENT, Role.VIEWER
EVERYONE = {ADMIN, MANAGER, AGENT, VIEWER}
PUBLIC = {("POST", "/api/v1/auth/token"), ("POST", "/api/v1/auth/refresh"), ("GET", "/healthz"),
          ("GET", "/readyz"), ("POST", "/api/v1/auth/session"), ("POST", "/api/v1/auth/session/refresh"),
          ("POST", "/api/v1/auth/session/logout")}

LEAD_CSV = b"external_id,first_name,last_name\nM-1,Ada,Lovelace\n"
APIFY_ITEM = {"publicIdentifier": "matrix-test", "linkedinUrl": "https://www.linkedin.com/in/matrix-test",
              "firstName": "Max", "lastName": "Tester", "experience": []}

# (method, path template, roles allowed, request kwargs builder)
MATRIX: list[tuple[str, str, set[Role]]] = [
    ("POST", "/api/v1/auth/logout", EVERYONE),
    ("POST", "/api/v1/auth/logout-all", EVERYONE),
    ("POST", "/api/v1/auth/unlock-address", {ADMIN}),
    ("GET", "/api/v1/users/me", EVERYONE),
    ("PATCH", "/api/v1/users/me", EVERYONE),
    ("POST", "/api/v1/users/me/password", EVERYONE),
    ("GET", "/api/v1/users", {ADMIN}),
    ("POST", "/api/v1/users", {ADMIN}),
    ("PATCH", "/api/v1/users/{user_id}", {ADMIN}),
    ("POST", "/api/v1/users/{user_id}/unlock", {ADMIN}),
    ("GET", "/api/v1/teams", EVERYONE),
    ("POST", "/api/v1/teams", {ADMIN}),
    ("GET", "/api/v1/leads", EVERYONE),
    ("GET", "/api/v1/leads/{lead_id}", EVERYONE),
    ("PATCH", "/api/v1/leads/{lead_id}", {ADMIN, MANAGER, AGENT}),
    ("POST", "/api/v1/leads/import", {ADMIN, MANAGER}),
    ("GET", "/api/v1/signals", EVERYONE),
    ("GET", "/api/v1/signals/{signal_id}", EVERYONE),
    ("POST", "/api/v1/signals/{signal_id}/acknowledge", {ADMIN, MANAGER, AGENT}),
    ("POST", "/api/v1/signals/{signal_id}/action", {ADMIN, MANAGER, AGENT}),
    ("POST", "/api/v1/signals/{signal_id}/outcome", {ADMIN, MANAGER, AGENT}),
    ("POST", "/api/v1/signals/{signal_id}/dismiss", {ADMIN, MANAGER, AGENT}),
    ("GET", "/api/v1/leads/{lead_id}/timeline", EVERYONE),
    ("GET", "/api/v1/observations/unlinked", {ADMIN, MANAGER}),
    ("POST", "/api/v1/ingest/apify", {ADMIN, MANAGER}),
    ("GET", "/api/v1/matches/review", {ADMIN, MANAGER}),
    ("POST", "/api/v1/matches/{match_id}/approve", {ADMIN, MANAGER}),
    ("POST", "/api/v1/matches/{match_id}/reject", {ADMIN, MANAGER}),
    ("GET", "/api/v1/leads/duplicates", {ADMIN, MANAGER}),
    ("GET", "/api/v1/leads/merges", {ADMIN, MANAGER}),
    ("POST", "/api/v1/leads/merges", {ADMIN, MANAGER}),
    ("GET", "/api/v1/leads/merges/{merge_id}", {ADMIN, MANAGER}),
    ("POST", "/api/v1/leads/merges/{merge_id}/undo", {ADMIN, MANAGER}),
]


# Each domain lists its own routes in ``tests/<domain>/role_matrix.py``: ``ROUTES`` (method, path, roles) and
# ``prepare(session, method, path, lead, user) -> (path params, request kwargs)`` building what a request needs;
# optionally ``PUBLIC``, routes that take no sign-in (a signed link, a provider's webhook), tested by the domain.
_DOMAIN_MATRICES = {}
for _file in sorted(Path(__file__).parents[1].glob("*/role_matrix.py")):
    _spec = importlib.util.spec_from_file_location(f"role_matrix_{_file.parent.name}", _file)
    assert _spec is not None and _spec.loader is not None
    _module = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_module)
    for _method, _path, _roles in _module.ROUTES:
        _DOMAIN_MATRICES[(_method, _path)] = _module
        MATRIX.append((_method, _path, _roles))
    PUBLIC |= set(getattr(_module, "PUBLIC", set()))


def _request_kwargs(method: str, path: str, n: int) -> dict[str, Any]:
    if path.endswith("/users") and method == "POST":
        return {"json": {"username": f"new-user-{n}", "password": "long-enough-pw", "role": "viewer"}}
    if path.endswith("/users/me") and method == "PATCH":
        return {"json": {"timezone": "America/Chicago", "quiet_hours_start": "21:00", "quiet_hours_end": "07:00"}}
    if path.endswith("/users/{user_id}"):
        return {"json": {"is_active": True}}
    if path.endswith("/users/me/password"):
        return {"json": {"current_password": PASSWORD, "new_password": f"new-long-password-{n}"}}
    if path.endswith("/auth/unlock-address"):
        return {"json": {"address": "192.0.2.7"}}
    if path.endswith("/teams") and method == "POST":
        return {"json": {"name": f"new-team-{n}"}}
    if path.endswith("/leads/{lead_id}"):
        return {"json": {"status": "contacted"}} if method == "PATCH" else {}
    if path.endswith("/leads/import"):
        return {"files": {"file": ("leads.csv", io.BytesIO(LEAD_CSV), "text/csv")}, "data": {"portfolio": "m"}}
    if path.endswith("/dismiss"):
        return {"json": {"reason": "not_relevant", "note": "not our borrower"}}
    if path.endswith("/action"):
        return {"json": {"action": "crm_task", "note": "task created"}}  # a contact would meet the guard
    if path.endswith("/outcome"):
        return {"json": {"outcome": "promise_to_pay"}}
    if path.endswith("/ingest/apify"):
        body = json.dumps([APIFY_ITEM]).encode()
        return {"files": {"file": ("items.json", io.BytesIO(body), "application/json")}}
    return {}


def _merge_setup(session: Session, lead: Any, method: str, path: str) -> tuple[Any, dict[str, Any]]:
    """For the lead-merge routes: an applied merge's id, or the body of a merge request."""
    if "/leads/merges" not in path or (method == "GET" and "{merge_id}" not in path):
        return None, {}
    from upswing.dedupe.service import merge_leads
    from upswing.lead.models import Portfolio

    other = make_lead(session, session.get(Portfolio, lead.portfolio_id))
    if "{merge_id}" in path:
        return merge_leads(session, survivor_id=lead.id, merged_id=other.id, actor="test").id, {}
    return None, {"json": {"survivor_id": str(lead.id), "merged_id": str(other.id)}}


def test_matrix_covers_every_api_route(app: Any) -> None:
    # From the OpenAPI schema: ``app.routes`` holds the included routers, not their routes, in this FastAPI.
    routes = {(method.upper(), path) for path, operations in app.openapi()["paths"].items()
              for method in operations}
    assert ("GET", "/api/v1/users/me") in routes  # the listing sees the routers' routes
    covered = {(method, path) for method, path, _ in MATRIX} | PUBLIC
    assert routes - covered == set(), "every endpoint needs a row in the role matrix"


@pytest.mark.parametrize(("method", "path", "allowed"), MATRIX, ids=[f"{m} {p}" for m, p, _ in MATRIX])
@pytest.mark.parametrize("role", [ADMIN, MANAGER, AGENT, VIEWER], ids=lambda r: r.value)
def test_endpoint_enforces_roles(app: Any, client: Any, db_session: Session, method: str, path: str,
                                 allowed: set[Role], role: Role) -> None:
    team = make_team(db_session)
    user = make_user(db_session, role, team=team)
    target_user = make_user(db_session, Role.VIEWER)
    lead = make_lead(db_session, make_portfolio(db_session), assignee_id=user.id, team_id=team.id)
    signal_id = make_signal(db_session, lead)
    if path.endswith("/outcome"):  # an outcome needs an action first
        signal_service.record_action(db_session, signal_id, SignalAction.CALL, user=make_user(db_session, ADMIN))
    db_session.commit()
    match_id = make_review_match(db_session, make_lead(db_session)) if "{match_id}" in path else None
    merge_id, merge_body = _merge_setup(db_session, lead, method, path)
    domain = _DOMAIN_MATRICES.get((method, path))
    params, domain_kwargs = domain.prepare(db_session, method, path, lead, user) if domain else ({}, {})
    db_session.commit()
    url = path.format(**{"user_id": target_user.id, "lead_id": lead.id, "signal_id": signal_id,
                         "match_id": match_id, "merge_id": merge_id, **params})
    kwargs = domain_kwargs or merge_body or _request_kwargs(method, path, hash((role, path)) % 10_000)

    anonymous = client.request(method, url, **(domain_kwargs or merge_body or _request_kwargs(method, path, 1)))
    assert anonymous.status_code == 401

    response = client.request(method, url, headers=auth(app, user), **kwargs)
    if role in allowed:
        assert response.status_code < 400, response.text
    else:
        assert response.status_code == 403, response.text


def test_agent_sees_only_own_or_team_leads(app: Any, client: Any, db_session: Session) -> None:
    team, other_team = make_team(db_session), make_team(db_session)
    agent = make_user(db_session, AGENT, team=team)
    teammate = make_user(db_session, AGENT, team=team)
    stranger = make_user(db_session, AGENT, team=other_team)
    portfolio = make_portfolio(db_session)
    own = make_lead(db_session, portfolio, assignee_id=agent.id)
    team_lead = make_lead(db_session, portfolio, assignee_id=teammate.id, team_id=team.id)
    foreign = make_lead(db_session, portfolio, assignee_id=stranger.id, team_id=other_team.id)
    foreign_signal = make_signal(db_session, foreign)
    make_signal(db_session, own)
    db_session.commit()
    headers = auth(app, agent)

    listed = client.get("/api/v1/leads", headers=headers).json()
    assert {item["id"] for item in listed["items"]} == {str(own.id), str(team_lead.id)}
    assert client.get(f"/api/v1/leads/{foreign.id}", headers=headers).status_code == 404
    assert client.patch(f"/api/v1/leads/{foreign.id}", headers=headers,
                        json={"status": "contacted"}).status_code == 404
    signals = client.get("/api/v1/signals", headers=headers).json()
    assert [item["lead_id"] for item in signals["items"]] == [str(own.id)]
    assert client.get(f"/api/v1/signals/{foreign_signal}", headers=headers).status_code == 404
    assert client.post(f"/api/v1/signals/{foreign_signal}/acknowledge", headers=headers).status_code == 404

    manager = make_user(db_session, MANAGER)
    db_session.commit()
    assert client.get("/api/v1/leads", headers=auth(app, manager), params={"count": True}).json()["total"] == 3
