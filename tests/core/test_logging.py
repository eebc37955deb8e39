"""PII never reaches a log line: the structlog processor and the stdlib filter, on a real code path."""

from __future__ import annotations

import http.client
import io
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session

from upswing.core.logging import REDACTED, PIIFilter, configure_logging, install_pii_filter, mask_pii, mask_text
from upswing.lead import service as leads


@pytest.mark.parametrize(("text", "expected"), [
    ("mail ann.lee+x@mail.example.co.uk now", "mail [email] now"),
    ("call (410) 359-8819 or +1 410 359 8819", "call [phone] or [phone]"),
    ("ssn 123-45-6789", "ssn [ssn]"),
    ("lead 3f2a9c1e-1234-4567-8901-123456789012 at 2026-11-22T05:23:08Z", None),
    ("imported 100000 rows in 9.85 s", None),
    ("row 1234567 of book 2026-11-22", None),
    ("GET /api/v1/leads?q=ann%40example.org HTTP/1.1", "GET /api/v1/leads?q=[redacted] HTTP/1.1"),
    ("progress 50%", None),
])
def test_masks_emails_phones_and_ssns_but_not_ids_dates_or_counts(text: str, expected: str | None) -> None:
    assert mask_text(text) == (text if expected is None else expected)


def test_known_pii_keys_are_redacted_wherever_they_are_nested() -> None:
    event = {"event": "lead.seen ann@example.org", "lead_id": "L-1", "email": "ann@example.org",
             "details": {"phones": [{"number": "+14103598819"}], "state": "MD", "birth_date": "1985-12-10"},
             "errors": [{"row": 3, "field": "phone", "value": "555-01"}, {"row": 4, "field": "state", "value": "ZZ"}],
             "address": None}
    masked = mask_pii(None, "info", event)
    assert masked == {"event": "lead.seen [email]", "lead_id": "L-1", "email": REDACTED,
                      "details": {"phones": REDACTED, "state": "MD", "birth_date": REDACTED},
                      "errors": [{"row": 3, "field": "phone", "value": REDACTED},
                                 {"row": 4, "field": "state", "value": "ZZ"}],
                      "address": None}


def test_a_rejected_lead_import_logs_its_errors_without_the_values(db_session: Session,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", json_output=True)
    rows = [{"external_id": "R-1", "first_name": "Ann", "last_name": "Lee", "email": "ann.lee@@example..org"},
            {"external_id": "R-2", "first_name": "Bob", "last_name": "Ray", "phone": "555-0100-99"},
            {"external_id": "R-3", "first_name": "Cy", "last_name": "Roe", "email": "cy.roe@example.org",
             "birth_date": "1799-01-01"},
            {"external_id": "R-4", "first_name": "Di", "last_name": "Poe", "state": "ZZ"}]
    report = leads.import_leads(db_session, rows, portfolio_name="logs", actor="test", skip_invalid=True)
    assert report.rejected == 4
    logged = capsys.readouterr().err
    assert "lead_import.rows_rejected" in logged
    for secret in ("ann.lee", "example..org", "555-0100-99", "cy.roe@example.org", "1799-01-01"):
        assert secret not in logged
    # JSON or console rendering (a logger configured earlier in the process keeps its renderer): same content.
    line = next(x for x in logged.splitlines() if "lead_import.rows_rejected" in x).replace("'", '"')
    for row, field in ((1, "email"), (2, "phone"), (3, "birth_date")):
        assert f'{{"row": {row}, "field": "{field}", "value": "{REDACTED}"' in line
    assert '{"row": 4, "field": "state", "value": "ZZ"' in line


def test_stdlib_records_pass_the_filter_messages_and_tracebacks_alike() -> None:
    logger = logging.getLogger("upswing.test.pii")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)
    logger.propagate = False
    try:
        install_pii_filter(logger)
        install_pii_filter(logger)  # once is enough
        assert sum(isinstance(f, PIIFilter) for f in handler.filters) == 1
        logger.warning("contact %s at %s", "ann@example.org", "(410) 359-8819")
        try:
            raise ValueError("no lead with e-mail bob@example.org")
        except ValueError:
            logger.exception("look-up failed for %s", "bob@example.org")
    finally:
        logger.removeHandler(handler)
    out = stream.getvalue()
    assert "contact [email] at [phone]" in out and "look-up failed for [email]" in out
    assert "ValueError: no lead with e-mail [email]" in out
    assert "example.org" not in out and "359-8819" not in out


def test_uvicorn_access_records_keep_their_arguments_for_the_formatter() -> None:
    from uvicorn.logging import AccessFormatter

    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5000", "GET", "/api/v1/leads?q=ann%40example.org", "1.1", 200), None)
    assert PIIFilter().filter(record)
    line = AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s', use_colors=False).format(record)
    assert line == '127.0.0.1:5000 - "GET /api/v1/leads?q=[redacted] HTTP/1.1" 200 OK'


# ---- every encoding of a phone number or e-mail address, search query strings, the access log

#: The secrets of the tests below, and how they appear in request paths and query strings.
PHONE_DIGITS, NAME = "5125550199", "Zephyrine Quillfeather"
ENCODED_PHONES = ["+1 (512) 555-0199", "%2B15125550199", "%28512%29%20555-0199", "+1+%28512%29+555-0199",
                  "%2B1%20512%20555%200199", "+1+512+555+0199", "(512)%20555-0199"]
ENCODED_EMAILS = ["zq@example.net", "zq%40example.net", "z.q%2Btag%40example.net"]


@pytest.mark.parametrize(("text", "expected"), [
    *[(f"look-up for {phone} failed", "look-up for [phone] failed") for phone in ENCODED_PHONES[:3]],
    *[(f"GET /api/v1/leads/{phone} HTTP/1.1", "GET /api/v1/leads/[phone] HTTP/1.1") for phone in ENCODED_PHONES],
    (f"GET /api/v1/leads/{PHONE_DIGITS}/timeline HTTP/1.1", "GET /api/v1/leads/[phone]/timeline HTTP/1.1"),
    (f"GET /api/v1/leads/+1{PHONE_DIGITS}?x HTTP/1.1", "GET /api/v1/leads/[phone]?[redacted] HTTP/1.1"),
    ("call tel:+15125550199", "call tel:[phone]"),
    *[(f"mail {email} now", "mail [email] now") for email in ENCODED_EMAILS],
    *[(f"GET /api/v1/people/{email}/export HTTP/1.1", "GET /api/v1/people/[email]/export HTTP/1.1")
      for email in ENCODED_EMAILS],
    # Search query strings: only the parameter names are kept, whatever the values are.
    ("GET /api/v1/leads?q=Zephyrine+Quillfeather&limit=50 HTTP/1.1",
     "GET /api/v1/leads?q=[redacted]&limit=[redacted] HTTP/1.1"),
    ("GET /api/v1/leads?q=%2B1+%28512%29+555-0199 HTTP/1.1", "GET /api/v1/leads?q=[redacted] HTTP/1.1"),
    ("GET /search?Zephyrine%20Quillfeather HTTP/1.1", "GET /search?[redacted] HTTP/1.1"),
    ('HTTP Request: GET https://www.googleapis.com/customsearch/v1?key=AIza-1&q=%22Zephyrine+Q%22 "HTTP/1.1 200 OK"',
     'HTTP Request: GET https://www.googleapis.com/customsearch/v1?key=[redacted]&q=[redacted] "HTTP/1.1 200 OK"'),
    # Not personal data: left as they are.
    ("GET /api/v1/signals/3f2a9c1e-1234-4567-8901-123456789012 HTTP/1.1", None),
    ("client 192.168.100.200:54321 at 2026-11-22T05:23:08Z", None),
    ("wrote /var/log/upswing/1700000000.log, 12.5% done, a+b and/or? c", None),
])
def test_phones_emails_and_search_terms_are_masked_in_every_encoding(text: str, expected: str | None) -> None:
    assert mask_text(text) == (text if expected is None else expected)


def test_app_log_lines_mask_searches_and_every_encoding(capsys: pytest.CaptureFixture[str],
                                                        caplog: pytest.LogCaptureFixture) -> None:
    """A structlog event and a stdlib record (httpx's request line, whose URL argument is an ``httpx.URL``)
    through the logging as the app configures it."""
    import httpx

    from upswing.core.logging import get_logger

    configure_logging("INFO", json_output=True)
    get_logger("upswing.test.search").info(
        "lead.search", q=NAME, path=f"/api/v1/leads/{PHONE_DIGITS}", encoded="/api/v1/leads/%2B15125550199",
        url=f"https://search.example/find?name={NAME.replace(' ', '+')}&phone=%28512%29%20555-0199",
        note=f"asked about {ENCODED_EMAILS[1]} and +1 (512) 555-0199", lead_id="L-00042")
    with caplog.at_level(logging.INFO, logger="httpx"):
        configure_logging("INFO", json_output=True)  # the filter goes on the handlers there are now
        url = httpx.URL("https://www.googleapis.com/customsearch/v1", params={"key": "AIza-1", "q": NAME})
        logging.getLogger("httpx").info('HTTP Request: %s %s "%s %d %s"', "GET", url, "HTTP/1.1", 200, "OK")
    logged = capsys.readouterr().err + caplog.text
    assert "lead.search" in logged and "L-00042" in logged and "HTTP Request: GET" in logged
    for secret in ("Zephyrine", "Quillfeather", PHONE_DIGITS, "555-0199", "%2B1512", "zq", "AIza-1"):
        assert secret not in logged, secret
    assert "[phone]" in logged and "[email]" in logged and "customsearch/v1?key=[redacted]&q=[redacted]" in logged


@pytest.fixture
def uvicorn_loggers() -> Iterator[None]:
    """uvicorn's loggers put back as they were (a test applies uvicorn's logging configuration)."""
    names = ("uvicorn", "uvicorn.error", "uvicorn.access")
    saved = {name: (list(logging.getLogger(name).handlers), logging.getLogger(name).level,
                    logging.getLogger(name).propagate) for name in names}
    yield
    for name, (handlers, level, propagate) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


ACCESS_TARGETS = [
    "/api/v1/leads?q=Zephyrine+Quillfeather&limit=50",
    "/api/v1/leads?q=zq%40example.net",
    "/api/v1/leads?q=%2B1+%28512%29+555-0199",
    f"/api/v1/leads/{PHONE_DIGITS}",
    "/api/v1/leads/%2B15125550199/timeline",
    "/api/v1/leads/%28512%29%20555-0199",
    "/api/v1/people/zq%40example.net",
]


def test_the_servers_access_log_masks_paths_and_redacts_query_strings(capsys: pytest.CaptureFixture[str],
                                                                      uvicorn_loggers: None) -> None:
    """A real uvicorn server with the logging configuration ``upswing serve`` gives it, requests sent as raw
    bytes (so each encoding reaches the access log as a client wrote it)."""
    import uvicorn

    from upswing.core.logging import uvicorn_log_config

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
        await send({"type": "http.response.body", "body": b"ok"})

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=uvicorn_log_config(),
                                           lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(500):
            if server.started:
                break
            time.sleep(0.01)
        for target in ACCESS_TARGETS:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", target)
            assert connection.getresponse().read() == b"ok"
            connection.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    lines = [line for line in capsys.readouterr().out.splitlines() if '"GET /api/v1/' in line]
    assert len(lines) == len(ACCESS_TARGETS), lines
    logged = "\n".join(lines)
    for secret in ("Zephyrine", "Quillfeather", PHONE_DIGITS, "555-0199", "2B1512", "zq", "example.net"):
        assert secret not in logged, secret
    assert '"GET /api/v1/leads?q=[redacted]&limit=[redacted] HTTP/1.1" 200' in logged
    assert lines[1].count("?q=[redacted] HTTP/1.1") == 1 and lines[2].count("?q=[redacted] HTTP/1.1") == 1
    assert '"GET /api/v1/leads/[phone] HTTP/1.1" 200' in lines[3]
    assert '"GET /api/v1/leads/[phone]/timeline HTTP/1.1" 200' in lines[4]
    assert '"GET /api/v1/leads/[phone] HTTP/1.1" 200' in lines[5]
    assert '"GET /api/v1/people/[email] HTTP/1.1" 200' in lines[6]


@pytest.mark.parametrize("command", [["serve"], ["demo", "run"]])
def test_serve_and_demo_run_give_uvicorn_the_masking_configuration(
        command: list[str], cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], uvicorn_loggers: None) -> None:
    import logging.config

    import uvicorn

    from upswing.demo import cli as demo_cli

    given: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: given.update(kwargs))
    monkeypatch.setattr(demo_cli, "_load", lambda **kwargs: None)  # the demo data is not what this is about
    result = cli(*command, "--port", str(_free_port()))
    assert result.exit_code == 0, result.output
    logging.config.dictConfig(given["log_config"])  # what uvicorn does with it before it loads the app
    logging.getLogger("uvicorn.access").info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET",
                                             f"/api/v1/leads/{PHONE_DIGITS}?q=Zephyrine+Quillfeather", "1.1", 200)
    logging.getLogger("uvicorn.error").info("lookup for %s", "zq%40example.net")
    captured = capsys.readouterr()
    assert '"GET /api/v1/leads/[phone]?q=[redacted] HTTP/1.1" 200' in captured.out
    assert "lookup for [email]" in captured.err
    assert "Zephyrine" not in captured.out + captured.err and PHONE_DIGITS not in captured.out
