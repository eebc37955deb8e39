from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from upswing.account.models import Role


class Token(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"  # noqa: S105 - OAuth2 token type, not a secret
    expires_in: int


class RefreshRequest(BaseModel):
    refresh_token: str


class PasswordChange(BaseModel):
    current_password: str = Field(max_length=256)
    new_password: str = Field(min_length=8, max_length=256)


class AddressUnlock(BaseModel):
    address: str = Field(min_length=1, max_length=64, description="Client IP address as the server sees it")


class UnlockResult(BaseModel):
    """What an unlock cleared: the failures counted and whether a lockout was running."""

    was_locked: bool
    failures: int


class TeamCreate(BaseModel):
    name: str = Field(min_length=1, max_length=120)


class TeamRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    name: str
    created_at: datetime


class UserCreate(BaseModel):
    username: str = Field(min_length=2, max_length=120, pattern=r"^[A-Za-z0-9_.@-]+$")
    password: str = Field(min_length=8, max_length=256)
    role: Role = Role.AGENT
    email: str | None = None
    full_name: str | None = None
    team: str | None = Field(default=None, description="Team name")


class UserUpdate(BaseModel):
    role: Role | None = None
    team: str | None = None
    is_active: bool | None = None
    password: str | None = Field(default=None, min_length=8, max_length=256)


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    username: str
    email: str | None
    full_name: str | None
    role: Role
    team_id: uuid.UUID | None
    is_active: bool
    created_at: datetime
