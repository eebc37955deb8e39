"""Field-level encryption (AES-256-GCM) and blind indexes (HMAC-SHA256) for data at rest.

Ciphertexts are self-describing, ``enc:v1:<key id>:<base64(nonce | ciphertext+tag)>``, so a key ring can
hold old keys for reading while new writes use the active one (``upswing keys rotate`` re-encrypts).
Blind indexes let the database find an exact value (an e-mail, a phone) without storing it in clear.

Columns declared with ``EncryptedText``, ``EncryptedJSON`` or ``EncryptedDate`` are encrypted on every write
and decrypted on every read through SQLAlchemy (ORM and Core alike); the ``context`` each one is given
(``"leads.email"``) is bound into the ciphertext as associated data, so a value copied into another column
does not decrypt there. Writes that bypass SQLAlchemy (PostgreSQL COPY) seal values with ``sealers``.
See docs/security.md.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import orjson
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Table, Text, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import operators

from upswing.settings import Settings, get_settings

PREFIX = "enc:v1:"
_PREFIX_LENGTH = len(PREFIX)
_NONCE_BYTES = 12
# Random nonces are drawn from the OS in blocks (one system call per 4096 values, not one each). A forked child
# must never reuse its parent's pool (a repeated nonce under one key breaks AES-GCM): it starts with none.
_NONCE_BLOCK = _NONCE_BYTES * 4096
_nonce_pool: list[Any] = [b"", 0]


def _nonce() -> bytes:
    pool, at = _nonce_pool
    if at >= len(pool):
        pool, at = os.urandom(_NONCE_BLOCK), 0
        _nonce_pool[0] = pool
    _nonce_pool[1] = at + _NONCE_BYTES
    return bytes(pool[at:at + _NONCE_BYTES])


def _forget_nonces() -> None:
    _nonce_pool[:] = [b"", 0]


os.register_at_fork(after_in_child=_forget_nonces)


class DecryptionError(ValueError):
    """A ciphertext could not be read: unknown key id, wrong key, or tampered data."""


def _derive(secret: bytes, purpose: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(secret)


def _parse_keys(spec: str) -> dict[str, bytes]:
    """``kid:base64key,kid:base64key`` → {kid: key}; the first is the active one."""
    keys: dict[str, bytes] = {}
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        kid, _, encoded = part.partition(":")
        try:
            key = base64.b64decode(encoded, validate=True)
        except ValueError:
            key = b""
        if not kid or ":" in kid or len(key) != 32:
            raise ValueError("UPSWING_ENCRYPTION_KEYS entries must be 'id:base64 of 32 bytes'")
        if kid in keys:
            raise ValueError(f"UPSWING_ENCRYPTION_KEYS names key id {kid!r} twice")
        keys[kid] = key
    if not keys:
        raise ValueError("UPSWING_ENCRYPTION_KEYS is empty")
    return keys


def new_key_spec(key_id: str) -> str:
    """A fresh ``id:base64`` entry for UPSWING_ENCRYPTION_KEYS (32 random bytes)."""
    if not key_id or ":" in key_id or "," in key_id:
        raise ValueError("a key id is a non-empty name without ':' or ','")
    return f"{key_id}:{base64.b64encode(os.urandom(32)).decode()}"


@dataclass(frozen=True)
class KeyRing:
    keys: dict[str, bytes]
    active_id: str
    index_key: bytes
    #: True when the keys were derived from the secret key (no UPSWING_ENCRYPTION_KEYS): fine for a demo only.
    derived: bool = False
    _ciphers: dict[str, AESGCM] = field(default_factory=dict, compare=False, repr=False)
    _index_states: list[Any] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> KeyRing:
        secret = settings.secret_key.get_secret_value().encode()
        if settings.encryption_keys is not None:
            spec = settings.encryption_keys.get_secret_value()
            keys = _parse_keys(spec)
            active = spec.split(",")[0].split(":")[0].strip()
            derived = False
        else:
            # Zero set-up default: a key derived from the secret key (production sets explicit keys).
            keys, active, derived = {"k0": _derive(secret, "upswing field encryption")}, "k0", True
        index_key = (base64.b64decode(settings.blind_index_key.get_secret_value())
                     if settings.blind_index_key is not None else _derive(secret, "upswing blind index"))
        return cls(keys=keys, active_id=active, index_key=index_key, derived=derived)

    def _cipher(self, kid: str) -> AESGCM:
        cipher = self._ciphers.get(kid)
        if cipher is None:
            cipher = self._ciphers[kid] = AESGCM(self.keys[kid])
        return cipher

    # encrypt/decrypt run once per PII value of every lead read or written (a 100k-lead import: 500k times),
    # hence the plain binascii calls and the nonce pool instead of the friendlier spellings.

    def encrypt(self, plaintext: str, *, context: str = "") -> str:
        nonce = _nonce()
        sealed = self._cipher(self.active_id).encrypt(nonce, plaintext.encode(), context.encode() or None)
        return f"{PREFIX}{self.active_id}:{binascii.b2a_base64(nonce + sealed, newline=False).decode()}"

    def decrypt(self, token: str, *, context: str = "") -> str:
        if not token.startswith(PREFIX):
            raise DecryptionError("not an Upswing ciphertext")
        separator = token.find(":", _PREFIX_LENGTH)
        kid = token[_PREFIX_LENGTH:separator] if separator > 0 else ""
        if kid not in self.keys:
            raise DecryptionError(f"unknown encryption key id {kid!r}")
        try:
            blob = binascii.a2b_base64(token[separator + 1:])
            return self._cipher(kid).decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:],
                                             context.encode() or None).decode()
        except Exception as exc:  # InvalidTag, bad base64
            raise DecryptionError("ciphertext does not verify (wrong key or tampered)") from exc

    def reencrypt(self, token: str, *, context: str = "") -> str:
        """The same plaintext under the active key (the token itself when it already is)."""
        if self.key_id_of(token) == self.active_id:
            return token
        return self.encrypt(self.decrypt(token, context=context), context=context)

    def key_id_of(self, token: str) -> str | None:
        return token[len(PREFIX):].partition(":")[0] if token.startswith(PREFIX) else None

    def blind_index(self, value: str, *, kind: str) -> str:
        """A keyed hash of the normalized value: equal inputs give equal indexes, nothing else leaks.

        HMAC-SHA256 (RFC 2104) from the two hash states the key leads to, computed once: copying them costs a
        third of ``hmac.new`` per value."""
        if not self._index_states:
            key = self.index_key if len(self.index_key) <= 64 else hashlib.sha256(self.index_key).digest()
            key = key.ljust(64, b"\0")
            self._index_states.extend((hashlib.sha256(bytes(b ^ 0x36 for b in key)),
                                       hashlib.sha256(bytes(b ^ 0x5C for b in key))))
        normalized = " ".join(value.strip().lower().split())
        inner = self._index_states[0].copy()
        inner.update(f"{kind}\0{normalized}".encode())
        outer = self._index_states[1].copy()
        outer.update(inner.digest())
        return str(outer.hexdigest())

    def encrypt_json(self, data: dict[str, Any], *, context: str = "") -> str:
        return self.encrypt(orjson.dumps(data).decode(), context=context)

    def decrypt_json(self, token: str, *, context: str = "") -> dict[str, Any]:
        value = orjson.loads(self.decrypt(token, context=context))
        if not isinstance(value, dict):
            raise DecryptionError("encrypted JSON is not an object")
        return value


def is_encrypted(value: object) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


_ring_cache: list[tuple[Settings, KeyRing]] = []


def get_key_ring() -> KeyRing:
    """The key ring of the current settings (rebuilt when the settings object changes, as tests do)."""
    settings = get_settings()
    if not _ring_cache or _ring_cache[0][0] is not settings:
        _ring_cache[:] = [(settings, KeyRing.from_settings(settings))]
    return _ring_cache[0][1]


# --------------------------------------------------------------------------------------------------
# Encrypted column types
# --------------------------------------------------------------------------------------------------


class EncryptedType(TypeDecorator[Any]):
    """Base of the encrypted column types: a TEXT column holding one ciphertext per value.

    Comparing such a column in SQL (``==``, ``IN``, ``LIKE``, ordering) would compare random ciphertexts,
    so it raises: look values up through their blind index column instead. ``IS NULL`` works.
    """

    impl = Text
    cache_ok = True

    def __init__(self, context: str) -> None:
        super().__init__()
        self.context = context

    class Comparator(TypeDecorator.Comparator[Any]):
        def operate(self, op: Any, *other: Any, **kwargs: Any) -> Any:
            allowed = op in (operators.is_, operators.is_not) or (
                op in (operators.eq, operators.ne) and len(other) == 1 and other[0] is None)
            if not allowed:
                raise TypeError(f"{self.expr} is encrypted: SQL cannot compare or order it; "
                                "look it up through its blind index column")
            return super().operate(op, *other, **kwargs)

    comparator_factory = Comparator

    def to_text(self, value: Any) -> str:
        raise NotImplementedError

    def from_text(self, text: str) -> Any:
        raise NotImplementedError

    def plain_stored(self, value: Any) -> str | None:
        """A value stored without encryption because it carries nothing (an empty list); None otherwise."""
        return None

    def seal(self, value: Any, ring: KeyRing | None = None) -> str | None:
        """The stored form of a value: None, or its ciphertext."""
        if value is None:
            return None
        plain = self.plain_stored(value)
        if plain is not None:
            return plain
        return (ring or get_key_ring()).encrypt(self.to_text(value), context=self.context)

    def open(self, stored: str | None, ring: KeyRing | None = None) -> Any:
        """The value of a stored form. A value that is not a ciphertext is read as written in clear (rows from
        before encryption, or a plain empty list)."""
        if stored is None:
            return None
        if not stored.startswith(PREFIX):
            return self.from_text(stored)
        return self.from_text((ring or get_key_ring()).decrypt(stored, context=self.context))

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return self.seal(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return self.open(value)

    def copy(self, **kw: Any) -> EncryptedType:
        return type(self)(self.context)


class EncryptedText(EncryptedType):
    """A string, encrypted."""

    cache_ok = True

    def to_text(self, value: Any) -> str:
        if not isinstance(value, str):
            raise TypeError(f"{self.context} takes a string, not {type(value).__name__}")
        return value

    def from_text(self, text: str) -> str:
        return text


class EncryptedJSON(EncryptedType):
    """A JSON value (list or object), encrypted as one ciphertext; an empty list or object is stored as is."""

    cache_ok = True

    def to_text(self, value: Any) -> str:
        return orjson.dumps(value, default=str).decode()

    def from_text(self, text: str) -> Any:
        return orjson.loads(text)

    def plain_stored(self, value: Any) -> str | None:
        if isinstance(value, list | dict) and not value:
            return "[]" if isinstance(value, list) else "{}"
        return None


class EncryptedDate(EncryptedType):
    """A date (ISO ``YYYY-MM-DD``), encrypted."""

    cache_ok = True

    def to_text(self, value: Any) -> str:
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, str):
            return date.fromisoformat(value).isoformat()
        raise TypeError(f"{self.context} takes a date, not {type(value).__name__}")

    def from_text(self, text: str) -> date:
        return date.fromisoformat(text)


def encrypted_columns(table: Table) -> dict[str, EncryptedType]:
    """Column name → its encrypted type, for the table's encrypted columns."""
    return {column.name: column.type for column in table.columns if isinstance(column.type, EncryptedType)}


def sealers(table: Table, columns: Iterable[str]) -> dict[str, Callable[[Any], str | None]]:
    """For writes that bypass SQLAlchemy's types (COPY): column name → function giving the stored form."""
    ring = get_key_ring()
    encrypted = encrypted_columns(table)
    return {name: _sealer(encrypted[name], ring) for name in columns if name in encrypted}


def _sealer(kind: EncryptedType, ring: KeyRing) -> Callable[[Any], str | None]:
    return lambda value: kind.seal(value, ring)


# --------------------------------------------------------------------------------------------------
# Values encrypted by hand (not through a column type), for ``upswing keys``
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SealedColumn:
    """A text column whose values other code encrypts with the key ring itself, and how to rebuild each
    value's context from its row (``needs`` names the other columns that takes)."""

    table: str
    column: str
    context: Callable[[Mapping[str, Any]], str]
    needs: tuple[str, ...] = ()


_sealed_columns: dict[tuple[str, str], SealedColumn] = {}


def register_sealed_column(table: str, column: str, context: str | Callable[[Mapping[str, Any]], str],
                           needs: tuple[str, ...] = ()) -> None:
    """Tell ``upswing keys rotate`` how to re-encrypt a column that holds ``KeyRing.encrypt`` tokens."""
    fixed = context
    context_of = fixed if callable(fixed) else (lambda _row: str(fixed))
    _sealed_columns[(table, column)] = SealedColumn(table, column, context_of, needs)


def sealed_columns() -> dict[tuple[str, str], SealedColumn]:
    return dict(_sealed_columns)


def column_context(table: str, column: str) -> Callable[[Mapping[str, Any]], str] | None:
    found = _sealed_columns.get((table, column))
    return found.context if found else None


# Values the domains seal with the key ring themselves (their contexts, as they write them): a domain may also
# register its own columns at import time. A column not in the database is skipped.
register_sealed_column("sources", "secrets", lambda row: f"source:{row['slug']}", needs=("slug",))
register_sealed_column("privacy_requests", "subject_encrypted", "privacy_requests.subject")
register_sealed_column("contact_attempts", "target_encrypted", "compliance.target")
register_sealed_column("contact_consents", "target_encrypted", "compliance.target")
