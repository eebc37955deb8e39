"""Text ingest end to end on both databases: store once, link, classify, signal with evidence; company texts
become intent signals on the company's leads. A classifier stand-in decides the labels (the wiring is under
test here; the contract tests run the shipped model)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from factories import auth, make_keyword_classifier, make_lead, make_portfolio, make_user
from upswing.account.models import Role
from upswing.audit.models import AuditEntry
from upswing.core.errors import ValidationFailedError
from upswing.observation.models import Observation
from upswing.observation.text import TextItem, normalize_domain, parse_text_items
from upswing.pipeline.texts import ingest_texts
from upswing.signal.models import Evidence, Signal

SEEN = datetime(2026, 10, 1, 9, tzinfo=UTC)
RULES = {"joined": "new_employment", "laid off": "job_loss", "missed": "financial_distress",
         "opening": "expansion", "maybe": "promotion"}
CLASSIFIERS = {"person": make_keyword_classifier(RULES), "company": make_keyword_classifier(RULES)}
POST = ("Big news. I joined Globex as a Senior Data Analyst starting Monday! Thanks to everyone who helped.")


def item(text: str = POST, **fields: Any) -> TextItem:
    return TextItem(text=text, raw={"text": text, "origin": "test", **{k: str(v) for k, v in fields.items()}},
                    **fields)


def run(session: Session, items: list[TextItem], **options: Any) -> Any:
    report = ingest_texts(session, items, source_slug="test-posts", observed_at=options.pop("observed_at", SEEN),
                          classifier=options.pop("classifier", CLASSIFIERS), **options)
    session.flush()
    return report


def signals_of(session: Session, lead_id: uuid.UUID) -> list[Signal]:
    return list(session.scalars(select(Signal).where(Signal.lead_id == lead_id).order_by(Signal.type)))


def test_the_same_post_seen_twice_is_one_observation(db_session: Session) -> None:
    lead = make_lead(db_session)
    post = item(url="https://social.example/p/1", lead_id=lead.id, published_at=datetime(2026, 9, 30, tzinfo=UTC))
    first = run(db_session, [post, post])
    assert (first.stored, first.duplicates, first.linked, first.signals_created) == (1, 1, 1, 1)
    again = run(db_session, [item(url="https://social.example/p/1", lead_id=lead.id,
                                  published_at=datetime(2026, 9, 30, tzinfo=UTC))],
                observed_at=datetime(2026, 10, 5, tzinfo=UTC))
    assert (again.stored, again.duplicates, again.signals_created, again.signals_updated) == (0, 1, 0, 0)
    assert again.observation_ids == first.observation_ids[:1]
    (stored,) = db_session.scalars(select(Observation).where(Observation.kind == "text")).all()
    assert stored.raw["origin"] == "test"  # the raw payload is kept
    assert stored.normalized["text"] == POST and stored.normalized["published_at"] == "2026-09-30T00:00:00+00:00"
    assert stored.last_observed_at == datetime(2026, 10, 5, tzinfo=UTC)
    assert len(signals_of(db_session, lead.id)) == 1


def test_a_linked_post_becomes_a_signal_with_evidence(db_session: Session) -> None:
    lead = make_lead(db_session)
    report = run(db_session, [item(url="https://social.example/p/2", lead_id=lead.id,
                                   published_at=datetime(2026, 9, 30, 8, tzinfo=UTC))])
    assert (report.classified, report.detected, report.signals_created) == (1, 1, 1)
    (signal,) = signals_of(db_session, lead.id)
    assert (signal.type, signal.title, signal.organization) == ("new_employment", "Senior Data Analyst", "Globex")
    assert signal.effective_date == date(2026, 10, 5)  # "starting Monday", counted from the post's date
    assert signal.evidence_url == "https://social.example/p/2"
    assert signal.evidence_snippet == "I joined Globex as a Senior Data Analyst starting Monday!"
    (evidence,) = db_session.scalars(select(Evidence).where(Evidence.signal_id == signal.id)).all()
    assert (evidence.kind, evidence.source, evidence.observation_id) == ("text", "test-posts",
                                                                       report.observation_ids[0])
    assert signal.score > 0


def test_linking_by_the_authors_public_id_and_later(db_session: Session) -> None:
    known = make_lead(db_session, linkedin_public_id="dana-known")
    report = run(db_session, [item(author_public_id="dana-known"), item("I got laid off today.",
                                                                         author_public_id="someone-new")])
    assert (report.stored, report.linked, report.unlinked, report.classified) == (2, 1, 1, 1)
    assert [s.type for s in signals_of(db_session, known.id)] == ["new_employment"]
    unlinked = db_session.scalar(select(Observation).where(Observation.subject_key == "li:someone-new"))
    assert unlinked is not None and unlinked.lead_id is None  # kept, waiting for its lead

    later = make_lead(db_session, linkedin_public_id="someone-new")
    again = run(db_session, [item("I got laid off today.", author_public_id="someone-new")])
    assert (again.stored, again.duplicates, again.linked, again.signals_created) == (0, 1, 1, 1)
    db_session.refresh(unlinked)
    assert unlinked.lead_id == later.id
    assert [s.type for s in signals_of(db_session, later.id)] == ["job_loss"]


def test_a_name_alone_links_nothing_and_a_merged_lead_passes_its_texts_on(db_session: Session) -> None:
    make_lead(db_session, first_name="Dana", last_name="Whitfield")
    assert run(db_session, [item(author_name="Dana Whitfield")]).unlinked == 1
    survivor = make_lead(db_session)
    merged = make_lead(db_session, merged_into_id=survivor.id)
    run(db_session, [item("Some personal news: I joined Initech as CFO.", lead_id=merged.id)])
    assert [s.organization for s in signals_of(db_session, survivor.id)] == ["Initech"]
    assert signals_of(db_session, merged.id) == []
    assert run(db_session, [item("I joined Hooli as an intern.", lead_id=uuid.uuid4())]).unlinked == 1


def test_two_posts_about_one_job_are_one_signal(db_session: Session) -> None:
    lead = make_lead(db_session)
    run(db_session, [item(url="https://social.example/a", lead_id=lead.id)])
    report = run(db_session, [item("Update: I joined Globex as a Senior Data Analyst last week.",
                                   url="https://news.example/b", lead_id=lead.id)])
    assert (report.signals_created, report.signals_updated) == (0, 1)
    (signal,) = signals_of(db_session, lead.id)
    assert len(signal.observation_ids) == 2


def test_low_confidence_and_no_event_make_no_signal(db_session: Session) -> None:
    lead = make_lead(db_session)
    unsure = {"person": make_keyword_classifier(RULES, confidence=0.3)}
    report = run(db_session, [item(lead_id=lead.id)], classifier=unsure)
    assert (report.classified, report.detected, report.signals_created) == (1, 0, 0)
    report = run(db_session, [item("Lovely weather in Austin today.", lead_id=lead.id)])
    assert (report.classified, report.detected, report.signals_created) == (1, 0, 0)
    assert signals_of(db_session, lead.id) == []


def test_a_company_text_becomes_intent_signals_on_that_companys_leads(db_session: Session) -> None:
    portfolio = make_portfolio(db_session)
    by_employer = make_lead(db_session, portfolio, employer="The Globex Corporation")
    by_domain = make_lead(db_session, portfolio, employer="GX Holdings", company_domain="WWW.Globex.com")
    elsewhere = make_lead(db_session, portfolio, employer="Initech", company_domain="initech.com")
    news = item("Globex missed two loan payments this quarter, people familiar said.", about="company",
                company_name="Globex Corp.", company_domain="https://www.globex.com/news",
                url="https://news.example/globex")
    report = run(db_session, [news])
    assert (report.stored, report.linked, report.classified, report.signals_created) == (1, 1, 1, 2)
    for lead in (by_employer, by_domain):
        (signal,) = signals_of(db_session, lead.id)
        assert (signal.type, signal.organization, signal.title) == ("intent_financial_distress", "Globex Corp.", None)
        assert signal.evidence_url == "https://news.example/globex"
    assert signals_of(db_session, elsewhere.id) == []
    stored = db_session.get(Observation, report.observation_ids[0])
    assert stored is not None and stored.lead_id is None and stored.subject_key == "company:globex.com"
    assert run(db_session, [news]).duplicates == 1  # the same article again adds nothing
    assert len(signals_of(db_session, by_domain.id)) == 1


def test_a_company_nobody_works_at_is_kept_unlinked(db_session: Session) -> None:
    report = run(db_session, [item("Umbrella is opening a plant in Ohio.", about="company",
                                   company_name="Umbrella Pharma")])
    assert (report.stored, report.unlinked, report.classified) == (1, 1, 0)


def test_an_empty_text_refuses_the_batch(db_session: Session) -> None:
    before = db_session.scalar(select(func.count()).select_from(Observation))
    with pytest.raises(ValidationFailedError) as caught:
        run(db_session, [item(), item("   ")])
    assert caught.value.errors == [{"row": 2, "field": "text", "message": "text is empty"}]
    assert db_session.scalar(select(func.count()).select_from(Observation)) == before


def test_domains_normalize() -> None:
    assert normalize_domain("https://www.Acme.com/about?x=1") == "acme.com"
    assert normalize_domain("acme.com:8080") == "acme.com"
    assert normalize_domain("  ") is None


def test_api_ingests_texts(app: Any, client: Any, db_session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    from upswing.detection import text as pipeline

    monkeypatch.setattr(pipeline, "_load", lambda kind: CLASSIFIERS[kind])
    manager = make_user(db_session, Role.MANAGER)
    lead = make_lead(db_session)
    db_session.commit()
    body = {"source": "press-feed", "items": [
        {"text": POST, "lead_id": str(lead.id), "url": "https://social.example/api", "extra": "kept"},
        {"text": "An unlinked post about nothing."},
    ]}
    response = client.post("/api/v1/ingest/texts", json=body, headers=auth(app, manager))
    assert response.status_code == 200, response.text
    result = response.json()
    assert {k: result[k] for k in ("source", "stored", "linked", "unlinked", "signals_created")} == {
        "source": "press-feed", "stored": 2, "linked": 1, "unlinked": 1, "signals_created": 1}
    stored = db_session.get(Observation, uuid.UUID(result["observation_ids"][0]))
    assert stored is not None and stored.raw["extra"] == "kept"
    assert db_session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "observation.ingest_texts")) == 1

    bad = client.post("/api/v1/ingest/texts", json={"items": [{"text": "ok"}, {"text": ""}]},
                      headers=auth(app, manager))
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"].endswith("items.1.text") and bad.json()["errors"][0]["row"] == 1


def test_cli_ingests_a_file_and_refuses_a_bad_one(cli: Any, tmp_path: Path) -> None:
    assert cli("db", "upgrade").exit_code == 0
    good = tmp_path / "texts.jsonl"
    good.write_text("\n".join(json.dumps(line) for line in [
        {"text": "Started a new job today!", "author_public_id": "nobody-1", "url": "https://x.example/1"},
        {"text": "Started a new job today!", "author_public_id": "nobody-1", "url": "https://x.example/1"},
        {"text": "Acme is opening a new plant.", "about": "company", "company_name": "Acme"},
    ]) + "\n", encoding="utf-8")
    result = cli("ingest", "texts", str(good), "--source", "my-posts")
    assert result.exit_code == 0, result.output
    assert "3 texts: 2 new observations, 1 already known, 0 linked, 2 unlinked" in result.output

    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"text": "fine"}) + "\n" + json.dumps({"text": 3, "about": "pets"}) + "\n",
                   encoding="utf-8")
    refused = cli("ingest", "texts", str(bad))
    assert refused.exit_code == 1
    output = " ".join(refused.output.split())
    assert "row 2, field 'text'" in output and "row 2, field 'about'" in output
    listed = cli("observations", "unlinked")
    assert "2 unlinked observation(s)" in listed.output  # the bad file stored nothing


def test_a_post_assigned_to_a_lead_does_not_teach_the_linker_its_author(db_session: Session) -> None:
    lead = make_lead(db_session)
    run(db_session, [item("Congrats to Dana, who joined Globex as CFO!", lead_id=lead.id,
                          author_public_id="a-colleague")])
    stored = db_session.scalar(select(Observation).where(Observation.kind == "text"))
    assert stored is not None and stored.lead_id == lead.id and stored.subject_key is None
    # the colleague's own post is not linked to the lead
    assert run(db_session, [item("I joined Initech as an engineer.", author_public_id="a-colleague")]).unlinked == 1


# harvestapi/linkedin-profile-posts items (shared/reference/external-apis.md §1): the SDK type's form
# (postedAt{…}, top-level author fields) and the README sample's (postedAgo, author{…}, socialContent.shareUrl).
def harvest_post(**fields: Any) -> dict[str, Any]:
    return {
        "id": "7312345678901234567",
        "content": POST,
        "linkedinUrl": "https://www.linkedin.com/posts/dana-known_activity-7312345678901234567-abcd",
        "authorName": "Dana Known",
        "authorPublicIdentifier": "dana-known",
        "authorType": "profile",
        "postedAt": {"timestamp": 1790755200000, "date": "2026-09-30T08:00:00.000Z", "postedAgoShort": "1d",
                     "postedAgoText": "1 day ago"},
        "postImages": [],
        "repostId": None,
        "engagement": {"likes": 12, "comments": 3, "shares": 0, "reactions": [{"type": "LIKE", "count": 12}]},
        "socialContent": {"shareUrl": "https://www.linkedin.com/feed/update/urn:li:activity:7312345678901234567"},
        **fields,
    }


def readme_post() -> dict[str, Any]:
    return {
        "id": "7398765432109876543",
        "content": "Thrilled to share that I passed the PMP exam!",
        "author": {"name": "Lee Other", "publicIdentifier": "Lee-Other", "linkedinUrl": "https://www.linkedin.com/in/lee-other"},
        "postedAgo": "2d",
        "socialContent": {"shareUrl": "https://www.linkedin.com/posts/lee-other_activity-7398765432109876543-wxyz"},
        "engagement": {"likes": 4, "comments": 0, "shares": 0},
    }


def test_a_harvestapi_posts_export_is_read_as_text_items() -> None:
    sdk, readme = parse_text_items([(1, harvest_post()), (2, readme_post())])
    assert (sdk.text, sdk.about, sdk.author_public_id, sdk.author_name) == (POST, "person", "dana-known", "Dana Known")
    assert sdk.url == "https://www.linkedin.com/posts/dana-known_activity-7312345678901234567-abcd"
    assert sdk.published_at == datetime(2026, 9, 30, 8, tzinfo=UTC)
    assert sdk.raw == harvest_post()  # kept as it came
    assert (readme.text, readme.author_public_id, readme.author_name) == (
        "Thrilled to share that I passed the PMP exam!", "lee-other", "Lee Other")
    assert readme.url == "https://www.linkedin.com/posts/lee-other_activity-7398765432109876543-wxyz"
    assert readme.published_at is None  # "2d" is not a date
    # A company page's post is about the company; an item in the plain text format is read as before.
    (company,) = parse_text_items([(1, harvest_post(authorType="company", authorName="Globex",
                                                    authorPublicIdentifier=None))])
    assert (company.about, company.company_name, company.author_public_id) == ("company", "Globex", None)
    (plain,) = parse_text_items([(1, {"text": "Hello", "content": "ignored", "url": "https://x.example/1"})])
    assert (plain.text, plain.url) == ("Hello", "https://x.example/1")


def test_a_harvestapi_post_is_linked_by_its_author_and_signals(db_session: Session) -> None:
    lead = make_lead(db_session, linkedin_public_id="dana-known")
    report = run(db_session, parse_text_items([(1, harvest_post())]))
    assert (report.stored, report.linked, report.signals_created) == (1, 1, 1)
    (signal,) = signals_of(db_session, lead.id)
    assert (signal.type, signal.organization) == ("new_employment", "Globex")
    assert signal.evidence_url == "https://www.linkedin.com/posts/dana-known_activity-7312345678901234567-abcd"
    stored = db_session.get(Observation, report.observation_ids[0])
    assert stored is not None and stored.raw["content"] == POST
    assert stored.normalized["published_at"] == "2026-09-30T08:00:00+00:00"


def test_cli_ingests_a_harvestapi_posts_export(cli: Any, tmp_path: Path) -> None:
    assert cli("db", "upgrade").exit_code == 0
    export = tmp_path / "dataset_linkedin-profile-posts.json"
    export.write_text(json.dumps([harvest_post(), readme_post()]), encoding="utf-8")
    result = cli("ingest", "texts", str(export), "--source", "harvest-posts")
    assert result.exit_code == 0, result.output
    assert "2 texts: 2 new observations, 0 already known, 0 linked, 2 unlinked" in result.output
