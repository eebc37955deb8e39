"""One-click unsubscribe from the digest (RFC 8058), without signing in.

Every digest carries ``List-Unsubscribe: <{public_base_url}/api/v1/digest/unsubscribe?token=…>`` and
``List-Unsubscribe-Post: List-Unsubscribe=One-Click``. The token is the user's id and an HMAC-SHA256 of it under a
key derived from ``UPSWING_SECRET_KEY`` for this one purpose, base64url: it cannot be made for another user, has no
expiry (an old digest's link keeps working), and stops working only if the secret key changes. It turns the
user's digest off (``frequency = off``), nothing else; they turn it on again in their preferences.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import html
import uuid
from functools import lru_cache
from typing import Literal

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from upswing.account.models import User
from upswing.audit import service as audit
from upswing.core.db import utcnow
from upswing.core.errors import NotFoundError
from upswing.digest.models import DigestPreference, Frequency
from upswing.settings import Settings

__all__ = ["PURPOSE", "UnsubscribeResult", "confirm_page", "done_page", "invalid_page", "list_unsubscribe_headers",
           "token_for", "unsubscribe", "unsubscribe_url", "user_for", "user_of"]

PURPOSE = "digest-unsubscribe"
PATH = "/api/v1/digest/unsubscribe"
_VERSION = b"\x01"
_ID_BYTES = 16
_MAC_BYTES = 32
_TOKEN_LENGTH = len(base64.urlsafe_b64encode(bytes(1 + _ID_BYTES + _MAC_BYTES)).rstrip(b"="))


@lru_cache(maxsize=8)
def _key(secret: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=f"upswing {PURPOSE}".encode()).derive(secret.encode())


def _mac(user_bytes: bytes, settings: Settings) -> bytes:
    return hmac.new(_key(settings.secret_key.get_secret_value()), _VERSION + user_bytes, hashlib.sha256).digest()


def token_for(user_id: uuid.UUID, settings: Settings) -> str:
    """The user's unsubscribe token (URL-safe; the same every time)."""
    raw = _VERSION + user_id.bytes + _mac(user_id.bytes, settings)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def user_for(token: str, settings: Settings) -> uuid.UUID | None:
    """The user a token was made for, or None when it was altered, truncated or made with another key (compared
    in constant time)."""
    if len(token) != _TOKEN_LENGTH:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        return None
    # Decoding forgives characters outside the alphabet and stray low bits: only the one canonical spelling counts.
    if len(raw) != 1 + _ID_BYTES + _MAC_BYTES or raw[:1] != _VERSION or \
            base64.urlsafe_b64encode(raw).decode().rstrip("=") != token:
        return None
    user_bytes, mac = raw[1:1 + _ID_BYTES], raw[1 + _ID_BYTES:]
    if not hmac.compare_digest(mac, _mac(user_bytes, settings)):
        return None
    return uuid.UUID(bytes=user_bytes)


def unsubscribe_url(user_id: uuid.UUID, settings: Settings) -> str:
    return f"{settings.public_base_url.rstrip('/')}{PATH}?token={token_for(user_id, settings)}"


def list_unsubscribe_headers(user_id: uuid.UUID, settings: Settings) -> dict[str, str]:
    """The two header fields of RFC 8058 for the user's digest (``content["headers"]`` of its delivery)."""
    return {"List-Unsubscribe": f"<{unsubscribe_url(user_id, settings)}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


class UnsubscribeResult(BaseModel):
    unsubscribed: bool = True
    frequency: Literal["off"] = "off"


def user_of(session: Session, token: str, settings: Settings) -> uuid.UUID:
    """The user of a link's token, who must still exist; else :class:`NotFoundError` naming the token."""
    user_id = user_for(token, settings)
    if user_id is None:
        raise NotFoundError("token: this unsubscribe link is not valid (it was altered or cut short); use the "
                            "link in your latest digest")
    if session.get(User, user_id) is None:
        raise NotFoundError("token: the user of this unsubscribe link no longer exists")
    return user_id


def unsubscribe(session: Session, user_id: uuid.UUID, actor: str) -> None:
    """Turn the user's digest off (their own preferences, created if they had none) and audit it; nothing
    happens when it is off already. Raises :class:`NotFoundError` for a user that no longer exists. Never
    commits."""
    if session.get(User, user_id) is None:
        raise NotFoundError("token: the user of this unsubscribe link no longer exists")
    row = session.scalar(select(DigestPreference).where(DigestPreference.user_id == user_id))
    if row is None:
        try:
            with session.begin_nested():  # the mail client's one-click POST and the person's click at once
                row = DigestPreference(user_id=user_id)
                session.add(row)
        except IntegrityError:
            row = session.scalar(select(DigestPreference).where(DigestPreference.user_id == user_id))
            assert row is not None
    before = row.frequency
    if before == Frequency.OFF.value:  # already off (the mail client and the person both clicked): nothing to do
        return
    row.frequency, row.updated_at, row.updated_by = Frequency.OFF.value, utcnow(), actor
    session.flush()
    audit.record(session, actor=actor, action="digest.unsubscribe", entity_type="user", entity_id=user_id,
                 details={"frequency": {"from": before, "to": Frequency.OFF.value}})


# --------------------------------------------------------------------------------------------------
# The pages (self-contained: no script, no external resource)

_STYLE = ("body{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;background:#f4f5f7;color:#1f2933;"
          "margin:0;padding:48px 16px}main{max-width:28rem;margin:0 auto;background:#fff;border-radius:8px;"
          "padding:32px;box-shadow:0 1px 3px rgba(0,0,0,.12)}h1{font-size:1.25rem;margin:0 0 12px}"
          "p{line-height:1.5}button{font:inherit;background:#1d4ed8;color:#fff;border:0;border-radius:6px;"
          "padding:10px 18px;cursor:pointer}")


def _html(title: str, body: str) -> str:
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta name="robots" content="noindex"><title>{html.escape(title)}</title>'
            f"<style>{_STYLE}</style></head><body><main><h1>{html.escape(title)}</h1>{body}</main></body></html>")


def confirm_page(token: str) -> str:
    """The page a link opens: a button that posts back to it (the GET itself changes nothing)."""
    action = html.escape(f"unsubscribe?token={token}", quote=True)
    return _html("Stop the Upswing digest?",
                 "<p>You will no longer receive the daily Upswing digest by e-mail. Alerts and the dashboard are "
                 "not affected, and you can turn the digest on again in your preferences.</p>"
                 f'<form method="post" action="{action}"><button type="submit">Unsubscribe</button></form>')


def done_page() -> str:
    return _html("You are unsubscribed",
                 "<p>The Upswing digest is off for you. To receive it again, turn it on in your preferences.</p>")


def invalid_page() -> str:
    return _html("This link does not work",
                 "<p>This unsubscribe link is not valid: it was altered or cut short, or its account no longer "
                 "exists. Use the link at the bottom of your latest digest, or change your digest preferences "
                 "after signing in.</p>")
