"""A fake SMTP relay on loopback, built on ``aiosmtpd`` (a dev dependency): a real SMTP server in a thread, so the
SMTP transport is tested against the protocol (EHLO, STARTTLS, AUTH, MAIL/RCPT/DATA), not a mock.

``with FakeSmtp() as smtp:`` gives a relay on ``smtp.port``; ``tls_context`` offers STARTTLS (and requires it:
a client that skips it is refused), ``users`` requires AUTH, ``refuse_recipient`` answers RCPT with an error.
Each accepted message is parsed and kept in ``smtp.messages``.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, cast

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

__all__ = ["FakeSmtp", "ReceivedEmail"]


@dataclass(frozen=True)
class ReceivedEmail:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: EmailMessage
    received_at: float  # time.time()
    tls: bool  # the session had switched to TLS
    login: str | None  # the AUTH user, if any


class _LoopbackController(Controller):
    """aiosmtpd's controller on port 0: learns the port the system gave before its readiness check connects."""

    def _trigger_server(self) -> None:
        server = cast(asyncio.Server, self.server)
        self.port = int(server.sockets[0].getsockname()[1])
        super()._trigger_server()  # type: ignore[no-untyped-call]


class FakeSmtp:
    def __init__(self, *, tls_context: ssl.SSLContext | None = None, users: Mapping[str, str] | None = None) -> None:
        self.tls_context = tls_context
        self.users = dict(users or {})
        self.refused: dict[str, tuple[int, str]] = {}
        self._messages: list[ReceivedEmail] = []
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._controller: _LoopbackController | None = None
        self.host = "127.0.0.1"
        self.port = 0

    # ---- lifecycle

    def start(self) -> FakeSmtp:
        if self._controller is not None:
            return self
        kwargs: dict[str, Any] = {}
        if self.tls_context is not None:
            kwargs.update(tls_context=self.tls_context, require_starttls=True)
        if self.users:
            kwargs.update(authenticator=self._authenticate, auth_required=True,
                          auth_require_tls=self.tls_context is not None)
        controller = _LoopbackController(_Handler(self), hostname=self.host, port=0, **kwargs)
        controller.start()
        self._controller = controller
        self.port = controller.port
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> FakeSmtp:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- behaviour and log

    def refuse_recipient(self, address: str, code: int = 550, text: str = "5.1.1 No such user") -> None:
        with self._lock:
            self.refused[address.lower()] = (code, text)

    @property
    def messages(self) -> list[ReceivedEmail]:
        with self._lock:
            return list(self._messages)

    def wait_for(self, count: int, timeout_s: float = 5.0) -> list[ReceivedEmail]:
        with self._arrived:
            self._arrived.wait_for(lambda: len(self._messages) >= count, timeout=timeout_s)
            return list(self._messages)

    def _record(self, entry: ReceivedEmail) -> None:
        with self._lock:
            self._messages.append(entry)
            self._arrived.notify_all()

    def _authenticate(self, server: SMTP, session: Session, envelope: Envelope, mechanism: str,
                      auth_data: Any) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            login, password = auth_data.login.decode(), auth_data.password.decode()
            if self.users.get(login) == password:
                return AuthResult(success=True, auth_data=login)
        return AuthResult(success=False, handled=False)


class _Handler:
    def __init__(self, fake: FakeSmtp) -> None:
        self.fake = fake

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        refused = self.fake.refused.get(address.lower())
        if refused is not None:
            return f"{refused[0]} {refused[1]}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        parsed = message_from_bytes(raw, policy=policy.default)
        login = session.auth_data if isinstance(session.auth_data, str) else None
        self.fake._record(ReceivedEmail(str(envelope.mail_from), list(envelope.rcpt_tos), raw, parsed, time.time(),
                                        session.ssl is not None, login))
        return "250 Message accepted for delivery"
