"""PII never reaches a log line: the structlog processor and the stdlib filter, on a real code path."""

from __future__ import annotations

import io
import logging

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
    ("GET /api/v1/leads?q=ann%40example.org HTTP/1.1", "GET /api/v1/leads?q=[email] HTTP/1.1"),
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
    assert line == '127.0.0.1:5000 - "GET /api/v1/leads?q=[email] HTTP/1.1" 200 OK'
