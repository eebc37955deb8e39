"""Authentication and role checks for API endpoints."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

import jwt
from fastapi import Depends, HTTPException, status
from fastapi.security import OAuth2PasswordBearer

from upswing.account import tokens
from upswing.account.models import Role, User
from upswing.account.security import decode_token
from upswing.core import rls
from upswing.core.deps import AppSettings, DbSession

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token")

_UNAUTHORIZED = HTTPException(
    status_code=status.HTTP_401_UNAUTHORIZED,
    detail="Not authenticated or token invalid",
    headers={"WWW-Authenticate": "Bearer"},
)


@dataclass(frozen=True, slots=True)
class Principal:
    """The user a request acts for, and the sign-in session of its access token (``None`` for a token minted
    without one)."""

    user: User
    session_id: uuid.UUID | None


def get_principal(token: Annotated[str, Depends(oauth2_scheme)], session: DbSession,
                  settings: AppSettings) -> Principal:
    """Check the bearer access token: signature, expiry and kind, then that it still counts (the user active, the
    token not older than their ``tokens_valid_after``, its session not revoked): two primary-key look-ups."""
    try:
        checked = tokens.check_access(session, decode_token(settings, token, "access"))
    except jwt.InvalidTokenError:
        raise _UNAUTHORIZED from None
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
