"""Linking during ingest on both databases: probabilistic links, namesakes, the review queue, known non-matches."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from factories import auth, make_lead, make_portfolio, make_user
from upswing.account.models import Role
from upswing.audit.models import AuditEntry
from upswing.audit.service import pseudonym
from upswing.observation.models import Observation
from upswing.pipeline import review
from upswing.pipeline.profiles import ProfileIngest
from upswing.resolution import service
from upswing.resolution.models import Match, NonMatch
from upswing.signal.models import Signal
from upswing.source.service import file_source

SEPT = datetime(2026, 9, 1, 6, tzinfo=UTC)
OCT = datetime(2026, 10, 1, 6, tzinfo=UTC)


def profile(first: str, last: str, *, urn: str, location: str = "Columbus, Ohio, United States",
            jobs: list[tuple[str, str, str, str | None]] | None = None, public_id: str | None = None,
            emails: list[str] | None = None, schools: list[tuple[str, int]] | None = None) -> dict[str, Any]:
    """A harvestapi item; jobs are (title, company, start "Mon YYYY", end "Mon YYYY" or None)."""

    def when(text: str | None) -> dict[str, Any]:
        if text is None:
            return {"text": "Present"}
        month, year = text.split()
        return {"month": month, "year": int(year), "text": text}

    item: dict[str, Any] = {
        "id": urn, "firstName": first, "lastName": last, "location": {"linkedinText": location},
        "experience": [{"position": t, "companyName": c, "startDate": when(s), "endDate": when(e)}
                       for t, c, s, e in (jobs or [])],
        "education": [{"title": school, "endDate": {"year": year, "text": str(year)}}
                      for school, year in (schools or [])],
        "emails": emails or [],
    }
    if public_id:
        item.update(publicIdentifier=public_id, linkedinUrl=f"https://www.linkedin.com/in/{public_id}")
    return item


def ingest(session: Session, items: list[dict[str, Any]], observed_at: datetime = SEPT) -> Any:
    run = ProfileIngest(session, file_source(session), observed_at=observed_at)
    report = run.ingest(enumerate(items, start=1))
    session.flush()
    return report


def matches(session: Session) -> list[Match]:
    return list(session.scalars(select(Match).order_by(Match.score.desc())))


def test_a_profile_without_public_id_or_email_links_to_the_right_lead(db_session: Session) -> None:
    portfolio = make_portfolio(db_session)
    right = make_lead(db_session, portfolio, first_name="Robert", last_name="Whitfield", city="Columbus",
                      state="OH", employer="KROGER CO.", email=None, emails=[])
    make_lead(db_session, portfolio, first_name="Robert", last_name="Whitfield", city="Phoenix", state="AZ",
              employer="Intel", email=None, emails=[])  # a namesake elsewhere
    make_lead(db_session, portfolio, first_name="Maria", last_name="Whitfield", city="Columbus", state="OH",
              employer="Kroger", email=None, emails=[])  # same family, same town, same employer
    item = profile("Bob", "Whitfield", urn="ACoAA-bob", jobs=[
        ("Cashier", "Kroger", "Jan 2021", "Aug 2026"), ("Shift Lead", "Target", "Aug 2026", None)])

    report = ingest(db_session, [item])

    assert (report.linked, report.unlinked, report.review, report.signals_created) == (1, 0, 0, 1)
    observation = db_session.scalars(select(Observation)).one()
    assert observation.lead_id == right.id and observation.subject_key == "urn:ACoAA-bob"
    match = db_session.scalars(select(Match)).one()
    assert (match.lead_id, match.outcome, match.method, match.decided_by) == (
        right.id, "linked", "probabilistic", "system")
    assert match.score >= 0.9
    assert match.agreed["first_name"].startswith("nickname")
    # Stored: how each field compared, never the values compared (names, cities, employers…).
    assert match.agreed["location"] == "same city" and match.agreed["employers"] == "agree"
    assert match.disagreed == {}
    assert db_session.scalars(select(Signal.lead_id)).one() == right.id


def test_a_namesake_in_another_city_with_another_employer_history_is_not_linked(db_session: Session) -> None:
    make_lead(db_session, first_name="Jordan", last_name="Castillo", city="Columbus", state="OH",
              employer="Nationwide", email=None, emails=[])
    namesake = profile("Jordan", "Castillo", urn="ACoAA-jc", location="Denver, Colorado, United States",
                       jobs=[("Barista", "Starbucks", "Jan 2022", None), ("Host", "Olive Garden", "Jan 2020",
                                                                          "Dec 2021")])
    report = ingest(db_session, [namesake])
    assert (report.linked, report.unlinked, report.review) == (0, 1, 0)
    assert matches(db_session) == []
    assert db_session.scalars(select(Observation.lead_id)).one() is None


def test_shared_email_goes_to_review_for_each_lead_never_auto_linked(db_session: Session) -> None:
    portfolio = make_portfolio(db_session)
    first = make_lead(db_session, portfolio, first_name="Kim", last_name="Nguyen", email="family@example.org")
    second = make_lead(db_session, portfolio, first_name="Lee", last_name="Nguyen", email="family@example.org")
    item = profile("Kim", "Nguyen", urn="ACoAA-kim", public_id="kim-nguyen-1", emails=["family@example.org"],
                   location="Austin, Texas, United States")
    report = ingest(db_session, [item])
    assert (report.linked, report.unlinked, report.review) == (0, 1, 1)
    rows = matches(db_session)
    assert {m.lead_id for m in rows} == {first.id, second.id}
    assert {(m.outcome, m.method) for m in rows} == {("review", "deterministic")}
    assert all("shared by 2 leads" in m.agreed["email"] for m in rows)
    assert rows[0].lead_id == first.id and rows[0].score > rows[1].score  # Kim's name agrees, Lee's does not
    assert "first_name" in rows[1].disagreed

    # The same export again adds no second review of the same pair.
    again = ingest(db_session, [item])
    assert (again.duplicates, again.review) == (1, 1)
    assert len(matches(db_session)) == 2


def test_approving_a_review_links_the_profile_and_creates_its_signals(app: Any, client: Any,
                                                                     db_session: Session) -> None:
    lead = make_lead(db_session, first_name="Tanya", last_name="Okafor", city="Columbus", state="OH",
                     employer=None, email=None, emails=[])
    manager = make_user(db_session, Role.MANAGER)
    sept = profile("Tanya", "Okafor", urn="ACoAA-to", public_id="tanya-o-77",
                   jobs=[("Cashier", "Target", "Mar 2021", None)])
    report = ingest(db_session, [sept])
    assert (report.linked, report.review, report.signals_created) == (0, 1, 0)
    match = db_session.scalars(select(Match)).one()
    assert (match.outcome, match.method) == ("review", "probabilistic")
    assert 0.6 <= match.score < 0.9
    assert set(match.agreed) == {"first_name", "last_name", "location"}
    db_session.commit()

    headers = auth(app, manager)
    queue = client.get("/api/v1/matches/review", headers=headers).json()
    assert queue["total"] == 1
    shown = queue["items"][0]
    assert (shown["id"], shown["lead_external_id"], shown["profile_name"]) == (
        str(match.id), lead.external_id, "Tanya Okafor")
    assert shown["profile_url"] == "https://www.linkedin.com/in/tanya-o-77"

    decided = client.post(f"/api/v1/matches/{match.id}/approve", headers=headers)
    assert decided.status_code == 200, decided.text
    assert decided.json()["match"]["outcome"] == "approved"
    assert decided.json()["observations_linked"] == 1
    db_session.expire_all()
    observation = db_session.scalars(select(Observation)).one()
    assert (observation.lead_id, observation.version) == (lead.id, 1)
    assert db_session.get(Match, match.id).decided_by == f"user:{manager.username}"  # type: ignore[union-attr]
    assert client.get("/api/v1/matches/review", headers=headers).json()["total"] == 0
    assert client.post(f"/api/v1/matches/{match.id}/approve", headers=headers).status_code == 409
    audit = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "match.approve")).one()
    assert audit.entity_id == str(match.id) and audit.actor == f"user:{manager.username}"

    # The approval sticks: the next snapshot of the same profile links by itself, and its new job is a signal.
    october = profile("Tanya", "Okafor", urn="ACoAA-to", public_id="tanya-o-77", jobs=[
        ("Cashier", "Target", "Mar 2021", "Sep 2026"), ("Pharmacy Technician", "CVS Health", "Sep 2026", None)])
    later = ingest(db_session, [october], OCT)
    assert (later.linked, later.review, later.signals_created) == (1, 0, 1)
    assert db_session.scalars(select(Signal.organization)).one() == "CVS Health"
    newest = db_session.scalars(select(Match).where(Match.outcome == "linked")).one()
    assert newest.agreed == {"subject": "this profile was linked to this lead before"}


def test_approve_creates_the_signals_the_ingest_would_have(db_session: Session) -> None:
    lead = make_lead(db_session, first_name="Ana", last_name="Reyes", city="Columbus", state="OH", employer=None,
                     email=None, emails=[])
    item = profile("Ana", "Reyes", urn="ACoAA-ar", jobs=[("Dental Assistant", "Bright Smiles", "Aug 2026", None)])
    assert ingest(db_session, [item]).review == 1
    match = db_session.scalars(select(Match)).one()
    decision = review.approve(db_session, match.id, actor="test", lookback_days=90)
    assert (decision.observations_linked, decision.signals_created) == (1, 1)
    signal = db_session.scalars(select(Signal)).one()
    assert (signal.lead_id, signal.type, signal.organization) == (lead.id, "new_employment", "Bright Smiles")


def test_rejecting_records_a_non_match_and_a_re_ingest_does_not_link_it(app: Any, client: Any,
                                                                          db_session: Session) -> None:
    lead = make_lead(db_session, first_name="Tanya", last_name="Okafor", city="Columbus", state="OH",
                     employer=None, email=None, emails=[])
    admin = make_user(db_session, Role.ADMIN)
    item = profile("Tanya", "Okafor", urn="ACoAA-other", public_id="tanya-okafor-2",
                   jobs=[("Nurse", "OhioHealth", "Mar 2019", None)])
    ingest(db_session, [item])
    match = db_session.scalars(select(Match)).one()
    db_session.commit()

    rejected = client.post(f"/api/v1/matches/{match.id}/reject", headers=auth(app, admin))
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["match"]["outcome"] == "rejected"
    db_session.expire_all()
    non_match = db_session.scalars(select(NonMatch)).one()
    assert (non_match.lead_id, non_match.subject_key, non_match.created_by) == (
        lead.id, "li:tanya-okafor-2", f"user:{admin.username}")
    assert db_session.scalars(select(AuditEntry.action).where(AuditEntry.action == "match.reject")).one()

    # A later snapshot of the same profile (new content) is not offered for that lead again.
    changed = profile("Tanya", "Okafor", urn="ACoAA-other", public_id="tanya-okafor-2",
                      jobs=[("Charge Nurse", "OhioHealth", "Sep 2026", None)])
    report = ingest(db_session, [changed], OCT)
    assert (report.linked, report.review, report.unlinked) == (0, 0, 1)
    assert db_session.scalar(select(func.count()).select_from(Match)) == 1
    assert db_session.scalar(select(func.count()).select_from(Observation).where(
        Observation.lead_id.is_not(None))) == 0


def test_a_known_non_match_blocks_even_a_deterministic_email_or_public_id_link(db_session: Session) -> None:
    lead = make_lead(db_session, first_name="Kim", last_name="Nguyen", email="kim.nguyen@example.org",
                     linkedin_public_id="kim-n")
    service.record_non_match(db_session, lead_id=lead.id, subject_key="li:kim-n-2", actor="user:someone")
    service.record_non_match(db_session, lead_id=lead.id, subject_key="li:kim-n", actor="user:someone")
    service.record_non_match(db_session, lead_id=lead.id, subject_key="li:kim-n", actor="user:someone")  # once
    by_email = profile("Kim", "Nguyen", urn="ACoAA-k2", public_id="kim-n-2", emails=["kim.nguyen@example.org"])
    by_public_id = profile("Kim", "Nguyen", urn="ACoAA-k1", public_id="kim-n")
    report = ingest(db_session, [by_email, by_public_id])
    assert (report.linked, report.unlinked, report.review) == (0, 2, 0)
    assert matches(db_session) == []
    assert db_session.scalar(select(func.count()).select_from(NonMatch)) == 2
    entries = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "resolution.non_match")).all()
    # The audit log keeps no PII: the subject key is stored as a keyed hash.
    assert [e.details["subject_key"] for e in entries] == [pseudonym("li:kim-n-2"), pseudonym("li:kim-n")]
    assert entries[0].details["reason"] == "wrong_person"


def test_a_unique_email_still_links_and_is_explained(db_session: Session) -> None:
    lead = make_lead(db_session, first_name="Kim", last_name="Nguyen", email="kim.nguyen@example.org")
    report = ingest(db_session, [profile("Kim", "Nguyen", urn="ACoAA-k3", emails=["Kim.Nguyen@example.org"])])
    assert report.linked == 1
    match = db_session.scalars(select(Match)).one()
    assert (match.lead_id, match.outcome, match.method, match.score) == (lead.id, "linked", "deterministic", 1.0)
    assert match.agreed == {"email": "exact"}  # the e-mail itself is not copied into the explanation


def test_a_review_that_a_later_key_resolves_becomes_linked(db_session: Session) -> None:
    lead = make_lead(db_session, first_name="Omar", last_name="Haddad", city="Columbus", state="OH",
                     employer=None, email=None, emails=[])
    item = profile("Omar", "Haddad", urn="ACoAA-oh", public_id="omar-haddad-9")
    assert ingest(db_session, [item]).review == 1
    lead.linkedin_public_id = "omar-haddad-9"  # the lead file learns the profile
    db_session.flush()
    report = ingest(db_session, [item])
    assert (report.linked, report.review) == (1, 0)
    match = db_session.scalars(select(Match)).one()
    assert (match.outcome, match.method, match.agreed) == ("linked", "deterministic",
                                                           {"linkedin": "same public id"})


def test_review_queue_and_decisions_refuse_what_they_cannot_do(app: Any, client: Any, db_session: Session) -> None:
    agent = make_user(db_session, Role.AGENT)
    manager = make_user(db_session, Role.MANAGER)
    db_session.commit()
    assert client.get("/api/v1/matches/review", headers=auth(app, agent)).status_code == 403
    missing = client.post("/api/v1/matches/00000000-0000-0000-0000-000000000000/approve",
                          headers=auth(app, manager))
    assert missing.status_code == 404


def test_ingest_report_over_the_api_counts_reviews(app: Any, client: Any, db_session: Session) -> None:
    make_lead(db_session, first_name="Tanya", last_name="Okafor", city="Columbus", state="OH", employer=None,
              email=None, emails=[])
    manager = make_user(db_session, Role.MANAGER)
    db_session.commit()
    body = json.dumps([profile("Tanya", "Okafor", urn="ACoAA-api", public_id="t-okafor")]).encode()
    report = client.post("/api/v1/ingest/apify", headers=auth(app, manager),
                         files={"file": ("export.json", io.BytesIO(body), "application/json")}).json()
    assert (report["linked"], report["unlinked"], report["review"]) == (0, 1, 1)


def test_a_wrong_person_dismissal_keeps_the_profile_off_that_lead(db_session: Session,
                                                                 deliver_events: Callable[[], Any]) -> None:
    from upswing.signal import service as signals
    from upswing.signal.models import DismissReason

    lead = make_lead(db_session, first_name="Ana", last_name="Reyes", email="ana.reyes@example.org")
    manager = make_user(db_session, Role.MANAGER)
    item = profile("Ana", "Reyes", urn="ACoAA-ar2", public_id="ana-reyes-3", emails=["ana.reyes@example.org"],
                   jobs=[("Dental Assistant", "Bright Smiles", "Aug 2026", None)])
    assert ingest(db_session, [item]).linked == 1
    signal = db_session.scalars(select(Signal)).one()
    signals.dismiss(db_session, signal.id, DismissReason.WRONG_PERSON, user=manager)
    deliver_events()
    assert db_session.scalars(select(NonMatch.subject_key)).one() == "li:ana-reyes-3"

    later = profile("Ana", "Reyes", urn="ACoAA-ar2", public_id="ana-reyes-3", emails=["ana.reyes@example.org"],
                    jobs=[("Office Manager", "Bright Smiles", "Sep 2026", None)])
    report = ingest(db_session, [later], OCT)
    assert (report.linked, report.review, report.unlinked) == (0, 0, 1)
    newest = db_session.scalars(select(Observation).order_by(Observation.observed_at.desc())).first()
    assert newest is not None and newest.lead_id is None and lead.id is not None


def test_a_lead_merged_into_another_is_never_a_candidate(db_session: Session) -> None:
    survivor = make_lead(db_session, first_name="Robert", last_name="Whitfield", city="Columbus", state="OH",
                         employer="Kroger", email=None, emails=[])
    make_lead(db_session, first_name="Robert", last_name="Whitfield", city="Columbus", state="OH",
              employer="Kroger", email="rw@example.org", linkedin_public_id="rob-w", merged_into_id=survivor.id)
    by_key = profile("Robert", "Whitfield", urn="ACoAA-m1", public_id="rob-w", emails=["rw@example.org"],
                     jobs=[("Clerk", "Kroger", "Jan 2020", None)])
    report = ingest(db_session, [by_key])
    # Neither the merged lead's public id nor its e-mail links; the survivor is found by the scored path.
    assert (report.linked, report.review) == (1, 0)
    match = db_session.scalars(select(Match)).one()
    assert (match.lead_id, match.method) == (survivor.id, "probabilistic")


def test_an_address_of_one_lead_wins_over_an_address_several_share(db_session: Session) -> None:
    portfolio = make_portfolio(db_session)
    own = make_lead(db_session, portfolio, first_name="Kim", last_name="Nguyen", email="kim@example.org")
    make_lead(db_session, portfolio, first_name="Lee", last_name="Nguyen", email="family@example.org")
    make_lead(db_session, portfolio, first_name="Kim", last_name="Nguyen", email="family@example.org")
    item = profile("Kim", "Nguyen", urn="ACoAA-k4", emails=["family@example.org", "kim@example.org"])
    report = ingest(db_session, [item])
    assert (report.linked, report.review) == (1, 0)
    assert db_session.scalars(select(Match.lead_id)).one() == own.id


def test_a_lead_whose_profile_is_known_is_not_given_a_second_one(db_session: Session) -> None:
    lead = make_lead(db_session, first_name="Andrew", last_name="Lee", city="Columbus", state="OH",
                     employer="Panera Bread", email="andrew.lee@example.org")
    own = profile("Andrew", "Lee", urn="ACoAA-al1", public_id="andrew-lee-1", emails=["andrew.lee@example.org"],
                  jobs=[("Cashier", "Panera Bread", "Jan 2022", None)])
    assert ingest(db_session, [own]).linked == 1
    # Same name, same city, same employer, another profile: without the known profile it would link (0.97).
    other = profile("Andre", "Lee", urn="ACoAA-al2", public_id="andre-lee-2",
                    jobs=[("Baker", "Panera Bread", "Mar 2021", None)])
    report = ingest(db_session, [other])
    assert (report.linked, report.unlinked) == (0, 1)
    assert db_session.scalars(select(Observation.lead_id).where(
        Observation.subject_key == "li:andre-lee-2")).one() is None
    assert db_session.scalars(select(Match.lead_id)).all() == [lead.id]  # only the e-mail link
