"""Lead PII at rest: what the database holds is ciphertext, the application reads plaintext, look-ups use blind
indexes (on SQLite and PostgreSQL, through the ORM, the bulk import and its COPY path)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from factories import make_lead, make_portfolio, make_user
from upswing.account.models import Role
from upswing.core.crypto import (
    PREFIX,
    DecryptionError,
    EncryptedJSON,
    EncryptedText,
    KeyRing,
    get_key_ring,
    new_key_spec,
)
from upswing.lead import service as leads
from upswing.lead.models import Lead
from upswing.lead.pii import blind_indexes, email_index, phone_index
from upswing.lead.queries import has_email, has_phone
from upswing.lead.schemas import LeadFilters
from upswing.observation.snapshot import ProfileSnapshot
from upswing.resolution.models import MatchOutcome
from upswing.resolution.service import resolve

EMAIL, PHONE, ADDRESS = "ada.lovelace@example.org", "+14103598819", "12 Analytical Engine Way Apt 3"
PII_COLUMNS = ("email", "emails", "phone", "phones", "address", "birth_date")


def _ring(*kids: str) -> KeyRing:
    return KeyRing(keys={kid: os.urandom(32) for kid in kids}, active_id=kids[0], index_key=os.urandom(32))


def _raw_row(session: Session, lead_id: Any) -> dict[str, Any]:
    """The lead's row as the database stores it (plain SQL: no column types involved)."""
    key = lead_id.hex if session.get_bind().dialect.name == "sqlite" else lead_id
    row = session.execute(text("SELECT * FROM leads WHERE id = :id"), {"id": key}).mappings().one()
    return dict(row)


def _row_text(session: Session, lead_id: Any) -> str:
    """Every byte of the row as text: on PostgreSQL the row's own text form, on SQLite each column's."""
    if session.get_bind().dialect.name == "postgresql":
        return str(session.execute(text("SELECT leads::text FROM leads WHERE id = :id"), {"id": lead_id}).scalar())
    return " ".join(str(value) for value in _raw_row(session, lead_id).values())


# --------------------------------------------------------------------------------------------------
# Key ring
# --------------------------------------------------------------------------------------------------


def test_ciphertext_names_its_key_and_opens_only_in_its_context() -> None:
    ring = _ring("k2")
    token = ring.encrypt(EMAIL, context="leads.email")
    assert token.startswith(f"{PREFIX}k2:") and EMAIL not in token
    assert ring.decrypt(token, context="leads.email") == EMAIL
    assert ring.encrypt(EMAIL, context="leads.email") != token  # a fresh nonce each time
    with pytest.raises(DecryptionError, match="does not verify"):
        ring.decrypt(token, context="leads.phone")  # moved to another column
    tampered = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    with pytest.raises(DecryptionError):
        ring.decrypt(tampered, context="leads.email")
    with pytest.raises(DecryptionError, match="unknown encryption key id 'k2'"):
        _ring("k3").decrypt(token, context="leads.email")


def test_old_keys_still_read_and_reencrypt_moves_values_to_the_active_key() -> None:
    old = _ring("k1")
    token = old.encrypt("secret", context="c")
    both = KeyRing(keys={"k2": os.urandom(32), "k1": old.keys["k1"]}, active_id="k2", index_key=old.index_key)
    assert both.decrypt(token, context="c") == "secret"
    moved = both.reencrypt(token, context="c")
    assert both.key_id_of(moved) == "k2" and both.decrypt(moved, context="c") == "secret"
    assert both.reencrypt(moved, context="c") is moved


def test_blind_index_is_keyed_normalized_and_kind_specific() -> None:
    ring = _ring("k1")
    standard = hmac.new(ring.index_key, b"email\0ada@example.org", hashlib.sha256).hexdigest()
    assert ring.blind_index("ada@example.org", kind="email") == standard  # plain HMAC-SHA256
    long_key = KeyRing(keys=ring.keys, active_id="k1", index_key=b"x" * 100)
    assert long_key.blind_index("a", kind="k") == hmac.new(b"x" * 100, b"k\0a", hashlib.sha256).hexdigest()
    assert ring.blind_index(" Ada@Example.org ", kind="email") == ring.blind_index("ada@example.org", kind="email")
    assert ring.blind_index("ada@example.org", kind="email") != ring.blind_index("ada@example.org", kind="phone")
    assert ring.blind_index("ada@example.org", kind="email") != _ring("k1").blind_index("ada@example.org",
                                                                                         kind="email")


def test_key_specs_from_settings_are_validated() -> None:
    from upswing.settings import Settings

    spec = new_key_spec("k9")
    kid, _, encoded = spec.partition(":")
    assert kid == "k9" and len(base64.b64decode(encoded)) == 32
    ring = KeyRing.from_settings(Settings(encryption_keys=f"{spec},{new_key_spec('k8')}"))  # type: ignore[arg-type]
    assert (ring.active_id, list(ring.keys), ring.derived) == ("k9", ["k9", "k8"], False)
    for bad in ("k1:c2hvcnQ=", "nokey", f"{spec},{spec}", " , "):
        with pytest.raises(ValueError, match="UPSWING_ENCRYPTION_KEYS"):
            KeyRing.from_settings(Settings(encryption_keys=bad))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="key id"):
        new_key_spec("a:b")


def test_sql_comparisons_on_encrypted_columns_are_refused() -> None:
    with pytest.raises(TypeError, match="blind index"):
        _ = Lead.email == EMAIL
    with pytest.raises(TypeError, match="blind index"):
        Lead.phone.in_([PHONE])
    with pytest.raises(TypeError, match="blind index"):
        Lead.email.like("%ada%")
    assert "IS NULL" in str(Lead.email.is_(None)) and "IS NULL" in str(Lead.address == None)  # noqa: E711


def test_empty_lists_are_stored_without_encryption_and_values_round_trip() -> None:
    kind = EncryptedJSON("leads.emails")
    ring = _ring("k1")
    assert kind.seal([], ring) == "[]" and kind.open("[]", ring) == []
    sealed = kind.seal([EMAIL], ring)
    assert sealed is not None and sealed.startswith(PREFIX) and kind.open(sealed, ring) == [EMAIL]
    assert EncryptedText("leads.email").open("legacy@example.org", ring) == "legacy@example.org"


# --------------------------------------------------------------------------------------------------
# The database holds ciphertexts
# --------------------------------------------------------------------------------------------------


def test_raw_database_rows_hold_no_plaintext_pii(db_session: Session) -> None:
    lead = make_lead(db_session, email=EMAIL, emails=[EMAIL, "ada@work.example.com"], phone=PHONE,
                     phones=[{"number": PHONE, "type": "cell"}], address=ADDRESS, birth_date=date(1985, 12, 10))
    db_session.commit()
    raw = _raw_row(db_session, lead.id)
    for column in PII_COLUMNS:
        assert str(raw[column]).startswith(f"{PREFIX}{get_key_ring().active_id}:"), column
    row_text = _row_text(db_session, lead.id)
    for secret in (EMAIL, "ada@work.example.com", PHONE, "4103598819", ADDRESS, "Analytical", "1985-12-10"):
        assert secret not in row_text
    assert raw["email_bidx"] == email_index(EMAIL) and raw["phone_bidx"] == phone_index(PHONE)

    db_session.expire_all()
    again = db_session.get(Lead, lead.id)
    assert again is not None
    assert (again.email, again.emails, again.phone, again.address, again.birth_date) == (
        EMAIL, [EMAIL, "ada@work.example.com"], PHONE, ADDRESS, date(1985, 12, 10))
    assert again.contact_bidx == sorted({email_index(EMAIL), email_index("ada@work.example.com"),
                                         phone_index(PHONE)})


def test_orm_updates_keep_the_blind_indexes_in_step(db_session: Session) -> None:
    lead = make_lead(db_session, email=EMAIL, emails=[EMAIL])
    lead.email, lead.emails = "new@example.org", ["new@example.org", EMAIL]
    db_session.flush()
    assert lead.email_bidx == email_index("new@example.org")
    assert email_index(EMAIL) in lead.contact_bidx
    lead.email, lead.emails = None, []  # erased
    db_session.flush()
    db_session.expire_all()
    raw = _raw_row(db_session, lead.id)
    assert raw["email"] is None and raw["email_bidx"] is None
    assert raw["contact_bidx"] in ([], "[]")


def test_contact_look_ups_find_any_of_a_leads_emails_and_phones(db_session: Session) -> None:
    portfolio = make_portfolio(db_session)
    lead = make_lead(db_session, portfolio, email=EMAIL, emails=[EMAIL, "old@example.org"], phone=PHONE,
                     phones=[{"number": PHONE, "type": "cell"}, {"number": "+12025550143", "type": "work"}])
    make_lead(db_session, portfolio)
    found = set(db_session.scalars(select(Lead.id).where(Lead.portfolio_id == portfolio.id,
                                                         has_email(db_session, "OLD@example.org"))))
    assert found == {lead.id}
    by_phone = set(db_session.scalars(select(Lead.id).where(Lead.portfolio_id == portfolio.id,
                                                            has_phone(db_session, "(202) 555-0143"))))
    assert by_phone == {lead.id}
    assert not list(db_session.scalars(select(Lead.id).where(has_email(db_session, "nobody@example.org"))))


def test_lead_search_matches_exact_emails_and_phones_not_parts(db_session: Session) -> None:
    portfolio = make_portfolio(db_session)
    lead = make_lead(db_session, portfolio, first_name="Grace", last_name="Hopper", email="grace@navy.example.mil",
                     emails=["grace@navy.example.mil"], phone=PHONE, phones=[{"number": PHONE, "type": "cell"}])
    admin = make_user(db_session, Role.ADMIN)

    def search(q: str) -> list[Any]:
        found, _ = leads.search_leads(db_session, LeadFilters(q=q, portfolio=portfolio.name), user=admin)
        return [item.id for item in found]

    assert search("Grace@Navy.example.mil") == [lead.id]
    assert search("410-359-8819") == [lead.id]
    assert search("hopper") == [lead.id]  # names still match in part
    assert search("navy.example") == []  # a part of an e-mail no longer does (encrypted by design)


def test_linker_finds_a_lead_by_email_through_the_blind_index(db_session: Session) -> None:
    lead = make_lead(db_session, first_name="Katherine", last_name="Johnson", email="kj@nasa.example.gov",
                     emails=["kj@nasa.example.gov"], state="VA")
    snapshot = ProfileSnapshot(actor="harvestapi", first_name="Kathy", last_name="Goble",
                               emails=("KJ@nasa.example.gov",))
    results = resolve(db_session, {"email:kj": snapshot})
    assert results["email:kj"].outcome is MatchOutcome.LINKED and results["email:kj"].lead_id == lead.id


# --------------------------------------------------------------------------------------------------
# Import: bulk inserts, re-import, COPY updates
# --------------------------------------------------------------------------------------------------


def _csv(rows: int, *, domain: str = "example.org") -> bytes:
    lines = ["external_id,first_name,last_name,email,phone,phone_type,address,state,dob"]
    for n in range(rows):
        lines.append(f"P-{n:04d},Ada,Byron{n},ada{n}@{domain},410359{n:04d},cell,{n} Analytical Engine Way,MD,"
                     f"1985-12-{(n % 28) + 1:02d}")
    return ("\n".join(lines) + "\n").encode()


def test_import_encrypts_and_reimport_changes_nothing(db_session: Session) -> None:
    # 250 rows: on PostgreSQL the inserts and the changed rows' updates both go through COPY.
    report = leads.import_leads(db_session, _csv(250), filename="book.csv", portfolio_name="pii", actor="test")
    assert report.created == 250
    lead = db_session.scalars(select(Lead).where(Lead.external_id == "P-0007")).one()
    assert (lead.email, lead.phone, lead.address, lead.birth_date) == (
        "ada7@example.org", "+14103590007", "7 Analytical Engine Way", date(1985, 12, 8))
    assert lead.phones == [{"number": "+14103590007", "type": "cell"}]
    raw = _raw_row(db_session, lead.id)
    assert all(str(raw[column]).startswith(PREFIX) for column in PII_COLUMNS)
    assert "ada7@example.org" not in _row_text(db_session, lead.id)
    assert raw["email_bidx"] == email_index("ada7@example.org")

    again = leads.import_leads(db_session, _csv(250), filename="book.csv", portfolio_name="pii", actor="test")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 250)
    assert _raw_row(db_session, lead.id)["email"] == raw["email"]  # not even re-encrypted

    moved = leads.import_leads(db_session, _csv(250, domain="example.net"), filename="book.csv",
                               portfolio_name="pii", actor="test")
    assert moved.updated == 250
    db_session.expire_all()
    lead = db_session.scalars(select(Lead).where(Lead.external_id == "P-0007")).one()
    assert lead.email == "ada7@example.net" and lead.emails == ["ada7@example.net", "ada7@example.org"]
    assert lead.email_bidx == email_index("ada7@example.net")
    assert lead.contact_bidx == blind_indexes(lead.email, lead.emails, lead.phone, lead.phones)["contact_bidx"]
    raw = _raw_row(db_session, lead.id)
    assert str(raw["emails"]).startswith(PREFIX) and "ada7@example.net" not in _row_text(db_session, lead.id)


def test_birth_dates_are_validated_on_import(db_session: Session) -> None:
    rows = [{"external_id": "B-1", "first_name": "A", "last_name": "B", "date_of_birth": "02/30/1990"},
            {"external_id": "B-2", "first_name": "A", "last_name": "B", "date_of_birth": "2999-01-01"},
            {"external_id": "B-3", "first_name": "A", "last_name": "B", "date_of_birth": "1899-12-31"},
            {"external_id": "B-4", "first_name": "A", "last_name": "B", "date_of_birth": "7/4/1976"}]
    report = leads.import_leads(db_session, rows, portfolio_name="dob", actor="test", skip_invalid=True)
    assert report.created == 1
    assert {(e.row, e.message) for e in report.errors} == {
        (1, "not a date (YYYY-MM-DD or MM/DD/YYYY)"), (2, "is in the future"), (3, "is before 1900")}
    lead = db_session.scalars(select(Lead).where(Lead.external_id == "B-4")).one()
    assert lead.birth_date == date(1976, 7, 4)
