"""Sign-in sessions and their tokens: refresh-token rotation with reuse detection, and revocation
(RFC 6819 §5.2.2.3; OAuth 2.0 Security Best Current Practice, RFC 9700 §4.14.2; docs/security.md).

A sign-in starts an ``AuthSession``: the family of every refresh token that descends from its first one. Each
refresh token (its ``jti`` is a ``refresh_tokens`` row) works once: using it marks it used and issues the next
one of the family. A token used a second time means two parties hold it, so the whole family is revoked: the
thief's tokens and the rightful user's alike (the user signs in again). Access tokens name their family in the
``sid`` claim, so revoking a family ends its access tokens as well. ``users.tokens_valid_after`` ends every
token of a user issued before it (password change or reset, deactivation, "sign out everywhere"), including
tokens minted without a session (only holders of the secret key can mint those).

Checking an access token costs two primary-key look-ups: the user and, when the token has one, its session.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import jwt
from sqlalchemy import update
from sqlalchemy.orm import Session

from upswing.account.models import AuthSession, RefreshToken, User
from upswing.account.schemas import Token
from upswing.account.security import create_token, decode_token
from upswing.audit import service as audit
from upswing.core.db import new_uuid, utcnow
from upswing.settings import Settings


def _whole_seconds(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


def issued_before(iat: Any, valid_after: datetime | None) -> bool:
    """Whether a token issued at ``iat`` (seconds since the epoch, as in the token) predates ``valid_after``.

    ``valid_after`` is stored in whole seconds, like ``iat``: a token issued in the same second as a revocation
    outlives it (only a token without a session could, as the revocation ends every session too), and tokens
    issued just after it, in that second, work."""
    return valid_after is not None and int(iat) < int(valid_after.timestamp())


def _issue(session: Session, settings: Settings, user: User, auth: AuthSession, now: datetime, *,
           jti: uuid.UUID | None = None) -> Token:
    jti = jti or new_uuid()
    refresh = RefreshToken(jti=jti, session_id=auth.id, issued_at=now,
                           expires_at=now + timedelta(days=settings.refresh_token_days))
    auth.expires_at = refresh.expires_at
    session.add(refresh)
    return Token(access_token=create_token(settings, user.id, user.role, "access", session_id=auth.id, now=now),
                 refresh_token=create_token(settings, user.id, user.role, "refresh", session_id=auth.id,
                                            token_id=jti, now=now),
                 expires_in=settings.access_token_minutes * 60)


def start_session(session: Session, settings: Settings, user: User, *, now: datetime | None = None) -> Token:
    """A new sign-in session for ``user`` and its first access and refresh tokens."""
    now = now or utcnow()
    auth = AuthSession(user_id=user.id, created_at=now, expires_at=now)
    session.add(auth)
    session.flush()
    tokens = _issue(session, settings, user, auth, now)
    session.flush()
    return tokens


def _claims_ids(claims: dict[str, Any], *names: str) -> list[uuid.UUID] | None:
    try:
        return [uuid.UUID(str(claims[name])) for name in names]
    except (KeyError, ValueError):
        return None


def rotate(session: Session, settings: Settings, refresh_token: str, *,
           now: datetime | None = None) -> Token | None:
    """Exchange a refresh token for the next pair of its family; ``None`` when it is refused.

    A refresh token already used revokes its family (and is refused): the caller commits in either case, so
    that the revocation sticks."""
    now = now or utcnow()
    try:
        claims = decode_token(settings, refresh_token, "refresh")
    except jwt.InvalidTokenError:
        return None
    ids = _claims_ids(claims, "sub", "sid", "jti")
    if ids is None:
        return None
    user_id, session_id, jti = ids
    row = session.get(RefreshToken, jti)
    auth = session.get(AuthSession, session_id)
    user = session.get(User, user_id)
    if row is None or auth is None or user is None or row.session_id != auth.id or auth.user_id != user.id:
        return None
    if auth.revoked_at is not None or not user.is_active or issued_before(claims["iat"], user.tokens_valid_after):
        return None
    next_jti = new_uuid()
    # Claimed atomically: of two uses, even at the same moment in two processes, only one finds it unused.
    claimed = session.execute(update(RefreshToken)
                              .where(RefreshToken.jti == jti, RefreshToken.used_at.is_(None))
                              .values(used_at=now, replaced_by=next_jti))
    if getattr(claimed, "rowcount", 0) != 1:
        revoke_session(session, auth.id, "refresh_reuse", now=now)
        audit.record(session, actor="anonymous", action="auth.refresh_reuse", entity_type="user",
                     entity_id=user.id, details={"session_id": str(auth.id)})
        return None
    tokens = _issue(session, settings, user, auth, now, jti=next_jti)
    session.flush()
    return tokens


def session_of_refresh(settings: Settings, refresh_token: str) -> uuid.UUID | None:
    """The sign-in session a refresh token belongs to (signature and expiry checked; None if not one)."""
    try:
        claims = decode_token(settings, refresh_token, "refresh")
    except jwt.InvalidTokenError:
        return None
    ids = _claims_ids(claims, "sid")
    return ids[0] if ids else None


def check_access(session: Session, claims: dict[str, Any]) -> tuple[User, uuid.UUID | None] | None:
    """The user of a decoded access token and its session id; ``None`` when the token no longer counts (the user
    is gone or inactive, the token predates ``tokens_valid_after``, or its session is revoked)."""
    ids = _claims_ids(claims, "sub")
    if ids is None:
        return None
    user = session.get(User, ids[0])
    if user is None or not user.is_active or issued_before(claims["iat"], user.tokens_valid_after):
        return None
    if "sid" not in claims:
        return user, None
    sid = _claims_ids(claims, "sid")
    auth = session.get(AuthSession, sid[0]) if sid else None
    if auth is None or auth.user_id != user.id or auth.revoked_at is not None:
        return None
    return user, auth.id


def revoke_session(session: Session, session_id: uuid.UUID, reason: str, *, now: datetime | None = None) -> bool:
    """Revoke one sign-in session (its refresh and access tokens); False if it was revoked already."""
    result = session.execute(update(AuthSession)
                             .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
                             .values(revoked_at=now or utcnow(), revoked_reason=reason)
                             .execution_options(synchronize_session="fetch"))
    return getattr(result, "rowcount", 0) == 1


def revoke_all(session: Session, user: User, reason: str, *, now: datetime | None = None) -> int:
    """End every token of ``user`` issued until now: every session revoked, older tokens refused. Returns the
    number of sessions revoked."""
    now = now or utcnow()
    user.tokens_valid_after = _whole_seconds(now)
    result = session.execute(update(AuthSession)
                             .where(AuthSession.user_id == user.id, AuthSession.revoked_at.is_(None))
                             .values(revoked_at=now, revoked_reason=reason)
                             .execution_options(synchronize_session="fetch"))
    session.flush()
    return int(getattr(result, "rowcount", 0) or 0)
