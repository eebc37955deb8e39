"""Structured logging: console-friendly in development, one JSON object per line otherwise.

Personal data never reaches a log line (docs/security.md): ``mask_pii`` (a structlog processor) and
``PIIFilter`` (a stdlib ``logging`` filter, on the root logger's handlers and uvicorn's) replace the value of every
known PII key (``email``, ``phone``, ``address``, ``birth_date``, ``ssn``, a search's ``q``…) with ``[redacted]``,
wherever it is nested, and in every other string, the message and tracebacks included:

* the values of every query string of a URL or request path are redacted, only the parameter names are kept
  (``GET /api/v1/leads?q=Ann+Lee&limit=50`` → ``?q=[redacted]&limit=[redacted]``): a search term is a name, an
  e-mail or a phone number, and a query string also carries tokens;
* e-mail addresses and phone numbers are masked as written and as URL-encoded (``ann%40example.org``,
  ``%2B15125550199``, ``%28512%29%20555-0199``, ``+1+512+555+0199``), a phone number also as a whole path
  segment (``/leads/5125550199``).

The API server's access log goes through the same filter: ``upswing serve`` (and ``upswing demo run``) give uvicorn
``uvicorn_log_config()``.
"""

from __future__ import annotations

import copy
import logging
import re
import sys
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, unquote_plus

import structlog

from upswing.core.request_id import add_request_id

#: Keys whose values are personal data whatever they look like (compared lowercased).
PII_KEYS = frozenset({
    "email", "emails", "e_mail", "email_address", "phone", "phones", "phone_number", "mobile", "telephone",
    "address", "street", "street_address", "birth_date", "date_of_birth", "dob", "birthday", "ssn",
    "social_security_number", "tax_id", "first_name", "middle_name", "last_name", "full_name", "name_on_file",
    "target", "password", "subject",
    # What people search for: a name, an e-mail address or a phone number.
    "q", "query", "search", "search_query", "search_term", "searched",
})
REDACTED = "[redacted]"
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# A phone number: 10 to 15 digits with the usual separators (+ too: a space in a query string), not part of a
# longer token (ids, UUIDs, hashes)…
_PHONE = re.compile(r"(?:(?<![\w:/.-])|(?<=tel:))\+?\(?\d(?:[ ().+-]{0,2}\d){9,14}(?![\w/-])")
# … or a whole segment of a path (``/leads/5125550199/timeline``, ``/leads/+1 (512) 555-0199?x``).
_PATH_PHONE = re.compile(r"(?<=/)\+?\(?\d(?:[ ().+-]{0,2}\d){9,14}(?=[/?#\s\"'\]]|$)")
# Dates, times and IPv4 addresses look like digit runs too: they are not phone numbers.
_NOT_PHONE = re.compile(r"\d{4}-\d{2}-\d{2}|\d{2}:\d{2}|^\d{1,3}(?:\.\d{1,3}){3}$")
_SSN = re.compile(r"(?<![\w-])\d{3}-\d{2}-\d{4}(?![\w-])")
# The query string of a URL (``https://host/path?…``) or of a request path (``/api/v1/leads?…``).
_QUERY = re.compile(r"(?P<target>(?:\b[a-zA-Z][a-zA-Z0-9+.-]*:)?/[^\s?#\"'<>]*)\?(?P<query>[^\s#\"'<>]+)")
# A query parameter name kept in a redacted query string; anything else (``?ann@example.org``) is not kept.
_PARAMETER_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\[\]-]{0,63}")


def _mask_phone(match: re.Match[str]) -> str:
    return match.group() if _NOT_PHONE.search(match.group()) else "[phone]"


def redact_query(query: str) -> str:
    """A query string (without its ``?``) with every value redacted and only well-formed parameter names kept:
    ``q=Ann+Lee&limit=50`` → ``q=[redacted]&limit=[redacted]``; a parameter without a value (``?Ann+Lee``) or
    with an odd name is redacted whole."""
    parts: list[str] = []
    for part in re.split(r"[&;]", query):
        if not part:
            continue
        name, sep, _ = part.partition("=")
        name = unquote_plus(name)
        if sep and _PARAMETER_NAME.fullmatch(name):
            parts.append(f"{name}={REDACTED}")
        elif not parts or parts[-1] != REDACTED:
            parts.append(REDACTED)
    return "&".join(parts)


def _redact_queries(text: str) -> str:
    if "?" not in text:
        return text
    return _QUERY.sub(lambda m: f"{m.group('target')}?{redact_query(m.group('query'))}", text)


def mask_text(text: str) -> str:
    """Query strings redacted (``redact_query``); e-mail addresses, phone numbers and SSNs in free text replaced
    by placeholders, also when URL-encoded as in a logged request path (``/leads/%2B15125550199``)."""
    masked = _mask_plain(_redact_queries(text))
    if "%" in masked:
        # A request path or URL: what decoding reveals is masked in the decoded text (which is then what is
        # logged); otherwise the text stays as it was.
        decoded = unquote(masked)
        again = _mask_plain(decoded)
        if again != decoded:
            return again
    return masked


def _mask_plain(text: str) -> str:
    if "@" in text:
        text = _EMAIL.sub("[email]", text)
    if sum(ch.isdigit() for ch in text) >= 9:
        text = _SSN.sub("[ssn]", text)
        if "/" in text:
            text = _PATH_PHONE.sub(_mask_phone, text)
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


def _mask_argument(value: Any) -> Any:
    """One argument of a stdlib record: a string masked; a number, a bool or None as it is; any other object
    (an ``httpx.URL`` in httpx's request log) by its text when masking changes that."""
    if isinstance(value, str):
        return mask_text(value)
    if value is None or isinstance(value, int | float):
        return value
    text = str(value)
    masked = mask_text(text)
    return value if masked == text else masked


class PIIFilter(logging.Filter):
    """stdlib logging filter: the message, each of its arguments and any exception text masked. Arguments stay
    arguments (masked one by one): formatters such as uvicorn's access log unpack them (its request line is
    ``method``, ``path?query``, ``http_version``: the query string is redacted, the path masked)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = mask_text(record.msg)
        if isinstance(record.args, Mapping):
            record.args = {key: mask_value(value, str(key)) for key, value in record.args.items()}
        elif isinstance(record.args, tuple):
            record.args = tuple(_mask_argument(arg) for arg in record.args)
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
        add_request_id,  # the request's (or its task's) X-Request-ID: core/request_id.py
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


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's logging configuration (``uvicorn.config.LOGGING_CONFIG``) with ``PIIFilter`` on every handler,
    for ``uvicorn.run(log_config=…)``: uvicorn applies it before it loads the app, so even the first access
    line, and every line of a ``--reload`` worker, is masked."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["pii"] = {"()": f"{__name__}.PIIFilter"}
    for handler in config["handlers"].values():
        handler["filters"] = [*handler.get("filters", []), "pii"]
    return config


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)  # type: ignore[no-any-return]
