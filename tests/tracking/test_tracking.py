"""Consented first-party tracking (both databases): nothing identifying before consent (every table inspected),
events after it, stitching into a lead with an audit trail, the merge rules, engagement signals once a week,
erasure, access export, Do Not Sell or Share, retention, profiles scoped by role, and the refusals."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from factories import auth, make_lead, make_portfolio, make_team, make_user
from tracking.helpers import ANON, ORIGIN, OTHER_ANON, make_site, row_counts
from upswing.account.models import Role
from upswing.audit.models import AuditEntry
from upswing.detection.events import SignalType
from upswing.observation.models import Observation
from upswing.privacy import service as privacy
from upswing.privacy.models import RequestType
from upswing.settings import Settings
from upswing.signal.models import Signal
from upswing.tracking import service
from upswing.tracking.models import TrackingDailyCount, TrackingEvent, TrackingVisitor
from upswing.tracking.policy import policy_for
from upswing.tracking.schemas import IdentifyCall, PageCall, TrackCall

URL = "/api/v1/tracking"
NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)  # a Wednesday
HEADERS = {"Origin": ORIGIN, "Content-Type": "text/plain;charset=UTF-8"}


def _post(client: Any, kind: str, body: dict[str, Any], **headers: str) -> Any:
    return client.post(f"{URL}/{kind}", content=json.dumps(body), headers={**HEADERS, **headers})


def _page(site: Any, path: str, *, anon: str | None = ANON, consent: str = "granted",
          at: datetime | None = None) -> PageCall:
    return PageCall(site_key=site.site_key, consent=consent, anonymous_id=anon, path=path, occurred_at=at)


def test_without_consent_only_the_anonymous_daily_count_is_stored(client: Any, db_session: Session) -> None:
    site, secret = make_site(db_session)
    lead = make_lead(db_session)
    db_session.commit()
    before = row_counts(db_session)
    calls = [("page", {"path": "/hardship/apply?email=kit@example.org#x"}),
             ("page", {"path": "/hardship/apply", "consent": "none"}),
             ("track", {"name": "calculator_used", "properties": {"amount_band": "1-5k"}, "path": "/calculator"}),
             # an id sent without consent is not kept either
             ("page", {"path": "/pay", "anonymous_id": ANON}),
             ("identify", {"external_id": lead.external_id,
                           "user_hash": service.user_hash(secret, lead.external_id)})]
    for kind, body in calls:
        response = _post(client, kind, {"site_key": site.site_key, **body})
        assert response.status_code == 202, response.text
        assert "set-cookie" not in response.headers
        assert response.json()["stored"] == ("nothing" if kind == "identify" else "count")
    after = row_counts(db_session)
    changed = {name for name in after if after[name] != before[name]}
    assert changed == {"tracking_daily_counts"}, changed
    counts = {(c.path_group, c.count) for c in db_session.scalars(select(TrackingDailyCount))}
    assert counts == {("hardship", 2), ("calculator", 1), ("repayment", 1)}


def test_gdpr_strict_refuses_implied_consent(db_session: Session) -> None:
    site, _ = make_site(db_session)
    strict = policy_for(Settings(privacy_mode="gdpr_strict"))
    assert service.record_event(db_session, site, _page(site, "/pay", consent="implied"), policy=strict,
                                now=NOW).stored == "count"
    assert db_session.scalar(select(TrackingVisitor.id)) is None
    assert service.record_event(db_session, site, _page(site, "/pay", consent="granted"), policy=strict,
                                now=NOW).stored == "event"
    standard = policy_for(Settings())
    assert service.record_event(db_session, site, _page(site, "/pay", consent="implied", anon=OTHER_ANON),
                                policy=standard, now=NOW).stored == "event"
    assert strict.retention_days < standard.retention_days


def test_consented_events_are_kept_hashed_and_filtered(client: Any, db_session: Session) -> None:
    site, _ = make_site(db_session)
    db_session.commit()
    assert _post(client, "page", {"site_key": site.site_key, "consent": "granted", "anonymous_id": ANON,
                                  "path": "https://portal.lender.example/repay/plan/123456789?token=abc"}
                 ).json()["stored"] == "event"
    tracked = _post(client, "track", {"site_key": site.site_key, "consent": "implied", "anonymous_id": ANON,
                                      "path": "/calculator", "name": "calculator_used",
                                      "properties": {"amount_band": "1-5k", "email": "kit@example.org",
                                                     "note": "x" * 300}}).json()
    assert tracked == {"stored": "event", "dropped_properties": ["email", "note"]}
    visitors = list(db_session.scalars(select(TrackingVisitor)))
    assert len(visitors) == 1 and visitors[0].lead_id is None
    assert visitors[0].visitor_hash != ANON and ANON not in visitors[0].visitor_hash
    assert visitors[0].visitor_hash == service.visitor_hash(site.id, ANON)
    events = {(e.type, e.name, e.path, json.dumps(e.properties)) for e in db_session.scalars(select(TrackingEvent))}
    assert events == {("page", "repayment", "/repay/plan/:id", "{}"),
                      ("track", "calculator_used", "/calculator", '{"amount_band": "1-5k"}')}
    # the same browser on another site is another, unrelated visitor (no cross-site linking)
    other, _ = make_site(db_session, "payments")
    assert service.visitor_hash(other.id, ANON) != visitors[0].visitor_hash


def test_link_token_stitches_the_anonymous_history_into_the_lead(client: Any, db_session: Session,
                                                                  app: Any) -> None:
    site, _ = make_site(db_session)
    lead = make_lead(db_session)
    db_session.commit()
    for path in ("/help", "/repay"):
        _post(client, "page", {"site_key": site.site_key, "consent": "granted", "anonymous_id": ANON, "path": path})
    token = service.make_link_token(lead.id, settings=app.state.settings)
    linked = _post(client, "identify", {"site_key": site.site_key, "consent": "granted", "anonymous_id": ANON,
                                        "link_token": token})
    assert linked.json()["stored"] == "linked", linked.text
    visitor = db_session.scalar(select(TrackingVisitor))
    assert visitor is not None and visitor.lead_id == lead.id and visitor.link_method == "link_token"
    entry = db_session.scalar(select(AuditEntry).where(AuditEntry.action == "tracking.visitor.linked"))
    assert entry is not None and entry.entity_id == str(visitor.id)
    assert entry.details["lead_id"] == str(lead.id) and entry.details["events_merged"] == 2
    # later events are the lead's too; the profile shows the whole history
    _post(client, "page", {"site_key": site.site_key, "consent": "granted", "anonymous_id": ANON, "path": "/pay"})
    admin = make_user(db_session, Role.ADMIN)
    db_session.commit()
    profiles = client.get(f"{URL}/profiles", params={"lead_id": str(lead.id)}, headers=auth(app, admin)).json()
    assert [(p["lead_id"], p["page_views"], p["actions"]) for p in profiles["items"]] == [(str(lead.id), 3, 0)]
    detail = client.get(f"{URL}/profiles/{visitor.id}", headers=auth(app, admin)).json()
    assert [e["path"] for e in detail["timeline"]] == ["/pay", "/repay", "/help"]
    # a tampered or expired token is refused, naming the field
    bad = _post(client, "identify", {"site_key": site.site_key, "consent": "granted", "anonymous_id": OTHER_ANON,
                                     "link_token": token[:-2] + "00"})
    assert bad.status_code == 422 and "link_token" in bad.text
    expired = service.make_link_token(lead.id, days=1, now=NOW - timedelta(days=30), settings=app.state.settings)
    assert _post(client, "identify", {"site_key": site.site_key, "consent": "granted", "anonymous_id": OTHER_ANON,
                                      "link_token": expired}).status_code == 422


def test_login_needs_the_portal_servers_hash_and_a_second_lead_starts_a_new_visitor(db_session: Session) -> None:
    portfolio = make_portfolio(db_session)
    site, secret = make_site(db_session, portfolio=portfolio.name)
    first = make_lead(db_session, portfolio, email="Kit@Example.org")
    second = make_lead(db_session, portfolio)
    elsewhere = make_lead(db_session)  # another portfolio: not this site's borrower
    service.record_event(db_session, site, _page(site, "/pay", at=NOW), now=NOW)

    def login(**proof: str) -> IdentifyCall:
        return IdentifyCall(site_key=site.site_key, consent="granted", anonymous_id=ANON, **proof)

    with pytest.raises(service.PermissionDeniedError):
        service.identify(db_session, site, login(email="kit@example.org", user_hash="0" * 64), now=NOW)
    by_email = login(email="kit@example.org", user_hash=service.user_hash(secret, "kit@example.org"))
    assert service.identify(db_session, site, by_email, now=NOW).stored == "linked"
    assert service.identify(db_session, site, by_email, now=NOW).stored == "linked"  # again: nothing changes
    with pytest.raises(service.ValidationFailedError):
        service.identify(db_session, site, login(external_id=elsewhere.external_id,
                                                 user_hash=service.user_hash(secret, elsewhere.external_id)), now=NOW)
    service.identify(db_session, site, login(external_id=second.external_id,
                                             user_hash=service.user_hash(secret, second.external_id)), now=NOW)
    rows = {(v.lead_id, v.superseded_at is not None) for v in db_session.scalars(select(TrackingVisitor))}
    assert rows == {(first.id, True), (second.id, False)}
    old = db_session.scalar(select(TrackingVisitor).where(TrackingVisitor.lead_id == first.id))
    assert old is not None
    assert [e.path for e in db_session.scalars(select(TrackingEvent))] == ["/pay"]
    assert db_session.scalar(select(TrackingEvent.visitor_id)) == old.id  # history stays with the first lead
    actions = list(db_session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("tracking.visitor.%"))))
    assert sorted(actions) == ["tracking.visitor.linked", "tracking.visitor.linked", "tracking.visitor.split"]


def _engage(session: Session, site: Any, lead: Any, at: datetime) -> None:
    service.identify(session, site, IdentifyCall(site_key=site.site_key, consent="granted", anonymous_id=ANON,
                                                 link_token=service.make_link_token(lead.id, now=at)), now=at)
    for offset, path in ((timedelta(days=3), "/hardship"), (timedelta(days=1), "/repay"), (timedelta(0), "/pay")):
        service.record_event(session, site, _page(site, path, at=at - offset), now=at)
    service.record_event(session, site, TrackCall(site_key=site.site_key, consent="granted", anonymous_id=ANON,
                                                  name="calculator_used", path="/calculator"), now=at)


def _portal_signals(session: Session, lead: Any) -> list[Signal]:
    return list(session.scalars(select(Signal).where(Signal.lead_id == lead.id,
                                                     Signal.type == SignalType.PORTAL_ENGAGEMENT.value)
                                .order_by(Signal.detected_at)))


def test_engagement_raises_one_portal_engagement_signal_per_lead_and_week(db_session: Session) -> None:
    site, _ = make_site(db_session)
    lead = make_lead(db_session)
    _engage(db_session, site, lead, NOW)
    signals = _portal_signals(db_session, lead)
    assert len(signals) == 1
    # raised when the threshold (0.5) was first reached: the hardship page (0.25), then the repayment page two
    # days later (0.2) which is a return visit (0.15): 0.6
    at_signal = {"repayment_view": 1, "hardship_view": 1, "calculator_use": 0, "return_visit": 1}
    assert signals[0].confidence == pytest.approx(0.6)
    observation = db_session.get(Observation, uuid.UUID(signals[0].observation_ids[0]))
    assert observation is not None and observation.normalized["engagement"]["counts"] == at_signal
    assert observation.normalized["engagement"]["engagement_strength"] == pytest.approx(0.6)
    # everything since: 0.25 + 2 × 0.2 + 0.3 + 2 × 0.15, capped at 1
    now = service.lead_engagement(db_session, lead.id, now=NOW)
    assert now.counts == {"repayment_view": 2, "hardship_view": 1, "calculator_use": 1, "return_visit": 2}
    assert now.strength == 1.0
    # it was not read from a text: feedback, which trains the text classifiers, is refused
    from upswing.signal.feedback import record_feedback

    with pytest.raises(service.ValidationFailedError, match="not read from a text"):
        record_feedback(db_session, signals[0].id, correct=True, label=None, user=make_user(db_session, Role.ADMIN))
    # more behaviour the same week: no second signal; the next week: a new one
    service.record_event(db_session, site, _page(site, "/hardship", at=NOW + timedelta(days=1)),
                         now=NOW + timedelta(days=1))
    assert len(_portal_signals(db_session, lead)) == 1
    later = NOW + timedelta(days=7)
    service.record_event(db_session, site, _page(site, "/hardship", at=later), now=later)
    assert len(_portal_signals(db_session, lead)) == 2


def test_weak_engagement_raises_nothing(db_session: Session) -> None:
    site, _ = make_site(db_session)
    lead = make_lead(db_session)
    service.identify(db_session, site, IdentifyCall(site_key=site.site_key, consent="granted", anonymous_id=ANON,
                                                    link_token=service.make_link_token(lead.id, now=NOW)), now=NOW)
    service.record_event(db_session, site, _page(site, "/account", at=NOW), now=NOW)
    assert service.lead_engagement(db_session, lead.id, now=NOW).strength == 0
    assert _portal_signals(db_session, lead) == []


def test_access_export_includes_and_erasure_removes_tracking_data(db_session: Session) -> None:
    site, _ = make_site(db_session)
    lead = make_lead(db_session)
    _engage(db_session, site, lead, NOW)
    access = privacy.create_request(db_session, type_=RequestType.ACCESS,
                                    subject=privacy.Subject(lead_ids=[lead.id]), actor="test")
    export = privacy.export_request(db_session, access.id, actor="test")
    assert len(export.tables["tracking_visitors"]) == 1 and len(export.tables["tracking_events"]) == 4
    erasure = privacy.create_request(db_session, type_=RequestType.ERASURE,
                                     subject=privacy.Subject(lead_ids=[lead.id]), actor="test")
    lead_id = lead.id
    privacy.erase(db_session, erasure.id, actor="test")
    db_session.expire_all()
    assert db_session.scalar(select(TrackingVisitor.id)) is None
    assert db_session.scalar(select(TrackingEvent.id)) is None
    assert db_session.scalar(select(Signal.id).where(Signal.lead_id == lead_id)) is None
    assert db_session.scalar(select(Observation.id).where(Observation.shape == "tracking")) is None


def test_do_not_sell_or_share_keeps_no_behaviour_and_raises_no_signal(db_session: Session) -> None:
    site, _ = make_site(db_session)
    lead = make_lead(db_session)
    service.identify(db_session, site, IdentifyCall(site_key=site.site_key, consent="granted", anonymous_id=ANON,
                                                    link_token=service.make_link_token(lead.id, now=NOW)), now=NOW)
    service.record_event(db_session, site, _page(site, "/account", at=NOW), now=NOW)
    request = privacy.create_request(db_session, type_=RequestType.OPT_OUT,
                                     subject=privacy.Subject(lead_ids=[lead.id]), actor="test")
    done = privacy.opt_out(db_session, request.id, actor="test")
    assert done.outcome["tracking_events_deleted"] == 1
    assert db_session.scalar(select(TrackingEvent.id)) is None
    for path in ("/hardship", "/repay", "/pay", "/calculator"):
        assert service.record_event(db_session, site, _page(site, path, at=NOW), now=NOW).stored == "dropped"
    assert db_session.scalar(select(TrackingEvent.id)) is None
    assert service.raise_engagement_signal(db_session, lead.id, now=NOW) is None
    assert _portal_signals(db_session, lead) == []
    # another browser of the opted-out lead: linking it deletes what it had
    service.record_event(db_session, site, _page(site, "/hardship", anon=OTHER_ANON, at=NOW), now=NOW)
    service.identify(db_session, site, IdentifyCall(site_key=site.site_key, consent="granted",
                                                    anonymous_id=OTHER_ANON,
                                                    link_token=service.make_link_token(lead.id, now=NOW)), now=NOW)
    assert db_session.scalar(select(TrackingEvent.id)) is None


def test_purge_applies_the_retention(db_session: Session) -> None:
    site, _ = make_site(db_session)
    policy = policy_for(Settings(privacy_mode="gdpr_strict"))
    old = NOW - timedelta(days=policy.retention_days + 1)
    service.record_event(db_session, site, _page(site, "/pay", at=old), now=old, policy=policy)
    service.record_event(db_session, site, _page(site, "/pay", anon=OTHER_ANON, at=NOW), now=NOW, policy=policy)
    service.record_event(db_session, site, _page(site, "/pay", consent="none", anon=None),
                         now=NOW - timedelta(days=2 * policy.retention_days + 1), policy=policy)
    dry = service.purge(db_session, now=NOW, dry_run=True, policy=policy)
    assert (dry.events, dry.visitors, dry.daily_counts) == (1, 1, 1)
    done = service.purge(db_session, now=NOW, policy=policy)
    assert (done.events, done.visitors, done.daily_counts) == (1, 1, 1)
    assert db_session.scalar(select(TrackingEvent.path)) == "/pay"
    assert service.purge(db_session, now=NOW, policy=policy).events == 0


def test_profiles_are_scoped_to_the_leads_the_user_sees(app: Any, client: Any, db_session: Session) -> None:
    team = make_team(db_session)
    agent = make_user(db_session, Role.AGENT, team=team)
    stranger = make_user(db_session, Role.AGENT)
    site, _ = make_site(db_session)
    own = make_lead(db_session, assignee_id=agent.id)
    foreign = make_lead(db_session, assignee_id=stranger.id)
    visitors = {}
    for lead, anon in ((own, ANON), (foreign, OTHER_ANON)):
        service.identify(db_session, site, IdentifyCall(site_key=site.site_key, consent="granted", anonymous_id=anon,
                                                        link_token=service.make_link_token(lead.id)))
        visitors[lead.id] = db_session.scalar(select(TrackingVisitor.id).where(TrackingVisitor.lead_id == lead.id))
    db_session.commit()
    listed = client.get(f"{URL}/profiles", headers=auth(app, agent)).json()["items"]
    assert [item["lead_id"] for item in listed] == [str(own.id)]
    assert client.get(f"{URL}/profiles/{visitors[foreign.id]}", headers=auth(app, agent)).status_code == 404
    assert client.get(f"{URL}/profiles", params={"lead_id": str(foreign.id)},
                      headers=auth(app, agent)).status_code == 404
    manager = make_user(db_session, Role.MANAGER)
    db_session.commit()
    assert len(client.get(f"{URL}/profiles", headers=auth(app, manager)).json()["items"]) == 2


@pytest.mark.parametrize(("kind", "body", "field"), [
    ("page", {"consent": "granted", "anonymous_id": ANON}, "site_key"),
    ("page", {"consent": "granted"}, "anonymous_id"),
    ("page", {"consent": "maybe"}, "consent"),
    ("page", {"consent": "granted", "anonymous_id": "short"}, "anonymous_id"),
    ("track", {"consent": "granted", "anonymous_id": ANON, "name": "Bad Name!"}, "name"),
    ("track", {"consent": "granted", "anonymous_id": ANON, "name": "x", "fingerprint": "abc"}, "fingerprint"),
    ("identify", {"consent": "granted", "anonymous_id": ANON}, "link_token"),
    ("identify", {"consent": "granted", "anonymous_id": ANON, "external_id": "L-1"}, "user_hash"),
])
def test_invalid_calls_are_422_naming_the_field(client: Any, db_session: Session, kind: str, body: dict[str, Any],
                                                field: str) -> None:
    site, _ = make_site(db_session)
    db_session.commit()
    payload = body if field == "site_key" else {"site_key": site.site_key, **body}
    response = _post(client, kind, payload)
    assert response.status_code == 422, response.text
    assert field in response.text


def test_key_origin_size_and_rate_are_enforced(app: Any, client: Any, db_session: Session) -> None:
    from upswing.account.ratelimit import TokenBuckets

    site, _ = make_site(db_session)
    db_session.commit()
    body = {"site_key": site.site_key, "path": "/pay"}
    allowed = _post(client, "page", body)
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    assert _post(client, "page", {**body, "site_key": "us_nosuchsite"}).status_code == 403
    assert _post(client, "page", body, Origin="https://evil.example").status_code == 403
    assert client.post(f"{URL}/page", content=json.dumps({**body, "path": "/" + "x" * 5000}),
                       headers=HEADERS).status_code == 413
    preflight = client.options(f"{URL}/page", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 204 and preflight.headers["access-control-allow-origin"] == ORIGIN
    assert client.options(f"{URL}/page", headers={"Origin": "https://evil.example"}).status_code == 403
    app.state.tracking_rate_limiter = TokenBuckets(1 / 60, 2)
    statuses = [_post(client, "page", body).status_code for _ in range(3)]
    assert statuses == [202, 202, 429]


def test_the_snippet_is_served_small_and_cacheable(client: Any) -> None:
    response = client.get("/t.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/javascript")
    assert "max-age" in response.headers["cache-control"]
    assert len(response.content) < 6000
    assert "globalPrivacyControl" in response.text and "document.cookie" not in response.text
    assert client.get("/t.js", headers={"If-None-Match": response.headers["etag"]}).status_code == 304
    assert response.headers["etag"].strip('"') != hashlib.sha256(b"").hexdigest()[:20]


def test_sites_admin_and_privacy_config(app: Any, client: Any, db_session: Session) -> None:
    admin = make_user(db_session, Role.ADMIN)
    viewer = make_user(db_session, Role.VIEWER)
    db_session.commit()
    created = client.post(f"{URL}/sites", headers=auth(app, admin),
                          json={"name": "portal", "allowed_origins": ["https://Portal.Lender.example/"]})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["allowed_origins"] == [ORIGIN] and len(body["secret"]) == 64 and body["site_key"] in body["snippet"]
    listed = client.get(f"{URL}/sites", headers=auth(app, admin)).json()
    assert [s["name"] for s in listed] == ["portal"] and "secret" not in listed[0]
    site_id = body["id"]
    _post(client, "page", {"site_key": body["site_key"], "path": "/pay"})
    _post(client, "page", {"site_key": body["site_key"], "path": "/pay", "consent": "granted", "anonymous_id": ANON})
    stats = client.get(f"{URL}/sites/{site_id}/stats", headers=auth(app, admin)).json()
    assert (stats["visitors"], stats["linked_visitors"], stats["events"]) == (1, 0, 1)
    assert [(c["path_group"], c["count"]) for c in stats["daily_counts"]] == [("repayment", 1)]
    bad = client.post(f"{URL}/sites", headers=auth(app, admin),
                      json={"name": "x", "allowed_origins": ["https://portal.example/path"]})
    assert bad.status_code == 422 and "allowed_origins" in bad.text
    config = client.get("/api/v1/privacy/config", headers=auth(app, viewer)).json()["tracking"]
    assert "device fingerprinting" in config["not_built_by_decision"]
    assert any("without consent" in item for item in config["not_built_by_decision"])
    assert config["consent_required"] is True
