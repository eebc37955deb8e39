"""Consented first-party tracking: sites, the calls the snippet makes, identity stitching, engagement signals,
profiles, retention. Services never commit (the request or task boundary does).

Merge rules (docs/tracking.md, "Stitching"):

1. A visitor row links to one lead at most. Identifying links it and with it every event it already has: the
   anonymous history becomes the lead's (audited ``tracking.visitor.linked`` with the number of events merged).
2. The same lead identifying again on the same browser changes nothing.
3. Another lead identifying on a browser whose visitor is linked closes that row (``superseded_at``) and starts a
   new visitor row with the same hash for the new lead: the first lead's history stays theirs, nothing moves
   between people (audited ``tracking.visitor.split``).
4. Several browsers of one lead are several visitor rows linked to the same lead (their histories are not merged
   into one row; the profile of the lead shows them all).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import case, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from upswing.account.models import User
from upswing.audit import service as audit
from upswing.core.crypto import get_key_ring
from upswing.core.db import utcnow
from upswing.core.errors import NotFoundError, PermissionDeniedError, ValidationFailedError
from upswing.detection.events import CandidateEvent, SignalType
from upswing.lead import queries as lead_queries
from upswing.lead.access import visible_lead, visible_leads_clause
from upswing.lead.models import Lead, Portfolio, full_name
from upswing.observation.models import Observation, ObservationKind
from upswing.privacy.models import DataSubjectRequest, RequestStatus, RequestType
from upswing.settings import Settings, get_settings
from upswing.signal.models import EvidenceKind, Signal
from upswing.signal.service import SightedEvent, upsert_events
from upswing.source.service import get_or_create_source
from upswing.tracking.models import (
    EventType,
    LinkMethod,
    TrackingDailyCount,
    TrackingEvent,
    TrackingSite,
    TrackingVisitor,
)
from upswing.tracking.policy import CONSENT_NONE, Engagement, TrackingPolicy, policy_for
from upswing.tracking.schemas import (
    DailyCountRead,
    IdentifyCall,
    PageCall,
    ProfileDetail,
    ProfileFilters,
    ProfileRead,
    SiteCreate,
    SiteStats,
    TimelineEvent,
    TrackCall,
)

SOURCE_SLUG = "first-party-portal"
_SECRET_CONTEXT = "tracking_sites.secret"  # noqa: S105 (the encryption context's name)
_LINK_PURPOSE = b"upswing tracking link token v1"
#: Path segments that may name a person or an account are replaced by this.
_REDACTED = ":id"
_SENSITIVE_SEGMENT = re.compile(r"@|\d{5,}|[0-9a-f]{16,}", re.IGNORECASE)


def current_policy(settings: Settings | None = None) -> TrackingPolicy:
    return policy_for(settings or get_settings())


# ----------------------------------------------------------------------------------------------------------------
# Sites
# ----------------------------------------------------------------------------------------------------------------


def snippet_tag(site_key: str, base_url: str = "") -> str:
    return f'<script src="{base_url.rstrip("/")}/t.js" data-site="{site_key}" defer></script>'


def create_site(session: Session, body: SiteCreate, *, actor: str) -> tuple[TrackingSite, str]:
    """A new site with a fresh public key and secret (the secret is returned once, stored encrypted)."""
    if session.scalar(select(TrackingSite.id).where(TrackingSite.name == body.name)) is not None:
        raise ValidationFailedError(f"a tracking site named {body.name!r} exists",
                                    [{"row": None, "field": "name", "message": "already taken"}])
    portfolio_id = None
    if body.portfolio:
        portfolio_id = session.scalar(select(Portfolio.id).where(Portfolio.name == body.portfolio))
        if portfolio_id is None:
            raise ValidationFailedError(f"no portfolio {body.portfolio!r}",
                                        [{"row": None, "field": "portfolio", "message": "no such portfolio"}])
    secret = secrets.token_hex(32)
    site = TrackingSite(name=body.name, site_key="us_" + secrets.token_urlsafe(18).replace("-", "_"),
                        secret_encrypted=get_key_ring().encrypt(secret, context=_SECRET_CONTEXT),
                        allowed_origins=body.allowed_origins, portfolio_id=portfolio_id, active=True,
                        created_by=actor)
    session.add(site)
    session.flush()
    audit.record(session, actor=actor, action="tracking.site.created", entity_type="tracking_site",
                 entity_id=site.id, details={"name": site.name, "allowed_origins": site.allowed_origins})
    return site, secret


def list_sites(session: Session) -> list[TrackingSite]:
    return list(session.scalars(select(TrackingSite).order_by(TrackingSite.name)))


def site_by_key(session: Session, site_key: str) -> TrackingSite:
    site = session.scalar(select(TrackingSite).where(TrackingSite.site_key == site_key))
    if site is None or not site.active:
        raise PermissionDeniedError("unknown or inactive site key")
    return site


def origin_allowed(site: TrackingSite, origin: str | None) -> bool:
    """A call without an Origin header comes from a server (the portal's backend): allowed. A browser's call must
    come from one of the site's own origins."""
    return origin is None or origin.lower().rstrip("/") in site.allowed_origins


def any_site_allows(session: Session, origin: str) -> bool:
    origin = origin.lower().rstrip("/")
    return any(origin in (origins or []) for origins in
               session.scalars(select(TrackingSite.allowed_origins).where(TrackingSite.active.is_(True))))


def site_secret(site: TrackingSite) -> str:
    return get_key_ring().decrypt(site.secret_encrypted, context=_SECRET_CONTEXT)


def user_hash(secret: str, value: str) -> str:
    """What the portal's server computes after login: HMAC-SHA256 of the external id (or lower-cased e-mail)."""
    return hmac.new(secret.encode(), value.strip().encode(), hashlib.sha256).hexdigest()


# ----------------------------------------------------------------------------------------------------------------
# Signed links
# ----------------------------------------------------------------------------------------------------------------


def _link_key(settings: Settings) -> bytes:
    return hmac.new(settings.secret_key.get_secret_value().encode(), _LINK_PURPOSE, hashlib.sha256).digest()


def make_link_token(lead_id: uuid.UUID, *, days: int = 30, now: datetime | None = None,
                    settings: Settings | None = None) -> str:
    """A token to put in a link to the portal (``?upswing_t=…``): it identifies the lead for ``days`` days."""
    settings = settings or get_settings()
    expires = int(((now or utcnow()) + timedelta(days=days)).timestamp())
    body = base64.urlsafe_b64encode(f"{lead_id}.{expires}".encode()).decode().rstrip("=")
    signature = hmac.new(_link_key(settings), body.encode(), hashlib.sha256).hexdigest()[:32]
    return f"{body}.{signature}"


def verify_link_token(token: str, *, now: datetime | None = None, settings: Settings | None = None) -> uuid.UUID:
    settings = settings or get_settings()
    body, _, signature = token.rpartition(".")
    expected = hmac.new(_link_key(settings), body.encode(), hashlib.sha256).hexdigest()[:32]
    invalid = ValidationFailedError("link_token: not a valid link token",
                                    [{"row": None, "field": "link_token", "message": "invalid or expired"}])
    if not body or not hmac.compare_digest(signature, expected):
        raise invalid
    try:
        lead_part, _, expires = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode().partition(".")
        lead_id, expires_at = uuid.UUID(lead_part), int(expires)
    except (ValueError, UnicodeDecodeError) as exc:
        raise invalid from exc
    if expires_at < (now or utcnow()).timestamp():
        raise invalid
    return lead_id


# ----------------------------------------------------------------------------------------------------------------
# The calls
# ----------------------------------------------------------------------------------------------------------------


def clean_path(path: str | None) -> str | None:
    """The path only: no scheme, host, query string or fragment; segments that may name someone are masked."""
    if not path:
        return None
    parts = urlsplit(path.strip())
    raw = parts.path or "/"
    segments = [_REDACTED if _SENSITIVE_SEGMENT.search(s) else s for s in raw.split("/")]
    cleaned = "/".join(segments)
    return (cleaned if cleaned.startswith("/") else "/" + cleaned)[:300]


def visitor_hash(site_id: uuid.UUID, anonymous_id: str) -> str:
    """Keyed hash of the site and the browser's id: the id itself is never stored, and the same browser on two
    sites gives two unrelated hashes (no cross-site linking)."""
    return get_key_ring().blind_index(f"{site_id}:{anonymous_id}", kind="tracking_visitor")


def _count(session: Session, site: TrackingSite, day: date, group: str) -> None:
    insert: Any = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(TrackingDailyCount).values(site_id=site.id, day=day, path_group=group, count=1)
    session.execute(statement.on_conflict_do_update(
        index_elements=[TrackingDailyCount.site_id, TrackingDailyCount.day, TrackingDailyCount.path_group],
        set_={"count": TrackingDailyCount.count + 1}))


def _open_visitor(session: Session, site: TrackingSite, anonymous_id: str, consent: str,
                  now: datetime) -> TrackingVisitor:
    digest = visitor_hash(site.id, anonymous_id)
    query = select(TrackingVisitor).where(TrackingVisitor.site_id == site.id, TrackingVisitor.visitor_hash == digest,
                                          TrackingVisitor.superseded_at.is_(None))
    visitor = session.scalar(query)
    if visitor is None:
        # The snippet's first calls after consent arrive together: the database settles which one creates the row
        # (the partial unique index), the others find it.
        insert: Any = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        session.execute(insert(TrackingVisitor).values(
            id=uuid.uuid4(), site_id=site.id, visitor_hash=digest, consent=consent, first_seen_at=now,
            last_seen_at=now).on_conflict_do_nothing(index_elements=[TrackingVisitor.site_id,
                                                                     TrackingVisitor.visitor_hash],
                                                     index_where=TrackingVisitor.superseded_at.is_(None)))
        visitor = session.scalars(query.execution_options(populate_existing=True)).one()
    else:
        visitor.last_seen_at = max(visitor.last_seen_at, now)
        visitor.consent = consent
    return visitor


def opted_out_leads(session: Session, lead_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    """Leads that said "Do Not Sell or Share" (a completed opt-out request names them): no behaviour is kept."""
    wanted = {str(i) for i in lead_ids}
    if not wanted:
        return set()
    found: set[uuid.UUID] = set()
    for ids in session.scalars(select(DataSubjectRequest.subject_lead_ids).where(
            DataSubjectRequest.type == RequestType.OPT_OUT.value,
            DataSubjectRequest.status == RequestStatus.COMPLETED.value)):
        found |= {uuid.UUID(i) for i in (ids or []) if i in wanted}
    return found


@dataclass
class CallOutcome:
    stored: str
    dropped_properties: list[str]
    visitor_id: uuid.UUID | None = None


def record_event(session: Session, site: TrackingSite, call: PageCall | TrackCall, *, now: datetime | None = None,
                 policy: TrackingPolicy | None = None) -> CallOutcome:
    """A page view or action. Without (valid) consent only the anonymous daily count grows."""
    policy = policy or current_policy()
    now = now or utcnow()
    at = min(call.occurred_at or now, now)
    path = clean_path(call.path)
    group = policy.path_group(path)
    if call.consent == CONSENT_NONE or not policy.consented(call.consent) or call.anonymous_id is None:
        _count(session, site, now.date(), group)
        return CallOutcome("count", [])
    visitor = _open_visitor(session, site, call.anonymous_id, call.consent, now)
    if visitor.lead_id is not None and opted_out_leads(session, [visitor.lead_id]):
        return CallOutcome("dropped", [], visitor.id)
    properties: dict[str, Any] = {}
    dropped: list[str] = []
    if isinstance(call, TrackCall):
        properties, dropped = policy.filter_properties(call.properties)
        type_, name = EventType.TRACK.value, call.name
    else:
        type_, name = EventType.PAGE.value, group
    session.add(TrackingEvent(visitor_id=visitor.id, type=type_, name=name, path=path, path_group=group,
                              properties=properties, occurred_at=at, received_at=now))
    session.flush()
    if visitor.lead_id is not None:
        raise_engagement_signal(session, visitor.lead_id, now=now, policy=policy)
    return CallOutcome("event", dropped, visitor.id)


def identify(session: Session, site: TrackingSite, call: IdentifyCall, *, now: datetime | None = None,
             policy: TrackingPolicy | None = None, settings: Settings | None = None) -> CallOutcome:
    """Link the consenting visitor to a lead (merge rules in the module docstring). Without consent: nothing."""
    policy = policy or current_policy(settings)
    now = now or utcnow()
    if call.consent == CONSENT_NONE or not policy.consented(call.consent) or call.anonymous_id is None:
        return CallOutcome("nothing", [])
    lead, method = _identified_lead(session, site, call, now=now, settings=settings)
    visitor = _open_visitor(session, site, call.anonymous_id, call.consent, now)
    actor = f"tracking:{site.name}"
    if visitor.lead_id == lead.id:
        return CallOutcome("linked", [], visitor.id)
    if visitor.lead_id is not None:
        previous = visitor
        previous.superseded_at = now
        session.flush()
        visitor = TrackingVisitor(site_id=site.id, visitor_hash=previous.visitor_hash, consent=call.consent,
                                  first_seen_at=now, last_seen_at=now)
        session.add(visitor)
        session.flush()
        audit.record(session, actor=actor, action="tracking.visitor.split", entity_type="tracking_visitor",
                     entity_id=visitor.id, details={"previous_visitor_id": str(previous.id),
                                                    "previous_lead_id": str(previous.lead_id),
                                                    "lead_id": str(lead.id), "site_id": str(site.id)})
    merged = session.scalar(select(func.count()).select_from(TrackingEvent)
                            .where(TrackingEvent.visitor_id == visitor.id)) or 0
    visitor.lead_id, visitor.link_method, visitor.linked_at = lead.id, method, now
    opted_out = bool(opted_out_leads(session, [lead.id]))
    if opted_out:  # Do Not Sell or Share: the link is kept only to drop this browser's behaviour from now on
        session.execute(delete(TrackingEvent).where(TrackingEvent.visitor_id == visitor.id))
    session.flush()
    audit.record(session, actor=actor, action="tracking.visitor.linked", entity_type="tracking_visitor",
                 entity_id=visitor.id, details={"lead_id": str(lead.id), "method": method, "site_id": str(site.id),
                                                "events_merged": 0 if opted_out else merged,
                                                "events_dropped_opt_out": merged if opted_out else 0})
    if not opted_out:
        raise_engagement_signal(session, lead.id, now=now, policy=policy)
    return CallOutcome("linked", [], visitor.id)


def _identified_lead(session: Session, site: TrackingSite, call: IdentifyCall, *, now: datetime,
                     settings: Settings | None) -> tuple[Lead, str]:
    not_found = ValidationFailedError("identify: no such lead for this site",
                                      [{"row": None, "field": "external_id" if call.email is None else "email",
                                        "message": "no lead matches"}])
    if call.link_token is not None:
        lead = session.get(Lead, verify_link_token(call.link_token, now=now, settings=settings))
        if lead is None:
            raise ValidationFailedError("link_token: the lead no longer exists",
                                        [{"row": None, "field": "link_token", "message": "no such lead"}])
        return lead, LinkMethod.LINK_TOKEN.value
    value = call.external_id if call.external_id is not None else (call.email or "").strip().lower()
    if not hmac.compare_digest(user_hash(site_secret(site), value), call.user_hash or ""):
        raise PermissionDeniedError("user_hash does not verify: the portal's server must sign the login")
    query = select(Lead).where(Lead.merged_into_id.is_(None))
    if site.portfolio_id is not None:
        query = query.where(Lead.portfolio_id == site.portfolio_id)
    if call.external_id is not None:
        query = query.where(Lead.external_id == call.external_id)
    else:
        query = query.where(lead_queries.has_email(session, value))
    leads = list(session.scalars(query.limit(2)))
    if len(leads) != 1:  # none, or ambiguous (the same id in two portfolios): never guess who someone is
        raise not_found
    return leads[0], LinkMethod.LOGIN.value


# ----------------------------------------------------------------------------------------------------------------
# Engagement → portal_engagement signals
# ----------------------------------------------------------------------------------------------------------------


def lead_engagement(session: Session, lead_id: uuid.UUID, *, now: datetime | None = None,
                    policy: TrackingPolicy | None = None) -> Engagement:
    """The lead's engagement over the window (matching's behaviour factor may read this directly)."""
    policy = policy or current_policy()
    now = now or utcnow()
    rows = session.execute(
        select(TrackingEvent.type, TrackingEvent.name, TrackingEvent.path_group, TrackingEvent.occurred_at)
        .join(TrackingVisitor, TrackingVisitor.id == TrackingEvent.visitor_id)
        .where(TrackingVisitor.lead_id == lead_id,
               TrackingEvent.occurred_at >= now - timedelta(days=policy.window_days))
        .order_by(TrackingEvent.occurred_at).limit(5000)).all()
    return policy.engagement([(r.type, r.name, r.path_group, r.occurred_at) for r in rows], now)


def _week(now: datetime) -> str:
    year, week, _ = now.isocalendar()
    return f"{year}-W{week:02d}"


def raise_engagement_signal(session: Session, lead_id: uuid.UUID, *, now: datetime | None = None,
                            policy: TrackingPolicy | None = None) -> uuid.UUID | None:
    """A ``portal_engagement`` signal through the normal signal path when the lead's engagement reaches the
    threshold: at most one per lead and ISO week, never for an opted-out lead. Returns the signal's id."""
    policy = policy or current_policy()
    now = now or utcnow()
    week = _week(now)
    content_hash = hashlib.sha256(f"tracking:{lead_id}:{week}".encode()).hexdigest()
    if session.scalar(select(Observation.id).where(Observation.content_hash == content_hash)) is not None:
        return None
    engagement = lead_engagement(session, lead_id, now=now, policy=policy)
    if engagement.strength < policy.signal_min_strength or opted_out_leads(session, [lead_id]):
        return None
    counts = engagement.counts
    summary = (f"Portal engagement {engagement.strength:.2f} over {engagement.window_days} days: "
               f"{counts['repayment_view']} repayment page view(s), {counts['hardship_view']} hardship page "
               f"view(s), {counts['calculator_use']} calculator use(s), {counts['return_visit']} return visit(s)")
    source = get_or_create_source(session, SOURCE_SLUG, connector="first_party_tracking",
                                  name="Borrower portal (consented first-party tracking)",
                                  legal_basis="The visitor's consent on the lender's own site (first party only)")
    observation = Observation(source_id=source.id, lead_id=lead_id, kind=ObservationKind.TEXT.value, raw={},
                              normalized={"title": f"Portal engagement {week}", "text": summary,
                                          "engagement": engagement.details(), "week": week},
                              content_hash=content_hash, observed_at=now, last_observed_at=now, shape="tracking")
    session.add(observation)
    session.flush()
    event = CandidateEvent(type=SignalType.PORTAL_ENGAGEMENT, identity=f"week:{week}",
                           confidence=max(0.01, min(0.99, engagement.strength)), snippet=summary,
                           title=f"Portal engagement {week}", effective_date=now.date(),
                           details={k: str(v) for k, v in counts.items()})
    upsert_events(session, [SightedEvent(lead_id, observation.id, None, event, kind=EvidenceKind.TEXT,
                                         source=SOURCE_SLUG, observed_at=now)], now=now)
    return session.scalar(select(Signal.id).where(Signal.lead_id == lead_id,
                                                  Signal.type == SignalType.PORTAL_ENGAGEMENT.value,
                                                  Signal.title == f"Portal engagement {week}"))


def forget_behaviour(session: Session, lead_ids: Sequence[uuid.UUID], *, actor: str) -> int:
    """Do Not Sell or Share: delete the leads' behaviour events (their visitors stay linked so that later events
    are dropped). Returns the number of events deleted."""
    if not lead_ids:
        return 0
    visitor_ids = select(TrackingVisitor.id).where(TrackingVisitor.lead_id.in_(lead_ids)).scalar_subquery()
    result = session.execute(delete(TrackingEvent).where(TrackingEvent.visitor_id.in_(visitor_ids)))
    deleted = int(getattr(result, "rowcount", 0) or 0)
    audit.record(session, actor=actor, action="tracking.behaviour.forgotten", entity_type="lead",
                 entity_id=None, details={"lead_ids": [str(i) for i in lead_ids], "events": deleted})
    return deleted


# ----------------------------------------------------------------------------------------------------------------
# Profiles
# ----------------------------------------------------------------------------------------------------------------


def _profile_query(user: User | None) -> Any:
    query = (select(TrackingVisitor, TrackingSite.name, Lead.external_id, Lead.first_name, Lead.middle_name,
                    Lead.last_name)
             .join(TrackingSite, TrackingSite.id == TrackingVisitor.site_id)
             .join(Lead, Lead.id == TrackingVisitor.lead_id))
    if user is not None:
        query = query.where(visible_leads_clause(user))
    return query


def _event_counts(session: Session, visitor_ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[int, int]]:
    """(events, page views) of these visitors only (a page of them: never a count over every event)."""
    if not visitor_ids:
        return {}
    rows = session.execute(
        select(TrackingEvent.visitor_id, func.count(),
               func.sum(case((TrackingEvent.type == EventType.PAGE.value, 1), else_=0)))
        .where(TrackingEvent.visitor_id.in_(visitor_ids)).group_by(TrackingEvent.visitor_id))
    return {row[0]: (int(row[1] or 0), int(row[2] or 0)) for row in rows}


def _read(row: Any, counts: dict[uuid.UUID, tuple[int, int]]) -> ProfileRead:
    visitor: TrackingVisitor = row[0]
    events, pages = counts.get(visitor.id, (0, 0))
    assert visitor.lead_id is not None
    return ProfileRead(id=visitor.id, site_id=visitor.site_id, site_name=row[1], lead_id=visitor.lead_id,
                       lead_external_id=row[2], lead_name=full_name(row[3], row[4], row[5]),
                       link_method=visitor.link_method, linked_at=visitor.linked_at,
                       first_seen_at=visitor.first_seen_at, last_seen_at=visitor.last_seen_at, events=events,
                       page_views=pages, actions=events - pages)


def page_profiles(session: Session, filters: ProfileFilters, *, user: User | None) -> list[ProfileRead]:
    """Linked visitors (of the leads the user may see), most recently seen first."""
    query = _profile_query(user)
    if filters.lead_id is not None:
        query = query.where(TrackingVisitor.lead_id == filters.lead_id)
    if filters.site_id is not None:
        query = query.where(TrackingVisitor.site_id == filters.site_id)
    if filters.seen_since is not None:
        query = query.where(TrackingVisitor.last_seen_at >= filters.seen_since)
    query = query.order_by(TrackingVisitor.last_seen_at.desc(), TrackingVisitor.id).limit(filters.limit) \
        .offset(filters.offset)
    rows = session.execute(query).all()
    counts = _event_counts(session, [row[0].id for row in rows])
    return [_read(row, counts) for row in rows]


def get_profile(session: Session, visitor_id: uuid.UUID, *, user: User | None,
                now: datetime | None = None) -> ProfileDetail:
    row = session.execute(_profile_query(user).where(TrackingVisitor.id == visitor_id)).first()
    if row is None:
        raise NotFoundError(f"tracking profile {visitor_id} not found")
    base = _read(row, _event_counts(session, [visitor_id]))
    if user is not None:
        visible_lead(session, base.lead_id, user)
    events = session.scalars(select(TrackingEvent).where(TrackingEvent.visitor_id == visitor_id)
                             .order_by(TrackingEvent.occurred_at.desc(), TrackingEvent.id).limit(500))
    engagement = lead_engagement(session, base.lead_id, now=now)
    return ProfileDetail(**base.model_dump(), timeline=[TimelineEvent.model_validate(e) for e in events],
                         engagement_strength=engagement.strength, engagement_counts=engagement.counts)


# ----------------------------------------------------------------------------------------------------------------
# Retention
# ----------------------------------------------------------------------------------------------------------------


@dataclass
class PurgeResult:
    events: int
    visitors: int
    daily_counts: int
    cutoff: datetime


def purge(session: Session, *, now: datetime | None = None, dry_run: bool = False,
          policy: TrackingPolicy | None = None) -> PurgeResult:
    """Events older than the retention, visitors not seen within it (with their events), daily counts older than
    twice it. Idempotent; audited."""
    policy = policy or current_policy()
    now = now or utcnow()
    cutoff = now - timedelta(days=policy.retention_days)
    counts_cutoff = (now - timedelta(days=2 * policy.retention_days)).date()
    old_visitors = select(TrackingVisitor.id).where(TrackingVisitor.last_seen_at < cutoff)
    event_filter = (TrackingEvent.occurred_at < cutoff) | TrackingEvent.visitor_id.in_(old_visitors)
    events = session.scalar(select(func.count()).select_from(TrackingEvent).where(event_filter)) or 0
    visitors = session.scalar(select(func.count()).select_from(TrackingVisitor)
                              .where(TrackingVisitor.last_seen_at < cutoff)) or 0
    daily = session.scalar(select(func.count()).select_from(TrackingDailyCount)
                           .where(TrackingDailyCount.day < counts_cutoff)) or 0
    if not dry_run:
        session.execute(delete(TrackingEvent).where(event_filter))
        session.execute(delete(TrackingVisitor).where(TrackingVisitor.last_seen_at < cutoff))
        session.execute(delete(TrackingDailyCount).where(TrackingDailyCount.day < counts_cutoff))
        audit.record(session, actor="system", action="tracking.purge", entity_type="tracking",
                     details={"events": events, "visitors": visitors, "daily_counts": daily,
                              "cutoff": cutoff.isoformat(), "retention_days": policy.retention_days})
    return PurgeResult(events, visitors, daily, cutoff)


def site_stats(session: Session, site_id: uuid.UUID, *, now: datetime | None = None) -> SiteStats:
    site = session.get(TrackingSite, site_id)
    if site is None:
        raise NotFoundError(f"tracking site {site_id} not found")
    since = ((now or utcnow()) - timedelta(days=30)).date()
    daily = [DailyCountRead(day=c.day, path_group=c.path_group, count=c.count) for c in session.scalars(
        select(TrackingDailyCount).where(TrackingDailyCount.site_id == site_id, TrackingDailyCount.day >= since)
        .order_by(TrackingDailyCount.day.desc(), TrackingDailyCount.path_group))]
    visitors, linked = session.execute(
        select(func.count(), func.count(TrackingVisitor.lead_id)).where(TrackingVisitor.site_id == site_id)).one()
    events = session.scalar(select(func.count()).select_from(TrackingEvent).join(
        TrackingVisitor, TrackingVisitor.id == TrackingEvent.visitor_id).where(TrackingVisitor.site_id == site_id))
    return SiteStats(site_id=site_id, daily_counts=daily, visitors=visitors, linked_visitors=linked,
                     events=events or 0)
