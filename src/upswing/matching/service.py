"""Matchmaking: score the catalog's active services for leads (facts loaded in bulk), store the eligible matches,
read them ranked, change their status, recommend, and find similar leads.

Facts are loaded a chunk of leads at a time with one query for the leads and one for their recent signals (no
query per lead or per service); scoring is ``matching.scoring`` (pure). Services never commit: the request, the
command, the task or the event consumer does.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.orm import Session

from upswing.account.models import User
from upswing.audit.service import record
from upswing.core.bulk import bulk_insert
from upswing.core.db import utcnow
from upswing.core.errors import NotFoundError, ValidationFailedError
from upswing.geo.distance import within_clause
from upswing.lead.access import visible_lead, visible_leads_clause
from upswing.lead.models import Lead, full_name
from upswing.matching import scoring, similarity
from upswing.matching.models import MatchStatus, ServiceMatch
from upswing.matching.schemas import (
    ComputeReport,
    ServiceLead,
    ServiceLeadFilters,
    ServiceLeadPage,
    ServiceMatchRead,
    SimilarLead,
    SimilarLeads,
)
from upswing.service_catalog.models import Service
from upswing.service_catalog.service import active_services, get_service
from upswing.signal.models import Signal, SignalStatus

#: Leads scored per chunk (two queries load a chunk's facts).
CHUNK = 500


def service_facts(service: Service) -> scoring.ServiceFacts:
    def number(value: Any) -> float | None:
        return None if value is None else float(value)

    return scoring.ServiceFacts(
        service_id=service.id, name=service.name, category=service.category, states=frozenset(service.states or ()),
        region_codes=frozenset(service.region_codes or ()), local_radius_km=service.local_radius_km,
        center_latitude=service.center_latitude, center_longitude=service.center_longitude,
        balance_min=number(service.balance_min), balance_max=number(service.balance_max),
        days_delinquent_min=service.days_delinquent_min, days_delinquent_max=service.days_delinquent_max,
        employment_states=frozenset(service.employment_states or ()),
        signal_types=frozenset(service.signal_types or ()), industries=frozenset(service.industries or ()),
        need_profile={str(k): float(v) for k, v in (service.need_profile or {}).items()})


def load_lead_facts(session: Session, lead_ids: Sequence[uuid.UUID], today: date) -> dict[uuid.UUID, scoring.LeadFacts]:
    """The facts scoring reads, for these leads: two queries (leads, and their signals of the last year)."""
    if not lead_ids:
        return {}
    since = datetime.combine(today - timedelta(days=scoring.RECENT_DAYS), datetime.min.time(), tzinfo=UTC)
    signals: dict[uuid.UUID, list[scoring.SignalFact]] = defaultdict(list)
    for row in session.execute(
            select(Signal.lead_id, Signal.type, Signal.effective_date, Signal.detected_at, Signal.confidence)
            .where(Signal.lead_id.in_(lead_ids), Signal.detected_at >= since,
                   Signal.status != SignalStatus.DISMISSED.value)):
        signals[row.lead_id].append(scoring.SignalFact(
            row.type, scoring.age_days(row.effective_date, row.detected_at.date(), today), float(row.confidence)))
    facts: dict[uuid.UUID, scoring.LeadFacts] = {}
    for lead in session.execute(
            select(Lead.id, Lead.state, Lead.region_code, Lead.country, Lead.latitude, Lead.longitude, Lead.balance,
                   Lead.days_delinquent, Lead.employer, Lead.company_about).where(Lead.id.in_(lead_ids))):
        facts[lead.id] = scoring.LeadFacts(
            lead_id=lead.id, state=lead.state, region_code=lead.region_code, country=lead.country,
            latitude=lead.latitude, longitude=lead.longitude,
            balance=None if lead.balance is None else float(lead.balance), days_delinquent=lead.days_delinquent,
            industry=scoring.infer_industry(lead.employer, lead.company_about), employer=lead.employer,
            signals=tuple(sorted(signals.get(lead.id, ()), key=lambda s: (s.age_days, s.type))))
    return facts


def _chunks(items: Sequence[uuid.UUID], size: int) -> Iterable[Sequence[uuid.UUID]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def compute_matches(session: Session, lead_ids: Sequence[uuid.UUID], *, today: date | None = None,
                    services: Sequence[Service] | None = None, chunk: int = CHUNK) -> ComputeReport:
    """Score every active service for these leads and store the result: eligible matches are added or updated;
    a proposed match the lead is no longer eligible for is removed (an accepted, rejected or converted one is
    kept, with its new score). Idempotent: the same facts give the same rows."""
    today = today or utcnow().date()
    catalog = list(services) if services is not None else active_services(session, today)
    facts_of = [service_facts(service) for service in catalog]
    report = ComputeReport(leads=0, services=len(catalog), scored=0, stored=0, removed=0)
    now = utcnow()
    for part in _chunks(list(dict.fromkeys(lead_ids)), chunk):
        facts = load_lead_facts(session, part, today)
        report.leads += len(facts)
        existing = {(row.lead_id, row.service_id): row for row in session.execute(
            select(ServiceMatch.id, ServiceMatch.lead_id, ServiceMatch.service_id, ServiceMatch.status,
                   ServiceMatch.score, ServiceMatch.breakdown, ServiceMatch.reasons)
            .where(ServiceMatch.lead_id.in_(list(facts))))} if facts_of else {}
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        removed: list[uuid.UUID] = []
        for lead in facts.values():
            for match in scoring.score_lead(lead, facts_of):
                report.scored += 1
                old = existing.get((match.lead_id, match.service_id))
                if old is None:
                    if match.eligible:
                        inserts.append({"id": uuid.uuid4(), "lead_id": match.lead_id, "service_id": match.service_id,
                                        "score": match.score, "breakdown": match.breakdown, "reasons": match.reasons,
                                        "status": MatchStatus.PROPOSED.value, "computed_at": now,
                                        "status_changed_by": None, "status_changed_at": None})
                elif not match.eligible and old.status == MatchStatus.PROPOSED.value:
                    removed.append(old.id)
                elif (old.score, old.breakdown, old.reasons) != (match.score, match.breakdown, match.reasons):
                    updates.append({"id": old.id, "score": match.score, "breakdown": match.breakdown,
                                    "reasons": match.reasons, "computed_at": now})
        bulk_insert(session, ServiceMatch.__table__, inserts)  # type: ignore[arg-type]
        if updates:
            session.execute(update(ServiceMatch), updates)
        if removed:
            session.execute(delete(ServiceMatch).where(ServiceMatch.id.in_(removed)))
        report.stored += len(inserts) + len(updates)
        report.removed += len(removed)
    session.flush()
    return report


def compute_for_lead(session: Session, lead_id: uuid.UUID, *, user: User | None) -> list[ServiceMatchRead]:
    visible_lead(session, lead_id, user)
    compute_matches(session, [lead_id])
    return lead_matches(session, lead_id, user=user)


# --------------------------------------------------------------------------------------------------
# Reading


def _read(row: ServiceMatch, service: Service) -> ServiceMatchRead:
    return ServiceMatchRead(id=row.id, lead_id=row.lead_id, service_id=row.service_id, service_name=service.name,
                     category=service.category, score=row.score, breakdown=row.breakdown, reasons=row.reasons,
                     status=MatchStatus(row.status), computed_at=row.computed_at,
                     status_changed_by=row.status_changed_by, status_changed_at=row.status_changed_at)


def _rank_key(item: ServiceMatchRead) -> tuple[Any, ...]:
    return (-item.score, -item.breakdown.get("need", 0.0), item.service_name, str(item.service_id))


def lead_matches(session: Session, lead_id: uuid.UUID, *, user: User | None,
                 where: Sequence[ColumnElement[bool]] = ()) -> list[ServiceMatchRead]:
    """The lead's stored matches, ranked (score, then need, then the service's name and id)."""
    visible_lead(session, lead_id, user)
    rows = session.execute(select(ServiceMatch, Service).join(Service, Service.id == ServiceMatch.service_id)
                           .where(ServiceMatch.lead_id == lead_id, *where)).all()
    return sorted((_read(match, service) for match, service in rows), key=_rank_key)


def recommendations(session: Session, lead_id: uuid.UUID, *, user: User | None, limit: int = 5,
                    today: date | None = None) -> list[ServiceMatchRead]:
    """The top active services for the lead, with reasons, rejected ones left out: from the stored matches (kept
    current by the signal consumer); for a lead never matched, scored now (not stored)."""
    today = today or utcnow().date()
    lead = visible_lead(session, lead_id, user)
    catalog = {service.id: service for service in active_services(session, today)}
    stored = session.scalars(select(ServiceMatch).where(ServiceMatch.lead_id == lead.id)).all()
    if stored:
        items = [_read(row, catalog[row.service_id]) for row in stored
                 if row.service_id in catalog and row.status != MatchStatus.REJECTED.value]
        return sorted(items, key=_rank_key)[:limit]
    facts = load_lead_facts(session, [lead.id], today)[lead.id]
    scores = scoring.score_lead(facts, [service_facts(service) for service in catalog.values()])
    return [ServiceMatchRead(id=None, lead_id=lead.id, service_id=m.service_id, service_name=m.service_name,
                      category=catalog[m.service_id].category, score=m.score, breakdown=m.breakdown,
                      reasons=m.reasons, status=MatchStatus.PROPOSED, computed_at=None)
            for m in scores if m.eligible][:limit]


def service_leads(session: Session, service_id: uuid.UUID, filters: ServiceLeadFilters, *,
                  user: User | None) -> ServiceLeadPage:
    """The service's matched leads the user may see, best first (score, then the lead's external id)."""
    get_service(session, service_id)
    try:
        point = filters.point()
    except ValueError as exc:
        raise ValidationFailedError(str(exc), [{"row": None, "field": "near", "message": str(exc)}]) from None
    if (point is None) != (filters.radius_km is None):
        field = "radius_km" if point is not None else "near"
        raise ValidationFailedError(f"{field}: near and radius_km go together",
                                    [{"row": None, "field": field, "message": "give both near and radius_km"}])
    where: list[ColumnElement[bool]] = [ServiceMatch.service_id == service_id,
                                        ServiceMatch.score >= filters.min_match_score]
    if user is not None:
        where.append(visible_leads_clause(user))
    if filters.status is not None:
        where.append(ServiceMatch.status == filters.status.value)
    if filters.state is not None:
        where.append(Lead.state == filters.state)
    columns: list[Any] = [ServiceMatch, Lead.external_id, Lead.first_name, Lead.middle_name, Lead.last_name,
                          Lead.state, Lead.city]
    if point is not None and filters.radius_km is not None:
        condition, distance = within_clause(Lead.latitude, Lead.longitude, point[0], point[1], filters.radius_km,
                                            session.get_bind().dialect.name)
        where.append(condition)
        columns.append(distance.label("distance"))
    rows = session.execute(select(*columns).join(Lead, Lead.id == ServiceMatch.lead_id).where(*where)
                           .order_by(ServiceMatch.score.desc(), Lead.external_id, ServiceMatch.id)
                           .limit(filters.limit).offset(filters.offset)).all()
    items = [ServiceLead(match_id=row[0].id, lead_id=row[0].lead_id, external_id=row.external_id,
                         name=full_name(row.first_name, row.middle_name, row.last_name), state=row.state,
                         city=row.city, score=row[0].score, status=MatchStatus(row[0].status),
                         reasons=row[0].reasons,
                         distance_km=round(float(row.distance), 3) if point is not None else None)
             for row in rows]
    return ServiceLeadPage(items=items, limit=filters.limit, offset=filters.offset)


def set_status(session: Session, match_id: uuid.UUID, status: MatchStatus, *, user: User | None,
               actor: str) -> ServiceMatchRead:
    """Accept, reject, convert (or re-propose) a match; audited."""
    match = session.get(ServiceMatch, match_id)
    if match is None:
        raise NotFoundError(f"match {match_id} not found")
    try:
        visible_lead(session, match.lead_id, user)
    except NotFoundError:
        raise NotFoundError(f"match {match_id} not found") from None
    if match.status != status.value:
        previous = match.status
        match.status = status.value
        match.status_changed_by = actor
        match.status_changed_at = utcnow()
        record(session, actor=actor, action="service_match.status", entity_type="lead", entity_id=match.lead_id,
               details={"match_id": str(match.id), "service_id": str(match.service_id), "from": previous,
                        "to": status.value})
        session.flush()
    return _read(match, get_service(session, match.service_id))


# --------------------------------------------------------------------------------------------------
# Similar leads


@dataclass(frozen=True, slots=True)
class _Row:
    id: uuid.UUID
    external_id: str
    name: str
    state: str | None
    vector: Any


def similar_leads(session: Session, lead_id: uuid.UUID, *, user: User | None, k: int = 10,
                  candidates: int = 50_000) -> SimilarLeads:
    """The ``k`` leads nearest to this one by the feature vector (``matching.similarity``), among the leads the
    user may see (at most ``candidates`` of them, most delinquent first). Two queries: leads, signal counts."""
    target = visible_lead(session, lead_id, user)
    where: list[ColumnElement[bool]] = [Lead.merged_into_id.is_(None)]
    if user is not None:
        where.append(visible_leads_clause(user))
    leads = session.execute(select(Lead.id, Lead.external_id, Lead.first_name, Lead.middle_name, Lead.last_name,
                                   Lead.state, Lead.balance, Lead.days_delinquent, Lead.latitude, Lead.longitude)
                            .where(*where).order_by(Lead.days_delinquent.desc(), Lead.id).limit(candidates)).all()
    ids = [row.id for row in leads]
    if target.id not in ids:
        ids.append(target.id)
    counts: dict[uuid.UUID, dict[str, int]] = defaultdict(dict)
    for start in range(0, len(ids), 5000):
        for row in session.execute(select(Signal.lead_id, Signal.type, func.count()).where(
                Signal.lead_id.in_(ids[start:start + 5000]), Signal.status != SignalStatus.DISMISSED.value)
                .group_by(Signal.lead_id, Signal.type)):
            counts[row[0]][row[1]] = int(row[2])

    def vector_of(balance: Any, days: int | None, lat: float | None, lng: float | None,
                  key: uuid.UUID) -> Any:
        return similarity.vector(None if balance is None else float(balance), days, lat, lng, counts.get(key, {}))

    target_vector = vector_of(target.balance, target.days_delinquent, target.latitude, target.longitude, target.id)
    others = [_Row(row.id, row.external_id, full_name(row.first_name, row.middle_name, row.last_name), row.state,
                   vector_of(row.balance, row.days_delinquent, row.latitude, row.longitude, row.id))
              for row in leads if row.id != target.id]
    by_key = {str(row.id): row for row in others}
    matrix = np.vstack([row.vector for row in others]) if others else np.zeros((0, len(similarity.WEIGHTS)))
    nearest = similarity.nearest(target_vector, matrix, [str(row.id) for row in others], k)
    return SimilarLeads(lead_id=target.id, components=list(similarity.COMPONENTS), items=[
        SimilarLead(lead_id=by_key[key].id, external_id=by_key[key].external_id, name=by_key[key].name,
                    state=by_key[key].state, distance=round(distance, 6)) for key, distance in nearest])


def lead_ids_to_match(session: Session, *, after: uuid.UUID | None = None, limit: int = 5000) -> list[uuid.UUID]:
    """A page of the book's lead ids (not merged), by id: the daily recompute walks the book with it."""
    query = select(Lead.id).where(Lead.merged_into_id.is_(None)).order_by(Lead.id).limit(limit)
    if after is not None:
        query = query.where(Lead.id > after)
    return list(session.scalars(query))
