"""Field-level encryption (AES-256-GCM) and blind indexes (HMAC-SHA256) for data at rest.

Ciphertexts are self-describing, ``enc:v1:<key id>:<base64(nonce | ciphertext+tag)>``, so a key ring can
hold old keys for reading while new writes use the active one (``upswing keys rotate`` re-encrypts).
Blind indexes let the database find an exact value (an e-mail, a phone) without storing it in clear.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from upswing.settings import Settings, get_settings

PREFIX = "enc:v1:"
_NONCE_BYTES = 12


class DecryptionError(ValueError):
    """A ciphertext could not be read: unknown key id, wrong key, or tampered data."""


def _derive(secret: bytes, purpose: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(secret)


def _parse_keys(spec: str) -> dict[str, bytes]:
    """``kid:base64key,kid:base64key`` → {kid: key}; the first is the active one."""
    keys: dict[str, bytes] = {}
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        kid, _, encoded = part.partition(":")
        key = base64.b64decode(encoded)
        if not kid or len(key) != 32:
            raise ValueError("UPSWING_ENCRYPTION_KEYS entries must be 'id:base64 of 32 bytes'")
        keys[kid] = key
    if not keys:
        raise ValueError("UPSWING_ENCRYPTION_KEYS is empty")
    return keys


@dataclass(frozen=True)
class KeyRing:
    keys: dict[str, bytes]
    active_id: str
    index_key: bytes

    @classmethod
    def from_settings(cls, settings: Settings) -> KeyRing:
        secret = settings.secret_key.get_secret_value().encode()
        if settings.encryption_keys is not None:
            spec = settings.encryption_keys.get_secret_value()
            keys = _parse_keys(spec)
            active = spec.split(",")[0].split(":")[0].strip()
        else:
            # Zero set-up default: a key derived from the secret key (production sets explicit keys).
            keys, active = {"k0": _derive(secret, "upswing field encryption")}, "k0"
        index_key = (base64.b64decode(settings.blind_index_key.get_secret_value())
                     if settings.blind_index_key is not None else _derive(secret, "upswing blind index"))
        return cls(keys=keys, active_id=active, index_key=index_key)

    def encrypt(self, plaintext: str, *, context: str = "") -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = AESGCM(self.keys[self.active_id]).encrypt(nonce, plaintext.encode(), context.encode() or None)
        return f"{PREFIX}{self.active_id}:{base64.b64encode(nonce + sealed).decode()}"

    def decrypt(self, token: str, *, context: str = "") -> str:
        if not token.startswith(PREFIX):
            raise DecryptionError("not an Upswing ciphertext")
        kid, _, encoded = token[len(PREFIX):].partition(":")
        key = self.keys.get(kid)
        if key is None:
            raise DecryptionError(f"unknown encryption key id {kid!r}")
        try:
            blob = base64.b64decode(encoded)
            return AESGCM(key).decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], context.encode() or None).decode()
        except Exception as exc:  # InvalidTag, bad base64
            raise DecryptionError("ciphertext does not verify (wrong key or tampered)") from exc

    def key_id_of(self, token: str) -> str | None:
        return token[len(PREFIX):].partition(":")[0] if token.startswith(PREFIX) else None

    def blind_index(self, value: str, *, kind: str) -> str:
        """A keyed hash of the normalized value: equal inputs give equal indexes, nothing else leaks."""
        normalized = " ".join(value.strip().lower().split())
        return hmac.new(self.index_key, f"{kind}\0{normalized}".encode(), hashlib.sha256).hexdigest()

    def encrypt_json(self, data: dict[str, Any], *, context: str = "") -> str:
        return self.encrypt(orjson.dumps(data).decode(), context=context)

    def decrypt_json(self, token: str, *, context: str = "") -> dict[str, Any]:
        value = orjson.loads(self.decrypt(token, context=context))
        if not isinstance(value, dict):
            raise DecryptionError("encrypted JSON is not an object")
        return value


def is_encrypted(value: object) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


@lru_cache
def get_key_ring() -> KeyRing:
    return KeyRing.from_settings(get_settings())
