"""Property-based fuzzing of the whole API with schemathesis, on SQLite and PostgreSQL: every operation of the
OpenAPI document, called as each role (admin, manager, agent, viewer) with generated requests, against a database
seeded so that path parameters name real rows (a lead, a signal, a review match, a data-subject request…).
Any 5xx, any response that breaks the documented schema, status code or content type fails the test.

Examples per operation and role: ``UPSWING_FUZZ_EXAMPLES`` (CI: 6, fixed seed; ``make fuzz``: 100).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from pydantic import SecretStr
from schemathesis import checks
from sqlalchemy import select
from sqlalchemy.orm import Session

from factories import auth, make_lead, make_review_match, make_signal, make_team, make_user
from upswing.account.models import Role
from upswing.app import create_app
from upswing.compliance import service as compliance
from upswing.compliance.schemas import BlockedWindowCreate
from upswing.escalation.models import EscalationPolicy, Holiday
from upswing.privacy import service as privacy
from upswing.privacy.models import RequestType
from upswing.settings import Settings

EXAMPLES = int(os.environ.get("UPSWING_FUZZ_EXAMPLES", "6"))
CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_schema_conformance]
ROLES = (Role.ADMIN, Role.MANAGER, Role.AGENT, Role.VIEWER)


def _operations() -> list[str]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(Settings(database_url="sqlite://")))
    return sorted(result.ok().label for result in schema.get_all_operations())


OPERATIONS = _operations()


def _seed(session: Session) -> tuple[dict[Role, Any], dict[str, str]]:
    """Users of every role, and one row for every kind of path parameter."""
    team = make_team(session)
    users = {role: make_user(session, role, team=team) for role in ROLES}
    lead = make_lead(session, assignee_id=users[Role.AGENT].id, team_id=team.id, phone="+12125550123",
                     phones=[{"number": "+12125550123", "type": "cell"}])
    signal_id = make_signal(session, lead)
    match_id = make_review_match(session, make_lead(session, team_id=team.id))
    window = compliance.add_blocked_window(session, lead, BlockedWindowCreate(start="12:00", end="13:00"),
                                           actor="fuzz")
    suppression = compliance.suppress(session, "+12125550199", actor="fuzz", source="api")
    holiday = Holiday(team_id=team.id, day=date(2026, 12, 31), name="Fuzz day off")
    session.add(holiday)
    request = privacy.create_request(session, type_=RequestType.ACCESS,
                                     subject=privacy.Subject(lead_ids=[lead.id]), actor="fuzz")
    session.commit()
    ids = {"lead_id": str(lead.id), "signal_id": str(signal_id), "match_id": str(match_id),
           "window_id": str(window.id), "suppression_id": str(suppression.id), "request_id": str(request.id),
           "user_id": str(users[Role.AGENT].id), "slug": "web-page", "team_id": str(team.id),
           "policy_id": str(session.scalars(select(EscalationPolicy.id).order_by(EscalationPolicy.level)).first()),
           "holiday_id": str(holiday.id)}
    return users, ids


@pytest.mark.parametrize("operation", OPERATIONS)
def test_no_operation_fails_or_breaks_its_schema(operation: str, app: Any, db_session: Session) -> None:
    users, ids = _seed(db_session)
    # Brevo's event webhook configured: unconfigured it answers every request 503, which counts as a server error.
    # The fuzzer's requests come from outside its network (403); tests/digest/test_mail.py fuzzes its body.
    app.state.settings = app.state.settings.model_copy(update={
        "brevo_webhook_token": SecretStr("fuzz-webhook-token"), "brevo_webhook_networks": ["192.0.2.0/24"]})
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    api_operation = next(r.ok() for r in schema.get_all_operations() if r.ok().label == operation)
    headers = {role: auth(app, user) for role, user in users.items()}

    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    @given(case=api_operation.as_strategy())
    def call_as_every_role(case: Any) -> None:
        # Path parameters name the seeded rows (a generated id would only ever find nothing).
        known = {name: ids[name] for name in (case.path_parameters or {}) if name in ids}
        if known:
            case.path_parameters = {**case.path_parameters, **known}
        if api_operation.path == "/api/v1/stream":  # a live stream never ends by itself: bound it
            case.query = {**(case.query or {}), "max_seconds": 0.05}
        for role in ROLES:
            case.call_and_validate(headers=headers[role], checks=CHECKS)

    call_as_every_role()


def test_every_operation_is_fuzzed() -> None:
    assert len(OPERATIONS) >= 70 and "POST /api/v1/signals/{signal_id}/action" in OPERATIONS


def test_the_fuzzing_notices_a_server_error(app: Any, db_session: Session,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The checks are live: an endpoint that crashes is reported."""
    from upswing.signal import service as signals

    def broken(*_: Any, **__: Any) -> Callable[..., Any]:
        raise RuntimeError("planted failure")

    monkeypatch.setattr(signals, "page_signals", broken)
    users, _ = _seed(db_session)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operation = next(r.ok() for r in schema.get_all_operations() if r.ok().label == "GET /api/v1/signals")
    case = operation.Case(query={})
    with pytest.raises(Exception, match=r"planted failure|Server error|500"):
        case.call_and_validate(headers=auth(app, users[Role.ADMIN]), checks=CHECKS)
