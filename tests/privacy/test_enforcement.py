"""The privacy mode is enforced on every write: profile ingest and lead import store only what the mode keeps,
strict mode refuses a source without a legal basis, and tombstones keep erased people out."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from factories import make_lead
from privacy.helpers import profile
from upswing.core.crypto import get_key_ring
from upswing.core.errors import PermissionDeniedError
from upswing.lead import service as leads
from upswing.lead.models import Lead
from upswing.observation.models import Observation
from upswing.pipeline.profiles import ProfileIngest
from upswing.privacy import sealing, service
from upswing.privacy.models import RequestType
from upswing.settings import get_settings
from upswing.source.service import file_source, get_or_create_source

OCT = datetime(2026, 10, 1, 6, tzinfo=UTC)


@pytest.fixture
def strict(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("UPSWING_PRIVACY_MODE", "gdpr_strict")
    get_settings.cache_clear()
    yield
    monkeypatch.delenv("UPSWING_PRIVACY_MODE")
    get_settings.cache_clear()


def stored(session: Session, public_id: str) -> Observation:
    return session.scalars(select(Observation).where(Observation.subject_key == f"li:{public_id}")).one()


def test_standard_mode_keeps_the_raw_payload_but_never_the_photo(db_session: Session) -> None:
    make_lead(db_session, linkedin_public_id="std-mode", linkedin_url="https://www.linkedin.com/in/std-mode")
    run = ProfileIngest(db_session, file_source(db_session), observed_at=OCT)
    run.ingest([(1, profile("std-mode", "Sam", "Standard", [("Clerk", "Acme", "Jan 2026")], ["sam@example.org"]))])
    observation = stored(db_session, "std-mode")
    assert observation.raw["publicIdentifier"] == "std-mode" and "photo" not in observation.raw
    # The e-mail is kept sealed (key-ring ciphertext), found again through its blind index.
    [sealed] = observation.normalized["emails"]
    assert sealed.startswith("enc:v1:") and "sam@example.org" not in str(observation.raw)
    assert get_key_ring().decrypt(sealed, context=sealing.CONTEXT) == "sam@example.org"
    assert observation.identifier_index == [sealing.email_index(get_key_ring(), "sam@example.org")]


@pytest.mark.usefixtures("strict")
def test_gdpr_strict_stores_no_raw_payload_and_no_scraped_email(db_session: Session) -> None:
    lead = make_lead(db_session, linkedin_public_id="strict-mode", linkedin_url="https://www.linkedin.com/in/strict-mode")
    run = ProfileIngest(db_session, file_source(db_session), observed_at=OCT)
    report = run.ingest([(1, profile("strict-mode", "Sue", "Strict", [("Clerk", "Acme", "Jan 2026")],
                                     ["sue@example.org"]))])
    assert report.linked == 1
    observation = stored(db_session, "strict-mode")
    assert observation.raw == {} and "emails" not in observation.normalized
    assert observation.lead_id == lead.id and observation.normalized["first_name"] == "Sue"


@pytest.mark.usefixtures("strict")
def test_gdpr_strict_refuses_a_source_without_a_legal_basis(db_session: Session) -> None:
    scraper = get_or_create_source(db_session, "scraper", connector="file_replay", name="Scraper")
    with pytest.raises(PermissionDeniedError, match="no recorded legal basis"):
        ProfileIngest(db_session, scraper)
    scraper.legal_basis = "Art. 6(1)(f), assessment on file"
    ProfileIngest(db_session, scraper)  # now it may collect


def _import(session: Session, external_id: str, **extra: str) -> Any:
    row = {"external_id": external_id, "first_name": "Bea", "last_name": "Born", "birth_date": "1984-05-06",
           **extra}
    return leads.import_leads(session, [row], actor="test", portfolio_name="births")


def _birth_date(session: Session, external_id: str) -> object:
    return session.scalars(select(Lead.birth_date).where(Lead.external_id == external_id)).one()


def test_birth_dates_are_kept_in_standard_mode(db_session: Session) -> None:
    _import(db_session, "B-1")
    assert str(_birth_date(db_session, "B-1")) == "1984-05-06"


@pytest.mark.usefixtures("strict")
def test_gdpr_strict_never_stores_a_birth_date(db_session: Session) -> None:
    assert _import(db_session, "B-2").created == 1
    assert _birth_date(db_session, "B-2") is None


def test_name_and_birth_date_tombstone_keeps_an_erased_person_out(db_session: Session) -> None:
    _import(db_session, "B-3", email="bea@example.org")
    request = service.create_request(db_session, type_=RequestType.ERASURE,
                                     subject=service.Subject(email="bea@example.org"), actor="test")
    service.erase(db_session, request.id, actor="test")
    again = _import(db_session, "B-4", email="another.address@example.org")  # same person, new address
    assert (again.created, again.suppressed) == (0, 1)
