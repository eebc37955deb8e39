from __future__ import annotations

import uuid
from typing import Annotated

import jwt
from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy import select

from upswing.account import service
from upswing.account.deps import Admin, AnyUser
from upswing.account.models import User
from upswing.account.schemas import (
    RefreshRequest,
    TeamCreate,
    TeamRead,
    Token,
    UserCreate,
    UserRead,
    UserUpdate,
)
from upswing.account.security import create_token, decode_token
from upswing.audit import service as audit
from upswing.core.deps import AppSettings, DbSession

router = APIRouter(prefix="/api/v1", tags=["auth"])


def _issue(settings: AppSettings, user: User) -> Token:
    return Token(access_token=create_token(settings, user.id, user.role, "access"),
                 refresh_token=create_token(settings, user.id, user.role, "refresh"),
                 expires_in=settings.access_token_minutes * 60)


@router.post("/auth/token", response_model=Token, operation_id="auth_token")
def login(form: Annotated[OAuth2PasswordRequestForm, Depends()], session: DbSession,
          settings: AppSettings) -> Token:
    user = service.authenticate(session, form.username, form.password)
    # Sign-ins are audited (privacy issue: logins), failed ones against an existing account too (by id).
    account_id = user.id if user else session.scalar(select(User.id).where(User.username == form.username))
    audit.record(session, actor=f"user:{user.username}" if user else "anonymous",
                 action="auth.login" if user else "auth.login_failed", entity_type="user", entity_id=account_id)
    session.commit()
    if user is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Incorrect username or password",
                            headers={"WWW-Authenticate": "Bearer"})
    return _issue(settings, user)


@router.post("/auth/refresh", response_model=Token, operation_id="auth_refresh")
def refresh(body: RefreshRequest, session: DbSession, settings: AppSettings) -> Token:
    try:
        claims = decode_token(settings, body.refresh_token, "refresh")
        user = session.get(User, uuid.UUID(claims["sub"]))
    except (jwt.InvalidTokenError, ValueError, KeyError):
        user = None
    if user is None or not user.is_active:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Invalid refresh token",
                            headers={"WWW-Authenticate": "Bearer"})
    return _issue(settings, user)


@router.get("/users/me", response_model=UserRead, operation_id="users_me", tags=["users"])
def me(user: AnyUser) -> User:
    return user


@router.get("/users", response_model=list[UserRead], operation_id="users_list", tags=["users"])
def list_users(_: Admin, session: DbSession) -> list[User]:
    return service.list_users(session)


@router.post("/users", response_model=UserRead, status_code=201, operation_id="users_create", tags=["users"])
def create_user(body: UserCreate, admin: Admin, session: DbSession) -> User:
    user = service.create_user(session, body, actor=f"user:{admin.username}")
    session.commit()
    return user


@router.patch("/users/{user_id}", response_model=UserRead, operation_id="users_update", tags=["users"])
def update_user(user_id: uuid.UUID, body: UserUpdate, admin: Admin, session: DbSession) -> User:
    user = service.update_user(session, user_id, body, actor=f"user:{admin.username}")
    session.commit()
    return user


@router.get("/teams", response_model=list[TeamRead], operation_id="teams_list", tags=["users"])
def list_teams(_: AnyUser, session: DbSession) -> list[object]:
    return list(service.list_teams(session))


@router.post("/teams", response_model=TeamRead, status_code=201, operation_id="teams_create", tags=["users"])
def create_team(body: TeamCreate, admin: Admin, session: DbSession) -> object:
    team = service.get_or_create_team(session, body.name, actor=f"user:{admin.username}")
    session.commit()
    return team
