"""Direct identifiers are sealed wherever they sit in stored observations, on both databases: no e-mail address or
phone number in clear in ``raw`` or ``normalized``, no copies in match explanations; a data-subject request still
finds the observation and its export shows the person their own values; observations stored before are sealed by
the ``privacy.seal`` task."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from factories import make_lead
from privacy.helpers import profile
from upswing.core.crypto import get_key_ring
from upswing.observation.models import Observation
from upswing.observation.text import TextItem
from upswing.pipeline.profiles import ProfileIngest
from upswing.pipeline.texts import ingest_texts
from upswing.privacy import sealing, service
from upswing.privacy.models import RequestType
from upswing.privacy.service import Subject
from upswing.resolution.models import Match
from upswing.source.service import file_source

OCT = datetime(2026, 10, 1, 6, tzinfo=UTC)
EMAIL = "dana.reyes@example.org"
PHONE = "+1 (512) 555-0147"


def _clear_text(observation: Observation) -> str:
    return f"{observation.raw} {observation.normalized}"


def test_profiles_and_texts_are_stored_with_identifiers_sealed(db_session: Session) -> None:
    make_lead(db_session, first_name="Dana", last_name="Reyes", email=EMAIL, emails=[EMAIL])
    item = profile("dana-r", "Dana", "Reyes", [("Cashier", "Acme", "Jan 2026")], [EMAIL])
    item["about"] = f"Reach me at {EMAIL} or call."
    item["contactInfo"] = {"phoneNumbers": [PHONE]}
    ProfileIngest(db_session, file_source(db_session), observed_at=OCT).ingest([(1, item)])
    ingest_texts(db_session, [TextItem(text=f"New job! Write to {EMAIL}", raw={"text": f"New job! {EMAIL}",
                                                                               "phone": PHONE},
                                       author_public_id="someone-else")], source_slug="posts")

    ring = get_key_ring()
    for observation in db_session.scalars(select(Observation)):
        text = _clear_text(observation)
        assert EMAIL not in text and "555-0147" not in text and "5125550147" not in text, text
        assert sealing.email_index(ring, EMAIL) in (observation.identifier_index or [])
    profile_row = db_session.scalars(select(Observation).where(Observation.kind == "profile")).one()
    revealed = sealing.reveal_identifiers(profile_row.raw, ring)
    assert revealed["about"] == f"Reach me at {EMAIL} or call." and revealed["contactInfo"]["phoneNumbers"] == [PHONE]
    # The link decision says the e-mail agreed, not which e-mail.
    for match in db_session.scalars(select(Match)):
        assert EMAIL not in str(match.agreed) and EMAIL not in str(match.disagreed)


def test_a_subject_request_finds_sealed_observations_and_exports_their_values(db_session: Session) -> None:
    ingest_texts(db_session, [TextItem(text=f"Congrats to our new hire! Contact {EMAIL}",
                                       raw={"text": f"Contact {EMAIL}"})], source_slug="posts")
    request = service.create_request(db_session, type_=RequestType.ACCESS, subject=Subject(email=EMAIL),
                                     actor="test")
    export = service.export_request(db_session, request.id, actor="test")
    observations = export.tables.get("observations", [])
    assert len(observations) == 1  # found by the blind index kept with it
    assert EMAIL in str(observations[0]["raw"]) and "enc:v1:" not in str(observations[0]["raw"])
    assert "identifier_index" not in observations[0]  # our look-up hashes are not part of the export


def test_observations_stored_before_sealing_are_sealed_by_the_task(db_session: Session) -> None:
    legacy = Observation(source_id=file_source(db_session).id, lead_id=None, kind="text",
                         raw={"text": f"mail {EMAIL}", "mobile": PHONE}, normalized={"text": f"mail {EMAIL}"},
                         content_hash=uuid.uuid4().hex * 2, observed_at=OCT, last_observed_at=OCT)
    db_session.add(legacy)
    db_session.flush()
    assert legacy.identifier_index is None

    assert service.seal_stored_observations(db_session) >= 1
    db_session.refresh(legacy)
    assert EMAIL not in _clear_text(legacy) and "555-0147" not in _clear_text(legacy)
    assert legacy.identifier_index and service.seal_stored_observations(db_session) == 0
