"""E-mail transports: Brevo's transactional API and plain SMTP, chosen by ``UPSWING_EMAIL_TRANSPORT``.

A transport makes exactly one attempt per :meth:`send` and raises :class:`SendFailed` when it fails; the alert
domain's sender task owns retries and backoff. The caller gives every delivery a stable ``Message-ID`` and both
transports send it (Brevo also as its idempotency key), so a send repeated after a crash carries the same id and
the receiving side can drop the copy.
"""

from __future__ import annotations

import html as html_lib
import re
import smtplib
import ssl
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage as MimeMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, formataddr
from typing import Any, Protocol

import httpx
import orjson

from upswing.core.http import USER_AGENT, parse_retry_after, safe_url, ssl_context
from upswing.notify.errors import SendFailed
from upswing.settings import Settings

__all__ = [
    "NOT_CONFIGURED",
    "RESERVED_HEADERS",
    "BrevoTransport",
    "EmailMessage",
    "EmailTransport",
    "SendFailed",
    "SendResult",
    "SmtpTransport",
    "UnconfiguredTransport",
    "email_transport",
    "message_id_for",
]

NOT_CONFIGURED = "e-mail transport not configured (UPSWING_EMAIL_TRANSPORT)"
MESSAGE_ID_DOMAIN = "upswing.alerts"
BREVO_TIMEOUT_S = 10.0  # one attempt; the sender task retries, so a slow API is better abandoned than waited on

_MESSAGE_ID = re.compile(r"<[^<>@\s]+@[^<>@\s]+>")
# A header field name (RFC 5322 §2.2: printable ASCII but the colon).
_HEADER_NAME = re.compile(r"[!-9;-~]{1,76}")
#: Headers the transports write themselves: a caller's copy would be a second, contradicting one.
RESERVED_HEADERS = frozenset({"from", "to", "cc", "bcc", "sender", "subject", "date", "message-id",
                              "idempotencykey", "mime-version", "content-type", "content-transfer-encoding",
                              "x-upswing-tags"})
# Statuses worth another attempt: the request was fine but the moment was not.
_RETRYABLE_STATUSES = frozenset({408, 409, 425, 429})


@dataclass(frozen=True)
class EmailMessage:
    to: str  # recipient address
    to_name: str | None
    subject: str
    html: str | None  # None: a text-only e-mail
    text: str
    message_id: str  # stable RFC 5322 Message-ID, e.g. "<3f2c…@upswing.alerts>", set by the caller per delivery
    tags: tuple[str, ...] = ()
    #: Extra header fields, in order (``List-Unsubscribe``, ``List-Unsubscribe-Post`` …); not the ones a transport
    #: writes itself (:data:`RESERVED_HEADERS`).
    headers: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if not _MESSAGE_ID.fullmatch(self.message_id):
            raise ValueError(f"message_id must look like <unique@domain>, not {self.message_id!r}")

    def check_recipient(self) -> None:
        """A stored address that cannot be one recipient fails the delivery for good, visibly (raised at send
        time, so a sender loop sees a :class:`SendFailed`, not a crash)."""
        local, _, domain = self.to.partition("@")
        if not local or not domain or any(c in self.to for c in "\r\n<>,;\"() ") or "@" in domain:
            raise SendFailed(f"not a single e-mail address: {self.to!r}", permanent=True)

    def check_headers(self) -> None:
        """A header that could smuggle in another (a line break), is not a field name, or would repeat one the
        transport writes fails the delivery for good (retrying sends the same message)."""
        for name, value in self.headers:
            if not _HEADER_NAME.fullmatch(name):
                raise SendFailed(f"not a header field name: {name!r}", permanent=True)
            if name.lower() in RESERVED_HEADERS:
                raise SendFailed(f"header {name} is written by the transport, not the message", permanent=True)
            if any(c in value for c in "\r\n\0"):
                raise SendFailed(f"header {name}: a line break or NUL in its value", permanent=True)

    def check(self) -> None:
        """Everything a transport checks before sending (raises a permanent :class:`SendFailed`)."""
        self.check_recipient()
        self.check_headers()

    @property
    def html_or_text(self) -> str:
        """The HTML part, or for a text-only message its text as HTML (escaped, in a ``<pre>``), for a provider
        that requires HTML."""
        if self.html is not None:
            return self.html
        return ('<!DOCTYPE html><html><body><pre style="font-family: monospace; white-space: pre-wrap;">'
                f"{html_lib.escape(self.text)}</pre></body></html>")


def message_id_for(key: str, domain: str = MESSAGE_ID_DOMAIN) -> str:
    """A Message-ID that is the same every time for one delivery (``key``: the delivery's UUID)."""
    return f"<{key}@{domain}>"


@dataclass(frozen=True)
class SendResult:
    provider_id: str  # Brevo's messageId; for SMTP the Message-ID we sent


class EmailTransport(Protocol):
    name: str

    def send(self, message: EmailMessage) -> SendResult:
        """One attempt; raises :class:`SendFailed`."""
        ...


class UnconfiguredTransport:
    """Stands in when e-mail cannot be sent, so every delivery fails permanently with the reason instead of
    disappearing."""

    def __init__(self, reason: str = NOT_CONFIGURED, *, name: str = "none") -> None:
        self.reason = reason
        self.name = name

    def send(self, message: EmailMessage) -> SendResult:
        raise SendFailed(self.reason, permanent=True)


# --------------------------------------------------------------------------------------------------
# Brevo (reference: shared/reference/external-apis.md §4)
# --------------------------------------------------------------------------------------------------


class BrevoTransport:
    """``POST {base_url}/v3/smtp/email``. 201 → ``messageId``; 400/401/403 (and other 4xx) are permanent;
    429, 408/409, 5xx, timeouts and connection errors are worth retrying."""

    name = "brevo"

    def __init__(self, *, api_key: str, base_url: str, sender_email: str, sender_name: str | None = None,
                 timeout_s: float = BREVO_TIMEOUT_S, transport: httpx.BaseTransport | None = None) -> None:
        self.endpoint = base_url.rstrip("/") + "/v3/smtp/email"
        self.sender: dict[str, str] = {"email": sender_email, **({"name": sender_name} if sender_name else {})}
        # One client per transport: keep-alive matters when a burst of alerts goes out.
        self._client = httpx.Client(
            headers={"api-key": api_key, "Accept": "application/json", "User-Agent": USER_AGENT},
            timeout=httpx.Timeout(timeout_s), follow_redirects=False, trust_env=False, transport=transport,
            verify=ssl_context())

    @classmethod
    def from_settings(cls, settings: Settings) -> BrevoTransport:
        if settings.brevo_api_key is None:
            raise ValueError("the brevo e-mail transport needs UPSWING_BREVO_API_KEY")
        return cls(api_key=settings.brevo_api_key.get_secret_value(), base_url=settings.brevo_base_url,
                   sender_email=settings.email_from, sender_name=settings.email_from_name)

    def __enter__(self) -> BrevoTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def body(self, message: EmailMessage) -> dict[str, Any]:
        recipient: dict[str, str] = {"email": message.to}
        if message.to_name:
            recipient["name"] = message.to_name
        body: dict[str, Any] = {
            "sender": self.sender,
            "to": [recipient],
            "subject": message.subject,
            # Brevo requires htmlContent: a text-only message goes as its text in a <pre> as well.
            "htmlContent": message.html_or_text,
            "textContent": message.text,
            # Our Message-ID doubles as the idempotency key: a repeat after a crash is the same message to Brevo.
            "headers": {"Message-Id": message.message_id, "idempotencyKey": message.message_id,
                        **dict(message.headers)},
        }
        if message.tags:
            body["tags"] = list(message.tags)
        return body

    def send(self, message: EmailMessage) -> SendResult:
        message.check()
        where = safe_url(self.endpoint)
        try:
            response = self._client.post(self.endpoint, content=orjson.dumps(self.body(message)),
                                         headers={"Content-Type": "application/json"})
        except httpx.TimeoutException as exc:
            raise SendFailed(f"Brevo {where}: timed out ({type(exc).__name__})", permanent=False) from None
        except httpx.TransportError as exc:
            raise SendFailed(f"Brevo {where}: {type(exc).__name__}: {exc}", permanent=False) from None
        status = response.status_code
        if 200 <= status < 300:
            return SendResult(_brevo_message_id(response.content) or message.message_id)
        detail = _brevo_error(response.content)
        text = f"Brevo {where}: HTTP {status}" + (f" ({detail})" if detail else "")
        if status == 429 or status >= 500 or status in _RETRYABLE_STATUSES:
            raise SendFailed(text, permanent=False, retry_after=_brevo_retry_after(response.headers), status=status)
        raise SendFailed(text, permanent=True, status=status)


def _brevo_message_id(content: bytes) -> str | None:
    """``messageId``, or the first of ``messageIds``. Accepted without one (never seen): the caller falls back to
    our own Message-ID rather than failing a message Brevo took."""
    try:
        data = orjson.loads(content) if content else None
    except orjson.JSONDecodeError:
        return None
    if not isinstance(data, dict):
        return None
    if isinstance(data.get("messageId"), str):
        return str(data["messageId"])
    ids = data.get("messageIds")
    return str(ids[0]) if isinstance(ids, list) and ids and isinstance(ids[0], str) else None


def _brevo_error(content: bytes) -> str:
    """``code: message`` from Brevo's error body, never the whole body."""
    try:
        data = orjson.loads(content) if content else None
    except orjson.JSONDecodeError:
        return content[:200].decode("utf-8", errors="replace").strip()
    if not isinstance(data, dict):
        return ""
    parts = [str(data[key]) for key in ("code", "message") if data.get(key)]
    return ": ".join(parts)[:300]


def _brevo_retry_after(headers: Mapping[str, str]) -> float | None:
    """``Retry-After`` (seconds or an HTTP date) if sent, else ``x-sib-ratelimit-reset`` (seconds left in the
    window; Brevo documents only this one)."""
    retry_after = parse_retry_after(headers.get("retry-after"), datetime.now(UTC))
    if retry_after is not None:
        return retry_after
    reset = headers.get("x-sib-ratelimit-reset")
    try:
        return max(0.0, float(reset)) if reset is not None else None
    except ValueError:
        return None


# --------------------------------------------------------------------------------------------------
# SMTP
# --------------------------------------------------------------------------------------------------


class SmtpTransport:
    """Stdlib ``smtplib``: one connection per message, STARTTLS (required when ``starttls``; the certificate is
    verified), optional login, a multipart/alternative text + HTML message (text/plain alone for a text-only one)
    carrying our Message-ID and the message's own header fields."""

    name = "smtp"

    def __init__(self, *, host: str, port: int, sender_email: str, sender_name: str | None = None,
                 username: str | None = None, password: str | None = None, starttls: bool = True,
                 timeout_s: float = 10.0, ssl_context: ssl.SSLContext | None = None) -> None:
        self.host = host
        self.port = port
        self.sender_email = sender_email
        self.sender_name = sender_name
        self.username = username
        self.password = password
        self.starttls = starttls
        self.timeout_s = timeout_s
        self.ssl_context = ssl_context or ssl.create_default_context()
        # EHLO with the sender's domain: smtplib's default (socket.getfqdn()) can stall on a reverse DNS look-up.
        self.helo_name = sender_email.rpartition("@")[2] or "localhost"

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpTransport:
        context = ssl.create_default_context(cafile=str(settings.smtp_ca_file) if settings.smtp_ca_file else None)
        return cls(host=settings.smtp_host, port=settings.smtp_port, sender_email=settings.email_from,
                   sender_name=settings.email_from_name, username=settings.smtp_username,
                   password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
                   starttls=settings.smtp_starttls, timeout_s=settings.smtp_timeout_seconds, ssl_context=context)

    def mime(self, message: EmailMessage) -> MimeMessage:
        mime = MimeMessage(policy=SMTP_POLICY)
        try:
            mime["From"] = formataddr((self.sender_name, self.sender_email)) if self.sender_name else self.sender_email
            mime["To"] = formataddr((message.to_name, message.to)) if message.to_name else message.to
            mime["Subject"] = message.subject
            mime["Message-ID"] = message.message_id
            mime["Date"] = format_datetime(datetime.now(UTC))
            if message.tags:
                mime["X-Upswing-Tags"] = ", ".join(message.tags)
            for name, value in message.headers:
                mime[name] = value
        except ValueError as exc:  # a header with a line break: never sent, and retrying cannot fix it
            raise SendFailed(f"cannot build the e-mail: {exc}", permanent=True) from None
        mime.set_content(message.text)
        if message.html is not None:  # text-only: a single text/plain part
            mime.add_alternative(message.html, subtype="html")
        return mime

    def send(self, message: EmailMessage) -> SendResult:
        message.check()
        mime = self.mime(message)
        where = f"{self.host}:{self.port}"
        try:
            # Connecting in the constructor also gives STARTTLS the host name its certificate is checked against.
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout_s, local_hostname=self.helo_name)
        except (smtplib.SMTPException, OSError) as exc:
            raise _smtp_failure(exc, where) from None
        try:
            smtp.ehlo()
            if self.starttls:
                smtp.starttls(context=self.ssl_context)
                smtp.ehlo()
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(mime)
        except (smtplib.SMTPException, OSError) as exc:
            raise _smtp_failure(exc, where) from None
        finally:
            with suppress(smtplib.SMTPException, OSError):  # the message is accepted (or not) before QUIT
                smtp.quit()
        return SendResult(message.message_id)


def _smtp_failure(exc: BaseException, where: str) -> SendFailed:
    """A reply code decides: 5xx is a refusal retrying cannot change, 4xx and no reply at all are transient.
    Missing STARTTLS/AUTH support, bad credentials and an untrusted certificate need a person: permanent."""
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return SendFailed(f"SMTP {where}: login refused ({exc.smtp_code} {_smtp_text(exc.smtp_error)})",
                          permanent=True, status=exc.smtp_code)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(exc.recipients.values()), (550, b"refused"))
        return SendFailed(f"SMTP {where}: recipient refused ({code} {_smtp_text(text)})", permanent=code >= 500,
                          status=code)
    if isinstance(exc, smtplib.SMTPResponseException):
        return SendFailed(f"SMTP {where}: {exc.smtp_code} {_smtp_text(exc.smtp_error)}",
                          permanent=exc.smtp_code >= 500, status=exc.smtp_code)
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return SendFailed(f"SMTP {where}: {exc} (STARTTLS or AUTH is required by our settings)", permanent=True)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return SendFailed(f"SMTP {where}: the server's certificate is not trusted ({exc.verify_message}; "
                          "UPSWING_SMTP_CA_FILE names a private CA)", permanent=True)
    if isinstance(exc, TimeoutError):
        return SendFailed(f"SMTP {where}: timed out", permanent=False)
    return SendFailed(f"SMTP {where}: {type(exc).__name__}: {exc}", permanent=False)


def _smtp_text(value: bytes | str) -> str:
    text = value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)
    return " ".join(text.split())[:300]


# --------------------------------------------------------------------------------------------------
# Choice
# --------------------------------------------------------------------------------------------------


def email_transport(settings: Settings) -> EmailTransport:
    """The transport ``UPSWING_EMAIL_TRANSPORT`` names. One that cannot work (none, or Brevo without a key)
    still comes back, failing every send permanently with the reason."""
    if settings.email_transport == "brevo":
        if settings.brevo_api_key is None:
            return UnconfiguredTransport("the brevo e-mail transport needs UPSWING_BREVO_API_KEY", name="brevo")
        return BrevoTransport.from_settings(settings)
    if settings.email_transport == "smtp":
        try:
            return SmtpTransport.from_settings(settings)
        except (OSError, ssl.SSLError) as exc:  # UPSWING_SMTP_CA_FILE missing or not PEM
            return UnconfiguredTransport(f"UPSWING_SMTP_CA_FILE={settings.smtp_ca_file}: {exc}", name="smtp")
    return UnconfiguredTransport()
