"""Authentication and role checks for API endpoints."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated

import jwt
from fastapi import Depends, HTTPException, status
from fastapi.security import OAuth2PasswordBearer

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


def get_current_user(token: Annotated[str, Depends(oauth2_scheme)], session: DbSession,
                     settings: AppSettings) -> User:
    try:
        claims = decode_token(settings, token, "access")
        user_id = uuid.UUID(claims["sub"])
    except (jwt.InvalidTokenError, ValueError, KeyError):
        raise _UNAUTHORIZED from None
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        raise _UNAUTHORIZED
    rls.act_as(session, user, settings)  # PostgreSQL row-level security: the request's rows are the user's
    return user


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
