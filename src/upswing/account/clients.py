"""Machine clients of the API: OAuth 2.0 client credentials (RFC 6749 §4.4) for integrations such as a CRM
(docs/security.md, "Machine clients").

An admin registers a client with its scopes (``schemas.CLIENT_SCOPES``) and, optionally, the addresses it may
call from. The client authenticates at ``POST /api/v1/oauth/token`` either with its secret (HTTP Basic or
``client_secret_post``) or, when it registered a public key, with a JWT it signs (``private_key_jwt``, RFC 7523
§2.2: RS256 or ES256; ``iss`` = ``sub`` = its client id, ``aud`` our token URL, a short ``exp``, a ``jti``
used once), and gets a short-lived access token for the scopes it asked for (all of its scopes by default).

Secrets are 256 random bits shown once; the database keeps an HMAC-SHA256 of them under a key derived from the
secret key, not an argon2 hash: a password hash's slowness protects guessable secrets and these cannot be
guessed, while it would cost every token request (and an attacker's wrong guesses) tens of milliseconds of CPU.
The keyed hash also means a leaked table alone cannot even confirm a secret. Changing the secret key therefore
invalidates every client secret (as it does every token), and the clients rotate them.

A client token acts as a manager (``principal_user``) within its scopes: ``account/deps.py`` checks, for each
request, that the route accepts client tokens and with which scope (``deps.CLIENT_ROUTE_SCOPES``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal
from urllib.parse import unquote_plus

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from upswing.account.models import ApiClient, ApiClientAssertion, Role, User
from upswing.account.schemas import ApiClientCreate, ApiClientUpdate, ClientToken
from upswing.account.security import create_client_token
from upswing.account.tokens import issued_before
from upswing.audit import service as audit
from upswing.core.db import utcnow
from upswing.core.errors import ConflictError, NotFoundError, ValidationFailedError
from upswing.settings import Settings

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#: An assertion may be valid for at most this long (its ``jti`` is remembered until it expires).
MAX_ASSERTION_SECONDS = 300
#: Clock skew allowed between the client and us.
LEEWAY_SECONDS = 30
SECRET_PREFIX = "upsw_"  # noqa: S105 - a prefix that makes leaked secrets easy to scan for, not a secret
_ALGORITHMS = {"RSA": "RS256", "EC": "ES256"}

OAuthErrorCode = Literal["invalid_request", "invalid_client", "invalid_grant", "unauthorized_client",
                         "unsupported_grant_type", "invalid_scope"]


class OAuthError(Exception):
    """A refusal of the token endpoint (RFC 6749 §5.2): ``invalid_client`` answers 401, the rest 400."""

    def __init__(self, error: OAuthErrorCode, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description

    @property
    def status_code(self) -> int:
        return 401 if self.error == "invalid_client" else 400


def client_actor(client_id: uuid.UUID) -> str:
    """How a client's actions appear in the audit log; the services write ``user:<username>`` of the principal,
    and a client's principal is named ``client:<id>`` (a colon is never part of a person's username)."""
    return f"user:client:{client_id}"


def principal_user(client: ApiClient) -> User:
    """The user a client token acts as: a manager (every lead visible; the scopes say what it may do), never
    persisted. Its ``id`` is None, so the ``*_by`` columns of what it changes stay empty and the audit entry
    (actor ``user:client:<id>``) says who it was."""
    return User(id=None, username=f"client:{client.id}", full_name=client.name, role=Role.MANAGER.value,
                team_id=None, is_active=True, password_hash="!")  # noqa: S106 - not a password


def client_id_of(user: User) -> uuid.UUID | None:
    """The machine client a principal user stands for (``principal_user``), None for a person."""
    if user.id is not None or not user.username.startswith("client:"):
        return None
    try:
        return uuid.UUID(user.username.removeprefix("client:"))
    except ValueError:
        return None


# --------------------------------------------------------------------------------------------------
# Pure helpers

def hash_secret(settings: Settings, secret: str) -> str:
    key = hmac.new(settings.secret_key.get_secret_value().encode(), b"upswing api-client secret",
                   hashlib.sha256).digest()
    return hmac.new(key, secret.encode(), hashlib.sha256).hexdigest()


def address_allowed(allowed: list[str], address: str) -> bool:
    """Whether ``address`` is in one of the ``allowed`` networks (none listed: every address is)."""
    if not allowed:
        return True
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(network) for network in allowed)


def granted_scopes(registered: list[str], requested: str | None) -> list[str]:
    """The scopes of a token: the requested ones (RFC 6749 §3.3, space-separated), each registered; all the
    registered ones when none are requested."""
    if requested is None or not requested.strip():
        return sorted(registered)
    wanted = set(requested.split())
    unknown = wanted - set(registered)
    if unknown:
        raise OAuthError("invalid_scope", f"scope not granted to this client: {' '.join(sorted(unknown))}")
    return sorted(wanted)


@dataclass(frozen=True, slots=True)
class VerifyingKey:
    kid: str | None
    key: Any
    algorithm: str


def verifying_keys(text: str) -> list[VerifyingKey]:
    """The keys of a registered ``public_key``: a PEM public key, a JWK or a JWK set (RSA or EC P-256); raises
    ``ValueError`` for anything else (a private key included: register the public half)."""
    text = text.strip()
    if text.startswith("{"):
        try:
            document = json.loads(text)
            jwks = document.get("keys", [document]) if isinstance(document, dict) else None
            if not isinstance(jwks, list) or not jwks:
                raise ValueError("no keys")
            parsed = [(jwk.get("kid"), jwt.PyJWK(jwk).key) for jwk in jwks]
        except (ValueError, AttributeError, jwt.PyJWKError) as exc:
            raise ValueError(f"not a JWK or JWK set: {exc}") from None
    elif "PRIVATE KEY" in text:
        raise ValueError("that is a private key: register its public key")
    else:
        try:
            parsed = [(None, serialization.load_pem_public_key(text.encode()))]
        except ValueError:
            raise ValueError("not a PEM public key") from None
    keys = []
    for kid, key in parsed:
        if isinstance(key, rsa.RSAPublicKey) and key.key_size >= 2048:
            keys.append(VerifyingKey(kid, key, "RS256"))
        elif isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
            keys.append(VerifyingKey(kid, key, "ES256"))
        else:
            raise ValueError("keys must be public RSA keys (2048 bits or more) or EC P-256 keys")
    return keys


# --------------------------------------------------------------------------------------------------
# Registration (admin)

def _check_key(public_key: str) -> None:
    try:
        verifying_keys(public_key)
    except ValueError as exc:
        raise ValidationFailedError(f"public_key: {exc}",
                                    [{"row": None, "field": "public_key", "message": str(exc)}]) from None


def _unique_name(session: Session, name: str, client_id: uuid.UUID | None = None) -> None:
    other = session.scalar(select(ApiClient.id).where(ApiClient.name == name))
    if other is not None and other != client_id:
        raise ConflictError(f"an API client named {name!r} exists already")


def _details(client: ApiClient) -> dict[str, Any]:
    return {"name": client.name, "scopes": client.scopes, "allowed_ips": client.allowed_ips,
            "auth_method": client.auth_method, "is_active": client.is_active}


def create_client(session: Session, settings: Settings, data: ApiClientCreate, *,
                  actor: str) -> tuple[ApiClient, str | None]:
    """Register a client; returns it and its secret (None for a ``private_key_jwt`` client), to show once."""
    _unique_name(session, data.name)
    secret = None
    if data.public_key is not None:
        _check_key(data.public_key)
    else:
        secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    client = ApiClient(name=data.name, scopes=list(data.scopes), allowed_ips=list(data.allowed_ips),
                       auth_method="private_key_jwt" if data.public_key is not None else "client_secret",
                       public_key=data.public_key, secret_hash=hash_secret(settings, secret) if secret else None,
                       is_active=True, created_at=utcnow(), created_by=actor)
    session.add(client)
    session.flush()
    audit.record(session, actor=actor, action="api_client.create", entity_type="api_client", entity_id=client.id,
                 details=_details(client))
    return client, secret


def list_clients(session: Session) -> list[ApiClient]:
    return list(session.scalars(select(ApiClient).order_by(ApiClient.name)))


def get_client(session: Session, client_id: uuid.UUID) -> ApiClient:
    client = session.get(ApiClient, client_id)
    if client is None:
        raise NotFoundError("API client not found")
    return client


def find_client(session: Session, name_or_id: str) -> ApiClient:
    """A client by its id or its name (the CLI)."""
    try:
        return get_client(session, uuid.UUID(name_or_id))
    except ValueError:
        client = session.scalar(select(ApiClient).where(ApiClient.name == name_or_id))
    if client is None:
        raise NotFoundError(f"no API client {name_or_id!r}")
    return client


def _end_tokens(client: ApiClient, now: datetime) -> None:
    # Whole seconds, as a token's ``iat`` (tokens.issued_before): a token issued in this very second still works.
    client.tokens_valid_after = now.replace(microsecond=0)


def update_client(session: Session, client_id: uuid.UUID, data: ApiClientUpdate, *, actor: str) -> ApiClient:
    client = get_client(session, client_id)
    changes = data.model_dump(exclude_unset=True)
    if changes.get("name") is not None:
        _unique_name(session, changes["name"], client.id)
        client.name = changes["name"]
    if changes.get("scopes") is not None:
        client.scopes = list(changes["scopes"])
    if changes.get("allowed_ips") is not None:
        client.allowed_ips = list(changes["allowed_ips"])
    if changes.get("public_key") is not None:
        if client.auth_method != "private_key_jwt":
            raise ConflictError("this client authenticates with a secret: rotate its secret instead")
        _check_key(changes["public_key"])
        client.public_key = changes["public_key"]
    if changes.get("is_active") is not None and changes["is_active"] != client.is_active:
        client.is_active = changes["is_active"]
        if not client.is_active:
            _end_tokens(client, utcnow())
    audit.record(session, actor=actor, action="api_client.update", entity_type="api_client", entity_id=client.id,
                 details={**_details(client), "fields": sorted(changes),
                          "key_changed": changes.get("public_key") is not None})
    session.flush()
    return client


def rotate_secret(session: Session, settings: Settings, client_id: uuid.UUID, *, actor: str) -> tuple[ApiClient, str]:
    """A new secret for the client: the old one stops working, and so do the tokens issued until now."""
    client = get_client(session, client_id)
    if client.auth_method != "client_secret":
        raise ConflictError("this client authenticates with its key (private_key_jwt): update its public_key")
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    client.secret_hash = hash_secret(settings, secret)
    _end_tokens(client, utcnow())
    audit.record(session, actor=actor, action="api_client.rotate_secret", entity_type="api_client",
                 entity_id=client.id, details={"name": client.name})
    session.flush()
    return client, secret


def delete_client(session: Session, client_id: uuid.UUID, *, actor: str) -> None:
    client = get_client(session, client_id)
    audit.record(session, actor=actor, action="api_client.delete", entity_type="api_client", entity_id=client.id,
                 details=_details(client))
    session.delete(client)
    session.flush()


# --------------------------------------------------------------------------------------------------
# The token endpoint

@dataclass(frozen=True, slots=True)
class TokenRequest:
    """What a token request carried: its form fields and HTTP Basic credentials (``Authorization``)."""

    grant_type: str | None
    scope: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    client_assertion_type: str | None = None
    client_assertion: str | None = None
    authorization: str | None = None


def basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    """HTTP Basic client credentials (RFC 6749 §2.3.1: each form-urlencoded before encoding); None without."""
    if authorization is None:
        return None
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        raise OAuthError("invalid_client", "malformed HTTP Basic credentials") from None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise OAuthError("invalid_client", "malformed HTTP Basic credentials")
    return unquote_plus(client_id), unquote_plus(secret)


def _active_client(session: Session, client_id: str | None) -> ApiClient:
    try:
        client = session.get(ApiClient, uuid.UUID(str(client_id)))
    except ValueError:
        client = None
    if client is None or not client.is_active:
        raise OAuthError("invalid_client", "unknown or disabled client")
    return client


def _by_secret(session: Session, settings: Settings, client_id: str, secret: str) -> ApiClient:
    supplied = hash_secret(settings, secret)
    client = _active_client(session, client_id)
    if client.auth_method != "client_secret" or client.secret_hash is None \
            or not hmac.compare_digest(supplied, client.secret_hash):
        raise OAuthError("invalid_client", "client authentication failed")
    return client


def _by_assertion(session: Session, request: TokenRequest, audiences: list[str], now: datetime) -> ApiClient:
    assertion = request.client_assertion or ""
    try:
        header = jwt.get_unverified_header(assertion)
        unverified = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        raise OAuthError("invalid_client", "client_assertion is not a JWT") from None
    issuer = unverified.get("iss")
    if request.client_id is not None and request.client_id != issuer:
        raise OAuthError("invalid_client", "client_id differs from the assertion's issuer")
    client = _active_client(session, issuer)
    if client.auth_method != "private_key_jwt" or not client.public_key:
        raise OAuthError("invalid_client", "this client does not authenticate with a key")
    keys = [key for key in verifying_keys(client.public_key) if header.get("kid") in (None, key.kid)]
    key = next((k for k in keys if k.algorithm == header.get("alg")), None)
    if key is None:
        raise OAuthError("invalid_client", "no registered key for this assertion (kid, or alg RS256/ES256)")
    try:
        claims = jwt.decode(assertion, key.key, algorithms=[key.algorithm], audience=audiences,
                            issuer=str(client.id), leeway=LEEWAY_SECONDS,
                            options={"require": ["iss", "sub", "aud", "exp", "jti"]})
    except jwt.InvalidTokenError as exc:
        raise OAuthError("invalid_client", f"client_assertion refused: {exc}") from None
    if claims["sub"] != str(client.id):
        raise OAuthError("invalid_client", "client_assertion: sub must be the client id")
    expires = datetime.fromtimestamp(int(claims["exp"]), tz=now.tzinfo)
    if expires > now + timedelta(seconds=MAX_ASSERTION_SECONDS + LEEWAY_SECONDS):
        raise OAuthError("invalid_client", f"client_assertion valid too long (at most {MAX_ASSERTION_SECONDS} s)")
    _use_jti(session, client.id, str(claims["jti"]), expires + timedelta(seconds=LEEWAY_SECONDS), now)
    return client


def _use_jti(session: Session, client_id: uuid.UUID, jti: str, expires_at: datetime, now: datetime) -> None:
    """Remember an assertion's ``jti`` until it expires; a second use is refused (atomic across processes: the
    primary key decides)."""
    if not jti or len(jti) > 200:
        raise OAuthError("invalid_client", "client_assertion: jti missing or longer than 200 characters")
    session.execute(delete(ApiClientAssertion).where(ApiClientAssertion.client_id == client_id,
                                                     ApiClientAssertion.expires_at < now))
    insert: Any = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    try:
        inserted = session.execute(insert(ApiClientAssertion)
                                   .values(client_id=client_id, jti=jti, expires_at=expires_at)
                                   .on_conflict_do_nothing().returning(ApiClientAssertion.jti)).first()
    except IntegrityError:
        inserted = None
    if inserted is None:
        raise OAuthError("invalid_client", "client_assertion already used (jti)")


def authenticate(session: Session, settings: Settings, request: TokenRequest, *, audiences: list[str],
                 now: datetime | None = None) -> ApiClient:
    """The client a token request authenticates, by exactly one method; raises ``OAuthError``."""
    now = now or utcnow()
    basic = basic_credentials(request.authorization)
    methods = [basic is not None, request.client_secret is not None,
               request.client_assertion is not None or request.client_assertion_type is not None]
    if sum(methods) > 1:
        raise OAuthError("invalid_request", "use one client authentication method")
    if basic is not None:
        return _by_secret(session, settings, *basic)
    if request.client_secret is not None:
        if request.client_id is None:
            raise OAuthError("invalid_request", "client_id is missing")
        return _by_secret(session, settings, request.client_id, request.client_secret)
    if methods[2]:
        if request.client_assertion_type != ASSERTION_TYPE or not request.client_assertion:
            raise OAuthError("invalid_request", f"client_assertion_type must be {ASSERTION_TYPE} with a "
                                                "client_assertion")
        return _by_assertion(session, request, audiences, now)
    raise OAuthError("invalid_client", "client authentication is missing")


def issue_token(session: Session, settings: Settings, request: TokenRequest, *, address: str,
                audiences: list[str], now: datetime | None = None) -> ClientToken:
    """The client-credentials grant: authenticate the client, check its address and the scopes asked for, and
    issue an access token (audited). The caller commits (the assertion's ``jti`` is remembered)."""
    now = now or utcnow()
    if request.grant_type is None:
        raise OAuthError("invalid_request", "grant_type is missing")
    if request.grant_type != "client_credentials":
        raise OAuthError("unsupported_grant_type", "only client_credentials is supported")
    client = authenticate(session, settings, request, audiences=audiences, now=now)
    if not address_allowed(client.allowed_ips, address):
        raise OAuthError("invalid_client", "this client may not call from this address")
    scopes = granted_scopes(client.scopes, request.scope)
    audit.record(session, actor=client_actor(client.id), action="api_client.token", entity_type="api_client",
                 entity_id=client.id, details={"scopes": scopes, "auth_method": client.auth_method})
    return ClientToken(access_token=create_client_token(settings, client.id, scopes, now=now),
                       expires_in=settings.api_client_token_minutes * 60, scope=" ".join(scopes))


def check_access(session: Session, claims: dict[str, Any]) -> tuple[ApiClient, list[str]] | None:
    """The client of a decoded client token and the scopes it still has (those it was granted that the client is
    still registered with); None when the token no longer counts (client gone or disabled, or the token issued
    before its secret was rotated)."""
    try:
        client = session.get(ApiClient, uuid.UUID(str(claims["sub"])))
    except (KeyError, ValueError):
        return None
    if client is None or not client.is_active or issued_before(claims["iat"], client.tokens_valid_after):
        return None
    return client, [scope for scope in str(claims.get("scope", "")).split() if scope in client.scopes]
