"""Profile ingest end to end on both databases: store, link, diff, signal — once, and nothing half-written."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from factories import make_lead, make_portfolio
from upswing.core.errors import ValidationFailedError
from upswing.observation import service
from upswing.observation.models import Observation
from upswing.observation.reader import read_items
from upswing.pipeline.profiles import ProfileIngest
from upswing.resolution.models import Match
from upswing.signal.models import Signal
from upswing.source.service import file_source

SEPT = datetime(2026, 9, 1, 6, tzinfo=UTC)
OCT = datetime(2026, 10, 1, 6, tzinfo=UTC)


def harvest_item(public_id: str, *, jobs: list[tuple[str, str, str, str | None]], **extra: Any) -> dict[str, Any]:
    """A harvestapi profile item; jobs are (title, company, start "Mon YYYY", end "Mon YYYY" or None)."""

    def when(text: str | None) -> dict[str, Any]:
        if text is None:
            return {"text": "Present"}
        month, year = text.split()
        return {"month": month, "year": int(year), "text": text}

    return {
        "id": f"ACoAA{public_id}", "publicIdentifier": public_id,
        "linkedinUrl": f"https://www.linkedin.com/in/{public_id}", "firstName": "Dana", "lastName": "Whitfield",
        "headline": "Working hard", "connectionsCount": 210, "followerCount": 230,
        "photo": "https://media.example/p1.jpg", "openToWork": False,
        "location": {"linkedinText": "Columbus, Ohio, United States"},
        "experience": [{"position": t, "companyName": c, "startDate": when(s), "endDate": when(e)}
                       for t, c, s, e in jobs],
        "certifications": [], "honorsAndAwards": [], "education": [],
        **extra,
    }


def ingest(session: Session, items: list[dict[str, Any]], observed_at: datetime | None = None,
           **options: Any) -> Any:
    run = ProfileIngest(session, file_source(session), observed_at=observed_at, **options)
    report = run.ingest(enumerate(items, start=1))
    run.record_audit(actor="test", file=None)
    session.flush()
    return report


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_new_job_detected_once_across_re_ingest_and_noise(db_session: Session) -> None:
    lead = make_lead(db_session, linkedin_url="https://www.linkedin.com/in/dana-w",
                     linkedin_public_id="dana-w")
    before = harvest_item("dana-w", jobs=[("Barista", "Bean There", "Jan 2024", None)])
    after = harvest_item("dana-w", jobs=[("Barista", "Bean There", "Jan 2024", "Sep 2026"),
                                         ("Junior Accountant", "Keller & Price LLP", "Sep 2026", None)])

    first = ingest(db_session, [before], SEPT)
    assert (first.observations_created, first.linked, first.signals_created) == (1, 1, 0)  # old job: nothing
    second = ingest(db_session, [after], OCT)
    assert second.signals_created == 1

    signal = db_session.scalars(select(Signal)).one()
    assert (signal.lead_id, signal.type, signal.title, signal.organization) == (
        lead.id, "new_employment", "Junior Accountant", "Keller & Price LLP")
    assert signal.evidence_url == "https://www.linkedin.com/in/dana-w"
    assert "Junior Accountant" in (signal.evidence_snippet or "")
    observation_ids = {str(i) for i in db_session.scalars(select(Observation.id))}
    assert set(signal.observation_ids) <= observation_ids and len(signal.observation_ids) == 1

    # The same export again, and a later export that differs only by noise, change nothing.
    noisy = copy.deepcopy(after)
    noisy.update(connectionsCount=999, followerCount=1234, photo="https://media.example/p2.jpg",
                 headline="  working   hard ")
    noisy["headline"] = "Working hard"
    noisy["experience"].reverse()
    again = ingest(db_session, [after], OCT)
    assert (again.observations_created, again.duplicates, again.signals_created) == (0, 1, 0)
    later = ingest(db_session, [noisy], datetime(2026, 11, 1, tzinfo=UTC))
    assert later.signals_created == 0 and later.observations_created == 0
    assert count(db_session, Signal) == 1
    versions = db_session.scalars(select(Observation.version).order_by(Observation.observed_at)).all()
    assert versions == [1, 2]


def test_first_snapshot_reports_only_recent_events(db_session: Session) -> None:
    make_lead(db_session, linkedin_public_id="recent-hire")
    make_lead(db_session, linkedin_public_id="long-timer")
    report = ingest(db_session, [
        harvest_item("recent-hire", jobs=[("Nursing Assistant", "Mercy Health", "Aug 2026", None)]),
        harvest_item("long-timer", jobs=[("Cashier", "Kroger", "Mar 2021", None)]),
    ], SEPT)
    assert report.signals_created == 1
    assert db_session.scalars(select(Signal.organization)).all() == ["Mercy Health"]


def test_unlinked_items_are_kept_and_listed_then_linked_when_the_lead_arrives(db_session: Session) -> None:
    item = harvest_item("not-a-lead-yet", jobs=[("Electrician Apprentice", "Spark Co", "Aug 2026", None)])
    report = ingest(db_session, [item], SEPT)
    assert (report.observations_created, report.unlinked, report.signals_created) == (1, 1, 0)
    rows, total = service.list_unlinked(db_session)
    assert total == 1 and rows[0].subject_key == "li:not-a-lead-yet"

    lead = make_lead(db_session, linkedin_public_id="not-a-lead-yet")
    relinked = ingest(db_session, [item], SEPT)
    assert (relinked.observations_created, relinked.linked, relinked.signals_created) == (0, 1, 1)
    assert service.list_unlinked(db_session)[1] == 0
    assert db_session.scalars(select(Observation.lead_id)).one() == lead.id


def test_links_by_exact_email_but_never_by_a_shared_one(db_session: Session) -> None:
    portfolio = make_portfolio(db_session)
    lead = make_lead(db_session, portfolio, email="kim.nguyen@example.org")
    make_lead(db_session, portfolio, email="shared@example.org")
    make_lead(db_session, portfolio, email="shared@example.org")
    by_email = harvest_item("kim-n-1", jobs=[], emails=["Kim.Nguyen@example.org"])
    shared = harvest_item("somebody", jobs=[], emails=["shared@example.org"])
    report = ingest(db_session, [by_email, shared], SEPT)
    assert (report.linked, report.unlinked, report.review) == (1, 1, 1)
    linked = db_session.scalars(select(Observation).where(Observation.lead_id.is_not(None))).one()
    assert linked.lead_id == lead.id
    # The shared address puts the item in review for each of the two leads: a person decides.
    unlinked = db_session.scalars(select(Observation).where(Observation.lead_id.is_(None))).one()
    reviews = db_session.scalars(select(Match).where(Match.observation_id == unlinked.id)).all()
    assert len(reviews) == 2 and lead.id not in {m.lead_id for m in reviews}
    assert {(m.outcome, m.method) for m in reviews} == {("review", "deterministic")}
    assert all(m.agreed["email"] == "shared by 2 leads" for m in reviews)


def test_a_bad_item_writes_nothing_unless_skipped(db_session: Session, tmp_path: Path) -> None:
    make_lead(db_session, linkedin_public_id="good-one")
    good = harvest_item("good-one", jobs=[("Clerk", "City of Dayton", "Aug 2026", None)])
    nameless = {"headline": "no identity at all", "experience": []}
    with pytest.raises(ValidationFailedError) as failure:
        ingest(db_session, [good, nameless], SEPT)
    assert failure.value.errors[0]["row"] == 2
    db_session.rollback()
    assert count(db_session, Observation) == 0 and count(db_session, Signal) == 0

    make_lead(db_session, linkedin_public_id="good-one")
    report = ingest(db_session, [good, nameless], SEPT, skip_invalid=True)
    assert (report.observations_created, report.rejected, report.signals_created) == (1, 1, 1)


def test_reader_names_the_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "export.jsonl"
    path.write_text(json.dumps({"publicIdentifier": "a"}) + "\n{not json\n")
    with pytest.raises(ValidationFailedError, match="line 2"):
        list(read_items(path))
    array = tmp_path / "export.json"
    array.write_text(json.dumps([{"publicIdentifier": "a"}, {"publicIdentifier": "b"}]))
    assert [n for n, _ in read_items(array)] == [1, 2]


def test_ingest_over_the_api(app: Any, client: Any, db_session: Session) -> None:
    import io

    from factories import auth, make_user
    from upswing.account.models import Role

    make_lead(db_session, linkedin_public_id="api-person")
    manager = make_user(db_session, Role.MANAGER)
    db_session.commit()
    body = json.dumps([harvest_item("api-person", jobs=[("Welder", "Ironworks", "Oct 2026", None)])]).encode()

    def post(**data: str) -> Any:
        return client.post("/api/v1/ingest/apify", headers=auth(app, manager), data=data,
                           files={"file": ("export.json", io.BytesIO(body), "application/json")})

    assert post(actor="linkedin").status_code == 422
    assert post(observed_at="last tuesday").status_code == 422
    report = post(actor="harvestapi", observed_at="2026-11-01T00:00:00Z").json()
    assert (report["observations_created"], report["linked"], report["signals_created"]) == (1, 1, 1)
    # --observed-at wins over the item's own time; without either, the ingest time is used.
    assert db_session.scalars(select(Observation.observed_at)).one() == datetime(2026, 11, 1, tzinfo=UTC)
    assert post().json()["duplicates"] == 1


def test_an_email_only_subject_key_keeps_no_address_in_clear() -> None:
    from upswing.observation.snapshot import ProfileSnapshot

    snapshot = ProfileSnapshot.model_construct(public_identifier=None, urn=None, emails=["Kim.Nguyen@example.org"])
    key = service.subject_key(snapshot)
    assert key is not None and key.startswith("email:") and "example.org" not in key.lower()
    assert key == service.subject_key(ProfileSnapshot.model_construct(
        public_identifier=None, urn=None, emails=["kim.nguyen@example.org "]))  # same person, same key


def test_a_wrong_actor_is_refused_naming_the_item_and_what_it_expected(db_session: Session) -> None:
    from upswing.observation.apify import ActorShape

    make_lead(db_session, linkedin_public_id="dana-w")
    items = [harvest_item("dana-w", jobs=[("Barista", "Bean There", "Jan 2024", None)],
                          honorsAndAwards=[{"title": "Employee of the Month", "issuedAt": "Issued Sep 2026"}])]
    for shape, expected in ((ActorShape.APIMAESTRO, "basic_info"), (ActorShape.DEV_FUSION, "experiences[]")):
        with pytest.raises(ValidationFailedError) as refused:
            ingest(db_session, items, OCT, shape=shape)
        (error,) = refused.value.errors
        assert error["row"] == 1
        assert error["message"].startswith(f"item is not {shape.value} output: expected {shape.value} fields (")
        assert expected in error["message"] and "it looks like harvestapi output" in error["message"]
    # Nothing was stored: no empty snapshot, no award read out of the wrong fields.
    assert (count(db_session, Observation), count(db_session, Signal)) == (0, 0)


def test_an_item_without_identity_says_which_shape_read_it(db_session: Session) -> None:
    rapidapi = {"username": "", "urn": None, "firstName": "Dana", "lastName": "Whitfield", "headline": "Barista",
                "geo": {"city": "Columbus, Ohio", "country": "United States", "full": "Columbus, Ohio, United States"},
                "position": [{"title": "Barista", "companyName": "Bean There", "start": {"year": 2024, "month": 1},
                              "end": {"year": 0, "month": 0}}],
                "educations": [], "certifications": [], "honors": []}
    with pytest.raises(ValidationFailedError) as refused:
        ingest(db_session, [rapidapi], OCT)
    (error,) = refused.value.errors
    assert error["row"] == 1
    assert error["message"].startswith("item has no public identifier, URN or e-mail: read as rapidapi (recognised by ")
    assert "(username, url, urn, email) are missing or empty" in error["message"]
    # With its identity it is read, and linked by its username.
    lead = make_lead(db_session, linkedin_public_id="dana-w")
    report = ingest(db_session, [{**rapidapi, "username": "dana-w", "urn": "ACoAAdana"}], OCT)
    assert (report.observations_created, report.linked) == (1, 1)
    stored = db_session.scalars(select(Observation)).one()
    assert (stored.lead_id, stored.shape, stored.normalized["urn"]) == (lead.id, "rapidapi", "ACoAAdana")
