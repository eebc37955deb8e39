"""Password hashing (argon2 via pwdlib) and signed JWT access/refresh tokens (PyJWT)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, Literal

import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from upswing.core.db import utcnow
from upswing.settings import Settings

_password_hash = PasswordHash((Argon2Hasher(),))
ALGORITHM = "HS256"
TokenKind = Literal["access", "refresh"]
#: The ``typ`` of a machine client's access token (account/clients.py).
CLIENT_TOKEN = "client"  # noqa: S105 - a token kind, not a secret


def hash_password(password: str) -> str:
    return _password_hash.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    return _password_hash.verify(password, password_hash)


def create_token(settings: Settings, user_id: uuid.UUID, role: str, kind: TokenKind, *,
                 session_id: uuid.UUID | None = None, token_id: uuid.UUID | None = None,
                 now: datetime | None = None) -> str:
    """A signed token. Tokens of a sign-in carry its session (``sid``: the refresh-token family) and a refresh
    token's ``jti`` is the id of its ``refresh_tokens`` row; ``iat`` is in whole seconds."""
    now = now or utcnow()
    lifetime = (timedelta(minutes=settings.access_token_minutes) if kind == "access"
                else timedelta(days=settings.refresh_token_days))
    claims: dict[str, Any] = {"sub": str(user_id), "role": role, "typ": kind, "iat": now, "exp": now + lifetime,
                              "jti": (token_id or uuid.uuid4()).hex}
    if session_id is not None:
        claims["sid"] = str(session_id)
    return jwt.encode(claims, settings.secret_key.get_secret_value(), algorithm=ALGORITHM)


def decode_token(settings: Settings, token: str, kind: TokenKind) -> dict[str, Any]:
    """Decode and check signature, expiry and token kind; raises ``jwt.InvalidTokenError``."""
    claims: dict[str, Any] = jwt.decode(token, settings.secret_key.get_secret_value(), algorithms=[ALGORITHM],
                                        options={"require": ["exp", "iat", "sub", "typ"]})
    if claims.get("typ") != kind:
        raise jwt.InvalidTokenError(f"expected a {kind} token")
    return claims


def create_client_token(settings: Settings, client_id: uuid.UUID, scopes: list[str], *,
                        now: datetime | None = None) -> str:
    """A machine client's access token: ``sub`` the client id, ``typ`` ``client``, its granted ``scope``."""
    now = now or utcnow()
    claims = {"sub": str(client_id), "typ": CLIENT_TOKEN, "scope": " ".join(scopes), "iat": now,
              "exp": now + timedelta(minutes=settings.api_client_token_minutes), "jti": uuid.uuid4().hex}
    return jwt.encode(claims, settings.secret_key.get_secret_value(), algorithm=ALGORITHM)


def decode_bearer(settings: Settings, token: str) -> dict[str, Any]:
    """A bearer token of a request: a person's access token or a machine client's (``typ``: ``access`` or
    ``client``); signature and expiry checked, raises ``jwt.InvalidTokenError``."""
    claims: dict[str, Any] = jwt.decode(token, settings.secret_key.get_secret_value(), algorithms=[ALGORITHM],
                                        options={"require": ["exp", "iat", "sub", "typ"]})
    if claims.get("typ") not in ("access", CLIENT_TOKEN):
        raise jwt.InvalidTokenError("expected an access token")
    return claims


def request_owner(settings: Settings, authorization: str | None) -> str | None:
    """Who sent a request, from its bearer token (``user:<id>`` or ``client:<id>``), for scoping what belongs to
    the sender (idempotency keys); None without a valid token. Signature and expiry only: nothing is granted by
    it, the route still authenticates the request."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    try:
        claims = decode_bearer(settings, token.strip())
    except jwt.InvalidTokenError:
        return None
    return f"{'client' if claims['typ'] == CLIENT_TOKEN else 'user'}:{claims['sub']}"
