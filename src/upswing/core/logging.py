"""Structured logging: console-friendly in development, one JSON object per line otherwise.

Personal data never reaches a log line (docs/security.md): ``mask_pii`` (a structlog processor) and
``PIIFilter`` (a stdlib ``logging`` filter, on the root logger's handlers) replace the value of every known PII
key (``email``, ``phone``, ``address``, ``birth_date``, ``ssn``…) with ``[redacted]``, wherever it is nested,
and mask e-mail addresses and phone numbers in every other string, the message and tracebacks included.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

import structlog

#: Keys whose values are personal data whatever they look like (compared lowercased).
PII_KEYS = frozenset({
    "email", "emails", "e_mail", "email_address", "phone", "phones", "phone_number", "mobile", "telephone",
    "address", "street", "street_address", "birth_date", "date_of_birth", "dob", "birthday", "ssn",
    "social_security_number", "tax_id", "first_name", "middle_name", "last_name", "full_name", "name_on_file",
    "target", "password", "subject",
})
REDACTED = "[redacted]"
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# A phone number: 10 to 15 digits with the usual separators, not part of a longer token (ids, UUIDs, hashes).
_PHONE = re.compile(r"(?<![\w:/.-])\+?\(?\d(?:[ ().-]{0,2}\d){9,14}(?![\w/-])")
# Dates and times look like digit runs too: they are not phone numbers.
_NOT_PHONE = re.compile(r"\d{4}-\d{2}-\d{2}|\d{2}:\d{2}")
_SSN = re.compile(r"(?<![\w-])\d{3}-\d{2}-\d{4}(?![\w-])")


def _mask_phone(match: re.Match[str]) -> str:
    return match.group() if _NOT_PHONE.search(match.group()) else "[phone]"


def mask_text(text: str) -> str:
    """E-mail addresses, phone numbers and SSNs in free text replaced by placeholders (also when URL-encoded,
    as in a logged request path: ``?q=ann%40example.org``)."""
    if "%" in text:
        decoded = unquote(text)
        if decoded != text:
            masked = _mask_plain(decoded)
            return masked if masked != decoded else text
    return _mask_plain(text)


def _mask_plain(text: str) -> str:
    if "@" in text:
        text = _EMAIL.sub("[email]", text)
    if sum(ch.isdigit() for ch in text) >= 9:
        text = _SSN.sub("[ssn]", text)
        text = _PHONE.sub(_mask_phone, text)
    return text


def mask_value(value: Any, key: str | None = None) -> Any:
    """A value as it may be logged: redacted under a PII key, strings masked, containers walked."""
    if key is not None and key.lower() in PII_KEYS and value not in (None, "", [], {}):
        return REDACTED
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, Mapping):
        masked = {k: mask_value(v, str(k)) for k, v in value.items()}
        # A row error ({"field": "email", "value": "ann@…"}): the value is the field's, whatever its key.
        if str(value.get("field", "")).lower() in PII_KEYS and masked.get("value") not in (None, ""):
            masked["value"] = REDACTED
        return masked
    if isinstance(value, list | tuple | set | frozenset):
        return [mask_value(item) for item in value]
    return value


def mask_pii(_logger: Any, _method: str, event_dict: structlog.types.EventDict) -> structlog.types.EventDict:
    """structlog processor: ``mask_value`` on every key of the event (run after exceptions are formatted)."""
    return {key: mask_value(value, key) for key, value in event_dict.items()}


class PIIFilter(logging.Filter):
    """stdlib logging filter: the message, each of its arguments and any exception text masked. Arguments stay
    arguments (masked one by one): formatters such as uvicorn's access log unpack them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = mask_text(record.msg)
        if isinstance(record.args, Mapping):
            record.args = {key: mask_value(value, str(key)) for key, value in record.args.items()}
        elif isinstance(record.args, tuple):
            record.args = tuple(mask_text(arg) if isinstance(arg, str) else arg for arg in record.args)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        return True


class _StderrLogger:
    """Writes each event to whatever ``sys.stderr`` is at that moment (stdout stays clean for
    machine-readable output, and a replaced stderr, as in tests, is honoured)."""

    def msg(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    log = debug = info = warning = warn = error = critical = exception = fatal = msg


def _stderr_logger(*_args: object) -> _StderrLogger:
    return _StderrLogger()


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler on whatever ``sys.stderr`` is when a record comes (like ``_StderrLogger``)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def install_pii_filter(logger: logging.Logger | None = None) -> None:
    """Put ``PIIFilter`` on the logger's handlers (the root logger's by default), once each; a root logger
    without handlers gets one writing to stderr, so records of other libraries pass the filter too."""
    logger = logger or logging.getLogger()
    if not logger.handlers and logger is logging.getLogger():
        logger.addHandler(_StderrHandler())
    for handler in logger.handlers:
        if not any(isinstance(f, PIIFilter) for f in handler.filters):
            handler.addFilter(PIIFilter())


def configure_logging(level: str = "INFO", *, json_output: bool = False) -> None:
    processors: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,  # tracebacks become text, so the next step masks them too
        mask_pii,
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if json_output else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*processors, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=True,
    )
    install_pii_filter()
    for name in _OWN_HANDLER_LOGGERS:  # loggers that do not propagate to the root logger's handlers
        install_pii_filter(logging.getLogger(name))


#: Loggers with handlers of their own (uvicorn's access log carries request paths, query strings included).
_OWN_HANDLER_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)  # type: ignore[no-any-return]
