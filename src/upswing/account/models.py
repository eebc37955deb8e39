from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from upswing.core.db import Base, JSONType, UTCDateTime, new_uuid, utcnow


class Role(StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    AGENT = "agent"
    VIEWER = "viewer"


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class User(Base):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    username: Mapped[str] = mapped_column(String(120), unique=True)
    email: Mapped[str | None] = mapped_column(String(320))
    full_name: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default=Role.AGENT.value)
    team_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Tokens issued before this moment (whole seconds, as a token's ``iat``) are refused: set by a password
    #: change or reset, a deactivation and "sign out everywhere".
    tokens_valid_after: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Alert preferences (docs/alerts.md): the user's IANA time zone, quiet hours in it ("HH:MM", e-mail waits until
    # they end; an end before the start spans midnight), days away (inclusive; their alerts go to the fallback) and
    # a per-channel hourly cap overriding the default (beyond it alerts go to the digest).
    timezone: Mapped[str | None] = mapped_column(String(64))
    quiet_hours_start: Mapped[str | None] = mapped_column(String(5))
    quiet_hours_end: Mapped[str | None] = mapped_column(String(5))
    away_from: Mapped[date | None] = mapped_column(Date)
    away_until: Mapped[date | None] = mapped_column(Date)
    alert_hourly_cap: Mapped[int | None] = mapped_column(Integer)

    team: Mapped[Team | None] = relationship(lazy="joined")


class AuthSession(Base):
    """One sign-in: the family of refresh tokens that descend from it by rotation, and the access tokens issued
    with them (their ``sid`` claim). Revoking it ends them all."""

    __tablename__ = "auth_sessions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When the newest refresh token of the family expires (the session cannot be continued after it).
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: ``logout``, ``logout_all``, ``password_change``, ``password_reset``, ``deactivated``, ``refresh_reuse``.
    revoked_reason: Mapped[str | None] = mapped_column(String(40))


class RefreshToken(Base):
    """A refresh token issued (its ``jti``); used once, it is replaced by the next of its family."""

    __tablename__ = "refresh_tokens"

    jti: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auth_sessions.id", ondelete="CASCADE"), index=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    replaced_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class LoginThrottle(Base):
    """Failed sign-ins counted per account name or per client address (``key``: a keyed hash of either, so
    neither a mistyped password in the name field nor an address is stored) and the lockout they caused."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_login_throttle_last_failure_at", "last_failure_at"),)


class ApiClient(Base):
    """A machine client of the API (a CRM integration): it obtains short-lived access tokens for its scopes with
    the OAuth 2.0 client-credentials grant, authenticated by its secret or a JWT signed with its key
    (docs/security.md, "Machine clients"). Its ``id`` is the OAuth ``client_id``."""

    __tablename__ = "api_clients"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    #: ``client_secret`` (HTTP Basic or in the form) or ``private_key_jwt`` (RFC 7523 assertion).
    auth_method: Mapped[str] = mapped_column(String(20))
    #: HMAC-SHA256 of the secret under a key derived from the secret key (``clients.hash_secret``); never the secret.
    secret_hash: Mapped[str | None] = mapped_column(String(64))
    #: The public key (PEM) or a JWK / JWK set (JSON) that verifies its assertions (``private_key_jwt``).
    public_key: Mapped[str | None] = mapped_column(Text)
    scopes: Mapped[list[str]] = mapped_column(JSONType, default=list)
    #: Addresses or CIDR networks it may call from; empty: anywhere.
    allowed_ips: Mapped[list[str]] = mapped_column(JSONType, default=list)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))
    #: Access tokens issued before this moment (whole seconds) are refused: set by a secret rotation or disabling.
    tokens_valid_after: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ApiClientAssertion(Base):
    """The ``jti`` of a client assertion already used, kept until the assertion expires (a replay is refused)."""

    __tablename__ = "api_client_assertions"

    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("api_clients.id", ondelete="CASCADE"),
                                                 primary_key=True)
    jti: Mapped[str] = mapped_column(String(200), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
