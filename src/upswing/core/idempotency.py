"""``Idempotency-Key`` on every POST: a retried request gets the first one's answer instead of doing it twice.

A client (a CRM, the dashboard, a script) that sends ``Idempotency-Key: <its own unique string>`` with a POST may
send the same request again — after a timeout, a dropped connection, a crash — and the work is done once:

- same key, same method, path, query and body: the first answer is replayed (``Idempotent-Replayed: true``);
- same key with a different request: **422** (a key names one request);
- same key while the first request is still being answered: **409** with ``Retry-After``.

Keys belong to whoever sent them (the bearer token's user or client; unauthenticated calls by address), so one
client's key never collides with another's, and are kept ``UPSWING_IDEMPOTENCY_RETENTION_HOURS``. An answer is kept
only when the request was carried out: refusals before any work (401, 403, 422, 429) and server errors (5xx) are
not kept, so the same key may be retried. Answers are encrypted at rest (they may hold lead data).

The key is claimed in its own short transaction before the request runs, and the answer stored in another after
it; a process killed in between leaves a claim whose lease (``_LEASE``) runs out, and a retry then runs again.
"""

from __future__ import annotations

import hashlib
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO, Any, cast

import orjson
from anyio import to_thread
from sqlalchemy import CursorResult, Index, Integer, String, UniqueConstraint, Uuid, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from upswing.core import tasks
from upswing.core.crypto import EncryptedJSON, EncryptedText
from upswing.core.db import Base, UTCDateTime, new_uuid, utcnow

HEADER = "idempotency-key"
MAX_KEY_LENGTH = 255
#: How long a claimed key waits for its request's answer before a retry may run the request itself.
_LEASE = timedelta(seconds=60)
#: Answers larger than this are not kept (the request still runs; a retry would run again).
_MAX_STORED_BODY = 1024 * 1024
#: Request bodies up to this size stay in memory while they are hashed; larger ones spool to disk.
_SPOOL_IN_MEMORY = 1024 * 1024
#: Statuses whose answer is not kept: nothing was done (auth, validation, rate limit) or the server failed.
_NOT_KEPT = {401, 403, 422, 429}
#: Response headers replayed with a kept answer.
_KEPT_HEADERS = {"content-type", "location", "etag", "content-disposition", "retry-after"}

#: Who sent a request, for scoping its key: ``user:<id>`` / ``client:<id>`` from a valid bearer token, or None.
ScopeResolver = Callable[[str | None], str | None]


class IdempotencyRecord(Base):
    """One key's request and, once answered, its answer."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("scope", "key", name="uq_idempotency_keys_scope_key"),
                      Index("ix_idempotency_keys_created_at", "created_at"))

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    scope: Mapped[str] = mapped_column(String(120))
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH))
    #: SHA-256 of method, path, query and body: the request the key names.
    fingerprint: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    response_headers: Mapped[Any] = mapped_column(EncryptedJSON("idempotency_keys.response_headers"),
                                                  nullable=True)
    response_body: Mapped[str | None] = mapped_column(EncryptedText("idempotency_keys.response_body"),
                                                      nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


@dataclass(frozen=True, slots=True)
class _Claim:
    """What looking the key up decided: run the request (``record_id``), replay, refuse as a mismatch or busy."""

    record_id: uuid.UUID | None = None
    replay: IdempotencyRecord | None = None
    mismatch: bool = False
    busy: bool = False


def claim(session: Session, scope: str, key: str, fingerprint: str, method: str, path: str) -> _Claim:
    """Claim ``key`` for this request, or say why not. Commits nothing (the caller's transaction does)."""
    now = utcnow()
    existing = session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.scope == scope,
                                                              IdempotencyRecord.key == key))
    if existing is None:
        record = IdempotencyRecord(scope=scope, key=key, fingerprint=fingerprint, method=method, path=path[:500],
                                   locked_until=now + _LEASE)
        try:
            with session.begin_nested():
                session.add(record)
        except IntegrityError:  # claimed by a concurrent request a moment ago: it is busy with it
            return _Claim(busy=True)
        return _Claim(record_id=record.id)
    if existing.fingerprint != fingerprint:
        return _Claim(mismatch=True)
    if existing.completed_at is not None:
        return _Claim(replay=existing)
    if existing.locked_until is not None and existing.locked_until > now:
        return _Claim(busy=True)
    # The request that claimed it never answered (its process died): this one takes the lease over, once.
    taken = cast(CursorResult[Any], session.execute(
        update(IdempotencyRecord).where(IdempotencyRecord.id == existing.id,
                                        IdempotencyRecord.locked_until == existing.locked_until)
        .values(locked_until=now + _LEASE)))
    return _Claim(record_id=existing.id) if taken.rowcount == 1 else _Claim(busy=True)


def complete(session: Session, record_id: uuid.UUID, status_code: int, headers: dict[str, str],
             body: bytes) -> None:
    """Keep the answer (or, for one not kept, free the key so a retry runs the request again)."""
    text = _text(body)
    if status_code >= 500 or status_code in _NOT_KEPT or text is None:
        session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == record_id))
        return
    record = session.get(IdempotencyRecord, record_id)
    if record is not None:
        record.status_code, record.response_headers, record.response_body = status_code, headers, text
        record.completed_at, record.locked_until = utcnow(), None


def release(session: Session, record_id: uuid.UUID) -> None:
    """The request failed without an answer: free its key."""
    session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == record_id))


def _text(body: bytes) -> str | None:
    if len(body) > _MAX_STORED_BODY:
        return None
    try:
        return body.decode()
    except UnicodeDecodeError:
        return None


def fingerprint_of(method: str, path: str, query: bytes, body_digest: str) -> str:
    return hashlib.sha256(orjson.dumps([method, path, query.decode("latin-1"), body_digest])).hexdigest()


def purge(session: Session, keep_hours: int) -> int:
    """Forget keys older than ``keep_hours`` (their requests may then run again under the same key)."""
    result = cast(CursorResult[Any], session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.created_at < utcnow() - timedelta(hours=keep_hours))))
    return result.rowcount


@tasks.scheduled(every=timedelta(hours=1))
@tasks.task("idempotency.purge")
def purge_expired(keep_hours: int | None = None) -> int:
    """``purge`` with the retention setting (``UPSWING_IDEMPOTENCY_RETENTION_HOURS``)."""
    from upswing.core.db import transaction
    from upswing.settings import get_settings

    with transaction() as session:
        return purge(session, keep_hours if keep_hours is not None else get_settings().idempotency_retention_hours)


# --------------------------------------------------------------------------------------------------
# The middleware


class IdempotencyMiddleware:
    """Applies the rules above to every ``POST /api/…`` that carries an ``Idempotency-Key`` header."""

    def __init__(self, app: ASGIApp, *, session_factory: Callable[[], sessionmaker[Session]],
                 scope_of: ScopeResolver, max_body_bytes: int) -> None:
        self.app = app
        self.session_factory = session_factory  # read per request: tests swap the application's factory
        self.scope_of = scope_of
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
        key = headers.get(HEADER)
        if key is None:
            await self.app(scope, receive, send)
            return
        if not key.strip() or len(key) > MAX_KEY_LENGTH:
            await _json(send, 400, {"detail": f"Idempotency-Key: 1 to {MAX_KEY_LENGTH} characters",
                                    "errors": [{"row": None, "field": "Idempotency-Key",
                                                "message": f"1 to {MAX_KEY_LENGTH} characters"}]})
            return
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            await self.app(scope, receive, send)  # the route refuses it (413) before reading it
            return
        spooled = await _spool(receive, self.max_body_bytes)
        if spooled is None:
            await _json(send, 413, {"detail": f"request body larger than {self.max_body_bytes} bytes"})
            return
        body_file, digest = spooled
        try:
            await self._run(scope, receive, send, headers, key, body_file, digest)
        finally:
            body_file.close()

    async def _run(self, scope: Scope, receive: Receive, send: Send, headers: dict[str, str], key: str,
                   body_file: IO[bytes], digest: str) -> None:
        owner = self.scope_of(headers.get("authorization"))
        if owner is None:
            client = scope.get("client")
            owner = f"address:{client[0] if client else 'unknown'}"
        fingerprint = fingerprint_of(scope["method"], scope["path"], scope.get("query_string", b""), digest)
        factory = self.session_factory()
        decided = await to_thread.run_sync(_claim_in_transaction, factory, owner, key, fingerprint,
                                           scope["method"], scope["path"])
        if decided.mismatch:
            await _json(send, 422, {"detail": "Idempotency-Key was already used for a different request",
                                    "errors": [{"row": None, "field": "Idempotency-Key",
                                                "message": "already used for a different request"}]})
            return
        if decided.busy:
            await _json(send, 409, {"detail": "a request with this Idempotency-Key is still being answered; "
                                              "retry shortly"}, extra=[(b"retry-after", b"1")])
            return
        if decided.replay is not None:
            await _replay(send, decided.replay)
            return
        record_id = cast(uuid.UUID, decided.record_id)
        captured = _Captured()
        try:
            await self.app(scope, _replaying(body_file, receive), captured.wrap(send))
        except BaseException:
            await to_thread.run_sync(_in_transaction, factory, lambda s: release(s, record_id))
            raise
        await to_thread.run_sync(_in_transaction, factory,
                                 lambda s: complete(s, record_id, captured.status, captured.kept_headers(),
                                                    bytes(captured.body)))


def _claim_in_transaction(factory: sessionmaker[Session], owner: str, key: str, fingerprint: str, method: str,
                          path: str) -> _Claim:
    with factory() as session:
        decided = claim(session, owner, key, fingerprint, method, path)
        if decided.replay is not None:
            session.expunge(decided.replay)
        session.commit()
        return decided


def _in_transaction(factory: sessionmaker[Session], work: Callable[[Session], None]) -> None:
    with factory() as session:
        work(session)
        session.commit()


async def _spool(receive: Receive, limit: int) -> tuple[IO[bytes], str] | None:
    """The whole request body in a temporary file (in memory while small) and its SHA-256; None when over
    ``limit``."""
    body_file: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)  # noqa: SIM115 - closed by caller
    digest = hashlib.sha256()
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            body_file.close()
            return None
        digest.update(chunk)
        body_file.write(chunk)
        if not message.get("more_body", False):
            break
    body_file.seek(0)
    return body_file, digest.hexdigest()


def _replaying(body_file: IO[bytes], receive: Receive) -> Receive:
    """The spooled body, then the connection's own messages (a disconnect, which streaming answers listen for)."""
    size = body_file.seek(0, 2)
    body_file.seek(0)
    done = False

    async def replaying() -> Message:
        nonlocal done
        if done:
            return await receive()
        chunk = body_file.read(64 * 1024)
        done = body_file.tell() >= size
        return {"type": "http.request", "body": chunk, "more_body": not done}

    return replaying


class _Captured:
    """The answer as it goes out to the client, kept for storing."""

    def __init__(self) -> None:
        self.status = 500
        self.headers: list[tuple[bytes, bytes]] = []
        self.body = bytearray()

    def wrap(self, send: Send) -> Send:
        async def capturing(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.status = message["status"]
                self.headers = list(message.get("headers", []))
            elif message["type"] == "http.response.body" and len(self.body) <= _MAX_STORED_BODY:
                self.body.extend(message.get("body", b""))
            await send(message)

        return capturing

    def kept_headers(self) -> dict[str, str]:
        return {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in self.headers
                if name.decode("latin-1").lower() in _KEPT_HEADERS}


async def _replay(send: Send, record: IdempotencyRecord) -> None:
    body = (record.response_body or "").encode()
    headers = [(name.encode("latin-1"), value.encode("latin-1"))
               for name, value in (record.response_headers or {}).items()]
    headers += [(b"content-length", str(len(body)).encode()), (b"idempotent-replayed", b"true")]
    await send({"type": "http.response.start", "status": record.status_code or 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _json(send: Send, status: int, content: dict[str, Any],
                extra: list[tuple[bytes, bytes]] | None = None) -> None:
    body = orjson.dumps(content)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
               *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
