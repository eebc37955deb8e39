"""Discovery against the fake search engine and web: prospects with intent signals and evidence, within budget,
robots.txt honoured; prospects held out of every list and channel until a manager approves them; enrichment of
one lead; the second spec's statuses; bad input is a 422 naming the field (both databases)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from discovery.support import FakeInternet, configure_search, fake_internet, quick_http
from factories import auth, make_lead, make_user
from upswing.account.models import Role
from upswing.alert.models import Alert, AlertSuppression
from upswing.discovery import service
from upswing.discovery.compat import second_spec_status, upswing_statuses
from upswing.discovery.engine import DiscoveryEngine, build_query, resolve_area, site_of
from upswing.discovery.models import DiscoveryRun, Prospect, RunStatus
from upswing.discovery.schemas import DiscoverRequest, ProspectFilters
from upswing.lead.models import Lead, LeadStatus
from upswing.signal.models import Evidence, Signal

pytestmark = pytest.mark.usefixtures("allow_loopback")


@pytest.fixture
def internet() -> Iterator[FakeInternet]:
    with fake_internet() as fake:
        yield fake


def _run(session: Session, factory: sessionmaker[Session], category: str = "any", **extra: Any) -> DiscoveryRun:
    run = service.start_run(session, DiscoverRequest(area="Austin, TX", radius_km=30, category=category,  # type: ignore[arg-type]
                                                     **extra), actor="test")
    session.commit()
    DiscoveryEngine(factory, http_factory=quick_http).run(run.id)
    session.expire_all()
    found = session.get(DiscoveryRun, run.id)
    assert found is not None
    return found


def _prospects(session: Session) -> dict[str, Lead]:
    return {lead.first_name: lead for lead in session.scalars(select(Lead).where(Lead.discovered.is_(True)))}


def test_discovery_creates_prospects_with_intent_evidence(db_session: Session, session_factory: sessionmaker[Session],
                                                          internet: FakeInternet) -> None:
    configure_search(db_session, internet)
    run = _run(db_session, session_factory)

    assert run.status == RunStatus.DONE.value, run.errors
    # Four company sites (the directory result is no company); the bakery shows no intent; /secret is disallowed.
    assert (run.found, run.fetched, run.classified, run.created, run.skipped) == (4, 3, 3, 2, 2)
    assert run.budget_used == {"google-cse-queries": 1, "discovery-pages": 3}
    assert any("robots.txt disallows" in error and "/secret" in error for error in run.errors)
    assert not internet.web.requests_to(r"^/secret"), "a disallowed page is never requested"
    assert "Austin, TX" in internet.google.requests[0].query["q"][0]

    prospects = _prospects(db_session)
    assert set(prospects) == {"Acme Tools", "Bolt Logistics"}
    acme = prospects["Acme Tools"]
    assert (acme.kind, acme.review_state, acme.city, acme.state, acme.company_domain) == (
        "company", "pending", "Austin", "TX", None)
    signals = {s.lead_id: s for s in db_session.scalars(select(Signal).where(Signal.lead_id.in_(
        [lead.id for lead in prospects.values()])))}
    assert signals[acme.id].type == "intent_loan_need"
    assert signals[prospects["Bolt Logistics"].id].type == "intent_expansion"
    assert all(signal.holdout for signal in signals.values()), "pending prospects' signals are held out"
    evidence = db_session.scalar(select(Evidence).where(Evidence.signal_id == signals[acme.id].id))
    assert evidence is not None and evidence.url == internet.url("/acme") and evidence.source == "discovery"
    assert evidence.snippet and "small business loan" in evidence.snippet
    prospect = db_session.get(Prospect, acme.id)
    assert prospect is not None and prospect.intents[0]["intent"] == "loan_need"
    assert prospect.found_by["provider"] == "google"

    # A second run finds the same sites: known prospects are skipped, not duplicated (and their review stands).
    again = _run(db_session, session_factory)
    assert again.created == 0 and again.status == RunStatus.DONE.value
    assert len(_prospects(db_session)) == 2


def test_category_keeps_only_its_intent(db_session: Session, session_factory: sessionmaker[Session],
                                        internet: FakeInternet) -> None:
    configure_search(db_session, internet)
    run = _run(db_session, session_factory, category="loan", industry="machine shops")
    assert run.created == 1 and set(_prospects(db_session)) == {"Acme Tools"}
    assert "machine shops business financing loan in Austin, TX" in internet.google.requests[0].query["q"][0]


def test_a_spent_budget_stops_the_run_and_says_so(db_session: Session, session_factory: sessionmaker[Session],
                                                  internet: FakeInternet) -> None:
    configure_search(db_session, internet, budgets={"discovery-pages": 1})
    run = _run(db_session, session_factory)
    assert run.status == RunStatus.STOPPED_BUDGET.value
    assert run.stop_reason is not None and "discovery-pages" in run.stop_reason
    assert run.budget_used == {"google-cse-queries": 1, "discovery-pages": 1}
    assert len(internet.web.requests_to(r"^/(acme|bolt|bakery|secret)")) == 1, "nothing fetched past the budget"
    assert run.created == 1  # what was found before the budget ran out is kept

    configure_search(db_session, internet, budgets={"google-cse-queries": 0})
    spent = _run(db_session, session_factory)
    assert spent.status == RunStatus.STOPPED_BUDGET.value and "google-cse-queries" in (spent.stop_reason or "")
    assert spent.found == 0


def test_a_disabled_search_source_fails_the_run_clearly(db_session: Session,
                                                        session_factory: sessionmaker[Session]) -> None:
    run = _run(db_session, session_factory)
    assert run.status == RunStatus.FAILED.value
    assert run.stop_reason is not None and "company-domain" in run.stop_reason


def test_prospects_are_hidden_until_approved(client: Any, app: Any, db_session: Session,
                                             session_factory: sessionmaker[Session], internet: FakeInternet,
                                             deliver_events: Any) -> None:
    manager, agent = make_user(db_session, Role.MANAGER), make_user(db_session, Role.AGENT)
    worked = make_lead(db_session, first_name="Dana", last_name="Borrower")
    configure_search(db_session, internet)
    db_session.commit()

    answer = client.post("/api/v1/discover", json={"area": "Austin, TX", "radius_km": 30, "category": "any"},
                         headers=auth(app, manager))
    assert answer.status_code == 202, answer.text
    run_id = answer.json()["id"]
    assert answer.json()["status"] == "queued" and answer.json()["task_run_id"]
    assert DiscoveryEngine(session_factory, http_factory=quick_http).run(uuid.UUID(run_id)) is RunStatus.DONE
    deliver_events()
    status = client.get(f"/api/v1/discover/{run_id}", headers=auth(app, manager)).json()
    assert (status["status"], status["created"], status["budget_used"]["discovery-pages"]) == ("done", 2, 3)

    pending = client.get("/api/v1/discover/prospects", headers=auth(app, manager)).json()
    assert pending["total"] == 2 and {p["name"] for p in pending["items"]} == {"Acme Tools", "Bolt Logistics"}
    acme = next(p for p in pending["items"] if p["name"] == "Acme Tools")
    assert acme["intents"][0]["intent"] == "loan_need" and acme["signals"] == 1

    def feed(user: Any) -> set[str]:
        return {s["lead_id"] for s in client.get("/api/v1/signals", headers=auth(app, user)).json()["items"]}

    def lead_list(user: Any) -> set[str]:
        return {lead["id"] for lead in client.get("/api/v1/leads", headers=auth(app, user)).json()["items"]}

    assert acme["lead_id"] not in feed(manager) and acme["lead_id"] not in lead_list(manager)
    assert str(worked.id) in lead_list(manager)
    assert client.get(f"/api/v1/leads/{acme['lead_id']}", headers=auth(app, agent)).status_code == 404
    # No alert for a held-out prospect's signal: suppressed as held out.
    db_session.expire_all()
    prospect_id = uuid.UUID(acme["lead_id"])
    assert db_session.scalar(select(func.count()).select_from(Alert).where(Alert.lead_id == prospect_id)) == 0
    assert db_session.scalar(select(func.count()).select_from(AlertSuppression).where(
        AlertSuppression.lead_id == prospect_id, AlertSuppression.reason == "holdout")) == 1

    # Agents cannot review; managers approve.
    review = f"/api/v1/discover/prospects/{acme['lead_id']}/review"
    assert client.post(review, json={"decision": "approve"}, headers=auth(app, agent)).status_code == 403
    approved = client.post(review, json={"decision": "approve", "note": "real need"}, headers=auth(app, manager))
    assert approved.status_code == 200 and approved.json()["review_state"] == "approved"
    assert approved.json()["reviewed_by"] == f"user:{manager.username}"
    assert acme["lead_id"] in feed(manager) and acme["lead_id"] in lead_list(manager)
    bolt = next(p for p in pending["items"] if p["name"] == "Bolt Logistics")
    rejected = client.post(f"/api/v1/discover/prospects/{bolt['lead_id']}/review", json={"decision": "reject"},
                           headers=auth(app, manager))
    assert rejected.json()["review_state"] == "rejected"
    assert bolt["lead_id"] not in feed(manager) and bolt["lead_id"] not in lead_list(manager)
    left = client.get("/api/v1/discover/prospects?state=pending", headers=auth(app, manager)).json()
    assert left["total"] == 0
    every = client.get("/api/v1/discover/prospects?state=all&status=qualified", headers=auth(app, manager)).json()
    assert {p["name"] for p in every["items"]} == {"Acme Tools", "Bolt Logistics"}
    runs = client.get("/api/v1/discover/runs", headers=auth(app, manager)).json()
    assert runs[0]["id"] == run_id


def test_enrich_runs_the_lead_sources_now(client: Any, app: Any, db_session: Session,
                                          internet: FakeInternet) -> None:
    admin = make_user(db_session, Role.ADMIN)
    internet.google.add_results("banner health", [
        {"title": "Banner Health | LinkedIn", "link": "https://www.linkedin.com/company/banner-health"},
        {"title": "Banner Health: Home", "link": "https://www.bannerhealth.com/"}])
    lead = make_lead(db_session, employer="Banner Health")
    other = make_lead(db_session, employer="Banner Health")
    configure_search(db_session, internet)
    db_session.commit()

    answer = client.post(f"/api/v1/leads/{lead.id}/enrich", headers=auth(app, admin))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    ran = {r["slug"]: r for r in body["sources"]}
    assert set(ran) == {"company-domain"} and ran["company-domain"]["domains_filled"] == 1
    assert {s["source"] for s in body["skipped"]} >= {"firecrawl-about", "apify-linkedin"}
    db_session.expire_all()
    assert db_session.get(Lead, lead.id).company_domain == "bannerhealth.com"  # type: ignore[union-attr]
    assert db_session.get(Lead, other.id).company_domain is None  # type: ignore[union-attr]  # only this lead

    again = client.post(f"/api/v1/leads/{lead.id}/enrich", headers=auth(app, admin)).json()
    assert again["sources"] == [] and any("nothing to fetch" in s["reason"] for s in again["skipped"])
    assert client.post(f"/api/v1/leads/{uuid.uuid4()}/enrich", headers=auth(app, admin)).status_code == 404


BAD_CRITERIA: list[tuple[dict[str, Any], str]] = [
    ({"area": "Austin, TX", "radius_km": 0}, "radius_km"),
    ({"area": "Austin, TX", "radius_km": 501}, "radius_km"),
    ({"area": "95.0,-97.7"}, "area"),
    ({"area": ""}, "area"),
    ({"area": "Austin, TX", "category": "lottery"}, "category"),
    ({"area": "Austin, TX", "max_companies": 0}, "max_companies"),
    ({"area": "Austin, TX", "surprise": 1}, "surprise"),
    ({}, "area"),
]


def test_bad_criteria_are_422_naming_the_field(client: Any, app: Any, db_session: Session) -> None:
    manager = make_user(db_session, Role.MANAGER)
    db_session.commit()
    for body, field in BAD_CRITERIA:
        answer = client.post("/api/v1/discover", json=body, headers=auth(app, manager))
        assert answer.status_code == 422 and field in answer.text, body
    assert db_session.scalar(select(func.count()).select_from(DiscoveryRun)) == 0


def test_bad_review_and_filters_are_422(client: Any, app: Any, db_session: Session) -> None:
    manager = make_user(db_session, Role.MANAGER)
    db_session.commit()
    headers = auth(app, manager)
    for query, field in (("state=maybe", "state"), ("status=won", "status"), ("limit=0", "limit"),
                         ("run_id=x", "run_id")):
        answer = client.get(f"/api/v1/discover/prospects?{query}", headers=headers)
        assert answer.status_code == 422 and field in answer.text, query
    somebody = uuid.uuid4()
    answer = client.post(f"/api/v1/discover/prospects/{somebody}/review", json={"decision": "maybe"},
                         headers=headers)
    assert answer.status_code == 422 and "decision" in answer.text
    assert client.post(f"/api/v1/discover/prospects/{somebody}/review", json={"decision": "approve"},
                       headers=headers).status_code == 404
    assert client.get(f"/api/v1/discover/{somebody}", headers=headers).status_code == 404
    assert client.get("/api/v1/discover/not-a-run", headers=headers).status_code == 422


def test_areas_queries_and_sites() -> None:
    austin = resolve_area("Austin, TX", None)
    assert (austin.city, austin.state) == ("Austin", "TX") and austin.latitude is not None
    assert abs(austin.latitude - 30.27) < 0.3 and austin.longitude is not None and abs(austin.longitude + 97.74) < 0.3
    point = resolve_area("30.2672,-97.7431", (30.2672, -97.7431))
    assert point.state == "TX" and point.text.endswith(", TX")
    assert resolve_area("Greater Austin", None).latitude is None
    assert build_query({"category": "loan", "industry": "bakeries", "company_size": "1-10"}, austin) == \
        "small business bakeries business financing loan in Austin, TX"
    assert site_of("https://www.Acme.com/about") == ("acme.com", "acme.com")
    assert site_of("http://127.0.0.1:8080/acme/x") == ("127.0.0.1:8080/acme", None)
    assert site_of("mailto:someone") is None


def test_second_spec_statuses_map_onto_ours() -> None:
    assert upswing_statuses("converted") == (LeadStatus.PROMISE, LeadStatus.PAYING, LeadStatus.RESOLVED)
    assert upswing_statuses("qualified") == (LeadStatus.NEW,)
    assert upswing_statuses("paying") == (LeadStatus.PAYING,)
    assert [second_spec_status(s) for s in ("new", "contacted", "promise", "paying", "resolved", "lost")] == [
        "new", "contacted", "converted", "converted", "converted", "lost"]
    assert second_spec_status("new", review_state="approved") == "qualified"


def test_lead_list_takes_the_second_spec_statuses(client: Any, app: Any, db_session: Session) -> None:
    manager = make_user(db_session, Role.MANAGER)
    leads = {status: make_lead(db_session, status=status.value) for status in LeadStatus}
    db_session.commit()

    def listed(status: str) -> set[str]:
        answer = client.get("/api/v1/leads", params={"status": status, "limit": 500}, headers=auth(app, manager))
        assert answer.status_code == 200, answer.text
        return {item["id"] for item in answer.json()["items"]} & {str(lead.id) for lead in leads.values()}

    assert listed("converted") == {str(leads[s].id) for s in (LeadStatus.PROMISE, LeadStatus.PAYING,
                                                              LeadStatus.RESOLVED)}
    assert listed("qualified") == listed("new") == {str(leads[LeadStatus.NEW].id)}
    assert listed("lost") == {str(leads[LeadStatus.LOST].id)}
    answer = client.get("/api/v1/leads", params={"status": "won"}, headers=auth(app, manager))
    assert answer.status_code == 422 and "status" in answer.text


def test_the_demo_run_leaves_prospects_waiting_for_review(db_session: Session) -> None:
    from upswing.discovery import demo

    assert demo.load(db_session) == 3  # the print shop's page shows no intent
    assert demo.load(db_session) == 0  # once
    page = service.list_prospects(db_session, ProspectFilters())
    intents = {item.name: item.intents[0].intent for item in page.items}
    assert intents == {"Hill Country Fabrication": "loan_need", "Barton Creek Coffee Roasters": "growth",
                       "Lone Star Dental Partners": "consulting_need"}
    assert all(item.signals == 1 and item.review_state == "pending" for item in page.items)
    run = db_session.scalar(select(DiscoveryRun).where(DiscoveryRun.requested_by == "demo"))
    assert run is not None and (run.found, run.created, run.skipped) == (4, 3, 1)


def test_local_discover_is_the_same_run_with_the_second_specs_location(client: Any, app: Any,
                                                                      db_session: Session) -> None:
    """``POST /api/v1/local/discover`` (the second spec's path) queues the same run; ``location`` names the area."""
    manager = make_user(db_session, Role.MANAGER)
    db_session.commit()
    answer = client.post("/api/v1/local/discover", json={"location": "Austin, TX", "radius_km": 15,
                                                         "category": "loan"}, headers=auth(app, manager))
    assert answer.status_code == 202, answer.text
    run = client.get(f"/api/v1/discover/{answer.json()['id']}", headers=auth(app, manager)).json()
    assert run["status"] == "queued" and run["criteria"]["area"] == "Austin, TX"
    assert run["criteria"]["radius_km"] == 15 and run["criteria"]["category"] == "loan"
    bad = client.post("/api/v1/local/discover", json={"location": "91,200"}, headers=auth(app, manager))
    assert bad.status_code == 422 and "body.location" in bad.text  # named as the client sent it
