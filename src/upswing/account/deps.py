"""Authentication and role checks for API endpoints."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

import jwt
from fastapi import Depends, HTTPException, Request, Response, status
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from upswing.account import clients, tokens
from upswing.account.models import Role, User
from upswing.account.ratelimit import TokenBuckets
from upswing.account.security import CLIENT_TOKEN, decode_bearer
from upswing.audit import service as audit
from upswing.core import rls
from upswing.core.deps import AppSettings, DbSession, request_writes
from upswing.settings import Settings

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token")

_UNAUTHORIZED = HTTPException(
    status_code=status.HTTP_401_UNAUTHORIZED,
    detail="Not authenticated or token invalid",
    headers={"WWW-Authenticate": "Bearer"},
)


@dataclass(frozen=True, slots=True)
class Principal:
    """The user a request acts for, and the sign-in session of its access token (``None`` for a token minted
    without one). For a machine client's token, ``client_id`` names the client and ``user`` is the manager it
    acts as (``clients.principal_user``: not a stored user)."""

    user: User
    session_id: uuid.UUID | None
    client_id: uuid.UUID | None = None


#: The routes a machine client's token may call, and the scope each needs (docs/security.md, "Machine clients").
#: Every other route refuses client tokens (403 ``insufficient_scope``).
CLIENT_ROUTE_SCOPES: dict[tuple[str, str], str] = {
    ("GET", "/api/v1/leads"): "leads:read",
    ("GET", "/api/v1/leads/portfolios"): "leads:read",
    ("GET", "/api/v1/leads/{lead_id}"): "leads:read",
    ("GET", "/api/v1/leads/{lead_id}/timeline"): "leads:read",
    ("PATCH", "/api/v1/leads/{lead_id}"): "leads:write",
    ("POST", "/api/v1/leads/import"): "leads:write",
    ("POST", "/api/v1/leads/bulk-upsert"): "leads:write",
    ("GET", "/api/v1/signals"): "signals:read",
    ("GET", "/api/v1/signals/{signal_id}"): "signals:read",
    ("POST", "/api/v1/signals/{signal_id}/acknowledge"): "signals:write",
    ("POST", "/api/v1/signals/{signal_id}/action"): "signals:write",
    ("POST", "/api/v1/signals/{signal_id}/dismiss"): "signals:write",
    ("POST", "/api/v1/signals/{signal_id}/outcome"): "outcomes:write",
    # Outcomes are lead data: read with leads:read, written with outcomes:write.
    ("GET", "/api/v1/outcomes"): "leads:read",
    ("GET", "/api/v1/outcomes/{outcome_id}"): "leads:read",
    ("GET", "/api/v1/leads/{lead_id}/outcomes"): "leads:read",
    ("POST", "/api/v1/outcomes"): "outcomes:write",
    ("PATCH", "/api/v1/outcomes/{outcome_id}"): "outcomes:write",
    ("POST", "/api/v1/outcomes/import"): "outcomes:write",
    **{(method, f"/api/v1/webhooks{path}"): "webhooks:manage" for method, path in (
        ("GET", ""), ("POST", ""), ("GET", "/{subscription_id}"), ("PATCH", "/{subscription_id}"),
        ("DELETE", "/{subscription_id}"), ("POST", "/{subscription_id}/rotate-secret"),
        ("POST", "/{subscription_id}/test"), ("GET", "/{subscription_id}/deliveries"),
        ("POST", "/{subscription_id}/deliveries/{delivery_id}/replay"))},
}


def client_address(request: Request) -> str:
    """The client's address as the server sees it (behind a proxy: run uvicorn with ``--proxy-headers``)."""
    return request.client.host if request.client else "unknown"


def _bearer_error(status_code: int, error: str, description: str, **params: str) -> HTTPException:
    """An RFC 6750 §3 refusal: the error in ``WWW-Authenticate`` and in the body."""
    challenge = ", ".join([f'error="{error}"', f'error_description="{description}"',
                           *(f'{name}="{value}"' for name, value in params.items())])
    return HTTPException(status_code, {"detail": description, "error": error},
                         headers={"WWW-Authenticate": f"Bearer {challenge}"})


@dataclass(frozen=True, slots=True)
class _ClientClaims:
    """What row-level security sees of a client: a manager (every lead), no user id and no team."""

    id: str = ""
    role: str = Role.MANAGER.value
    team_id: None = None


def _client_principal(request: Request, response: Response, session: Session, settings: Settings,
                      claims: dict[str, object]) -> Principal:
    """A machine client's call: the token still counts, from an allowed address, within the client's rate, and
    the route accepts it with one of its scopes. Reads are audited here (one entry per call, committed now: a
    read's endpoint does not commit); writes by the services they call, with the client as actor."""
    checked = clients.check_access(session, claims)
    if checked is None:
        raise _bearer_error(401, "invalid_token", "token expired, revoked or of a disabled client")
    client, scopes = checked
    if not clients.address_allowed(client.allowed_ips, client_address(request)):
        raise _bearer_error(401, "invalid_token", "this client may not call from this address")
    decision = _rate_limiter(request, settings).take(str(client.id))
    response.headers.update(decision.headers)
    if not decision.allowed:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS,
                            {"detail": "rate limit exceeded; retry later", "error": "rate_limited"},
                            headers=decision.headers)
    route = request.scope.get("route")
    needed = CLIENT_ROUTE_SCOPES.get((request.method, getattr(route, "path", "")))
    if needed is None or needed not in scopes:
        raise _bearer_error(403, "insufficient_scope",
                            f"requires scope {needed}" if needed else "not available to API clients",
                            **({"scope": needed} if needed else {}))
    rls.act_as(session, _ClientClaims(), settings)
    if not request_writes(request):
        audit.record(session, actor=clients.client_actor(client.id), action="api_client.read",
                     entity_type="api_client", entity_id=client.id,
                     details={"method": request.method, "path": request.url.path, "scope": needed})
        session.commit()
    return Principal(clients.principal_user(client), None, client_id=client.id)


def _rate_limiter(request: Request, settings: Settings) -> TokenBuckets:
    limiter: TokenBuckets | None = getattr(request.app.state, "client_rate_limiter", None)
    if limiter is None:
        limiter = TokenBuckets(settings.api_client_rate_per_minute / 60, settings.api_client_burst)
        request.app.state.client_rate_limiter = limiter
    return limiter


def get_principal(token: Annotated[str, Depends(oauth2_scheme)], request: Request, response: Response,
                  session: DbSession, settings: AppSettings) -> Principal:
    """Check the bearer access token: signature, expiry and kind, then that it still counts (the user active, the
    token not older than their ``tokens_valid_after``, its session not revoked): two primary-key look-ups. A
    machine client's token is checked by ``_client_principal``."""
    try:
        claims = decode_bearer(settings, token)
    except jwt.InvalidTokenError:
        raise _UNAUTHORIZED from None
    if claims["typ"] == CLIENT_TOKEN:
        return _client_principal(request, response, session, settings, claims)
    checked = tokens.check_access(session, claims)
    if checked is None:
        raise _UNAUTHORIZED
    user, session_id = checked
    rls.act_as(session, user, settings)  # PostgreSQL row-level security: the request's rows are the user's
    return Principal(user, session_id)


Authenticated = Annotated[Principal, Depends(get_principal)]


def get_current_user(principal: Authenticated) -> User:
    return principal.user


CurrentUser = Annotated[User, Depends(get_current_user)]


def require_roles(*roles: Role) -> Callable[[User], User]:
    allowed = {r.value for r in roles}

    def check(user: CurrentUser) -> User:
        if user.role not in allowed:
            raise HTTPException(status_code=status.HTTP_403_FORBIDDEN,
                                detail=f"requires role: {', '.join(sorted(allowed))}")
        return user

    return check


ALL_ROLES = (Role.ADMIN, Role.MANAGER, Role.AGENT, Role.VIEWER)
AnyUser = Annotated[User, Depends(require_roles(*ALL_ROLES))]
Admin = Annotated[User, Depends(require_roles(Role.ADMIN))]
ManagerOrAdmin = Annotated[User, Depends(require_roles(Role.ADMIN, Role.MANAGER))]
Worker = Annotated[User, Depends(require_roles(Role.ADMIN, Role.MANAGER, Role.AGENT))]
