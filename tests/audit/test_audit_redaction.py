"""The audit log never holds personal data: identifiers become keyed hashes, e-mails and phones in notes are
masked, ids and timestamps stay as they are."""

from __future__ import annotations

from sqlalchemy.orm import Session

from upswing.audit.service import pseudonym, record, redact_details, verify_chain


def test_identifier_keys_are_pseudonymized_everywhere_in_the_details() -> None:
    details = redact_details({"subject_key": "li:jo-q", "changes": {"email": "jo@example.org",
                                                                      "phones": ["+15125550100", "+15125550101"]},
                              "lead_id": "5e0a8a2c-0d3f-4c57-9a52-2f7e3b1c6d11", "score": 0.93})
    assert details == {"subject_key": pseudonym("li:jo-q"),
                       "changes": {"email": pseudonym("jo@example.org"),
                                   "phones": [pseudonym("+15125550100"), pseudonym("+15125550101")]},
                       "lead_id": "5e0a8a2c-0d3f-4c57-9a52-2f7e3b1c6d11", "score": 0.93}
    assert pseudonym("li:jo-q").startswith("hmac:") and "jo-q" not in pseudonym("li:jo-q")
    assert pseudonym("li:jo-q") != pseudonym("li:jo-r")


def test_free_text_keeps_its_sense_but_not_contact_details() -> None:
    details = redact_details({
        "note": "called (512) 555-0199, then +1 512 555 0100; wrote to Jo.Q@example.org on 2026-11-01 10:00 — "
                "promised $1,250 by 2026-12-01",
        "file": "export-2026-11-01.csv", "count": 1234567890, "external_id": "0012345678",
        "at": "2026-11-01T10:00:00+00:00"})
    assert details["note"] == ("called [phone], then [phone]; wrote to [email] on 2026-11-01 10:00 — "
                               "promised $1,250 by 2026-12-01")
    assert (details["file"], details["count"], details["external_id"], details["at"]) == (
        "export-2026-11-01.csv", 1234567890, "0012345678", "2026-11-01T10:00:00+00:00")
    assert redact_details({"reason": "mail jo@example.org"}) == {"reason": "mail [email]"}


def test_record_stores_the_redacted_details_and_the_chain_covers_them(db_session: Session) -> None:
    entry = record(db_session, actor="user:ann", action="resolution.non_match", entity_type="lead",
                   entity_id="x", details={"subject_key": "email:jo@example.org", "reason": "wrong_person"})
    assert entry.details == {"subject_key": pseudonym("email:jo@example.org"), "reason": "wrong_person"}
    assert verify_chain(db_session) is None
