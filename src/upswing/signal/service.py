"""Turning candidate events into signals (one per real event), scoring them, and the signal lifecycle."""

from __future__ import annotations

import hashlib
import uuid
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, Integer, Table, Uuid, and_, literal, or_, select, true, tuple_, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from upswing.account.models import Role, Team, User
from upswing.audit import service as audit
from upswing.core import outbox
from upswing.core.bulk import bulk_insert
from upswing.core.conditional import check_if_match, etag_of
from upswing.core.db import UTCDateTime, utcnow
from upswing.core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationFailedError
from upswing.core.names import company_key, title_key
from upswing.core.pagination import capped_count, decode_cursor, encode_cursor
from upswing.detection.events import CandidateEvent
from upswing.lead.access import assignee_clause, can_see_lead, owner_scopes
from upswing.lead.models import HELD_REVIEW_STATES, Lead, Portfolio, full_name
from upswing.lead.service import leads_matching
from upswing.observation.models import Observation
from upswing.settings import Settings, get_settings
from upswing.signal.models import (
    DismissReason,
    Evidence,
    EvidenceKind,
    Signal,
    SignalAction,
    SignalOutcome,
    SignalStatus,
)
from upswing.signal.schemas import EvidenceRead, SignalFilters, SignalRead
from upswing.signal.scoring import ScoreInput, ScoreResult, ScoringConfig, combine_confidences, score_signal
from upswing.source.models import Source

#: Events this domain writes to the outbox (``core.outbox``); payloads carry ids and labels, never PII.
SIGNAL_CREATED = "signal.created"
SIGNAL_UPDATED = "signal.updated"  # new evidence, or a transition: payload["change"] says which
SIGNAL_DISMISSED = "signal.dismissed"

_SIGNALS: Table = Signal.__table__  # type: ignore[assignment]
_EVIDENCE: Table = Evidence.__table__  # type: ignore[assignment]
#: Ids per IN (...) list when reading in chunks.
_IN_CHUNK = 1000
WRONG_PERSON = "wrong_person"


def dedupe_key(lead_id: uuid.UUID, event: CandidateEvent) -> str:
    """The same real event for the same lead always gets the same key, whatever saw it."""
    return hashlib.sha256(f"{lead_id}|{event.type.value}|{event.identity}".encode()).hexdigest()


def scoring_config(settings: Settings | None = None) -> ScoringConfig:
    """The scoring configuration from settings (``UPSWING_SCORING_*``) over the defaults."""
    settings = settings or get_settings()
    return ScoringConfig().with_overrides(weights=settings.scoring_weights,
                                          thresholds={str(k): v for k, v in settings.scoring_thresholds.items()},
                                          half_life_days=settings.scoring_half_life_days,
                                          undated_age_days=float(settings.lookback_days))


# --------------------------------------------------------------------------------------------------
# One signal per real event
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SightedEvent:
    """A candidate event together with the lead and observation it came from.

    ``source`` (the source's slug) and ``observed_at`` are read from the observation when not given.
    """

    lead_id: uuid.UUID
    observation_id: uuid.UUID
    evidence_url: str | None
    event: CandidateEvent
    kind: EvidenceKind = EvidenceKind.PROFILE
    source: str | None = None
    observed_at: datetime | None = None


@dataclass
class UpsertResult:
    created: int = 0
    merged: int = 0
    #: Of the merged signals, how many were matched by organization/title and date (not the exact key).
    corroborated: int = 0
    evidence: int = 0


@lru_cache(maxsize=4096)
def _host(url: str) -> str:
    host = urlsplit(url).hostname or ""
    return host.removeprefix("www.")


def source_key(kind: str, url: str | None, observation_id: uuid.UUID | str) -> str:
    """Which witness an evidence item is: every sighting of one profile (any Actor, any export) is one
    witness, so it does not corroborate itself; each text item (post, article) is its own."""
    if kind == EvidenceKind.PROFILE.value:
        return f"profile:{_host(url)}" if url else "profile"
    return f"text:{url or observation_id}"


def event_day(effective_date: date | None, fallback: datetime | None) -> date | None:
    return effective_date if effective_date is not None else (fallback.date() if fallback else None)


def same_event(a_title: str | None, a_organization: str | None, a_day: date | None,
               b_title: str | None, b_organization: str | None, b_day: date | None, *, window_days: int) -> bool:
    """Whether two sightings (same lead, same type) describe one real event.

    Organization and title compare normalized (``"Acme Corp."`` = ``"ACME"``, ``"Sr. Analyst"`` =
    ``"Senior Analyst"``); a side without a value does not disagree, but at least one of the two must be
    known on both sides and equal. The dates (effective, else when seen) must lie within the window.
    """
    agreed = False
    for key, left, right in ((company_key, a_organization, b_organization), (title_key, a_title, b_title)):
        left_key, right_key = key(left), key(right)
        if left_key and right_key:
            if left_key != right_key:
                return False
            agreed = True
    if not agreed:
        return False
    if a_day is None or b_day is None:
        return True
    return abs((a_day - b_day).days) <= window_days


@dataclass(slots=True)
class _Target:
    """A signal (stored, or new in this batch) that sightings can attach to."""

    id: uuid.UUID
    lead_id: uuid.UUID
    type: str
    title: str | None
    organization: str | None
    effective_date: date | None
    detected_at: datetime
    confidence: float
    observation_ids: list[str]
    new: bool
    row: dict[str, Any] | None = None
    sources: dict[str, float] | None = None  # loaded for stored signals only when they gain evidence
    added: list[str] = field(default_factory=list)  # source keys gained in this batch, with confidences
    added_confidence: list[float] = field(default_factory=list)
    filled: dict[str, Any] = field(default_factory=dict)
    corroborated: bool = False

    @property
    def day(self) -> date | None:
        return event_day(self.effective_date, self.detected_at)


@dataclass(slots=True)
class _LeadFacts:
    balance: Decimal | None = None
    days_delinquent: int | None = None
    #: Copied onto the lead's new signals (who may see them; triggers keep them in step afterwards).
    assignee_id: uuid.UUID | None = None
    team_id: uuid.UUID | None = None
    #: The lead is in an experiment's control group: its new signals are held out.
    holdout: bool = False
    #: signal id → outcome (or wrong_person from a dismissal) of the lead's signals.
    outcomes: dict[uuid.UUID, str] = field(default_factory=dict)

    def prior(self, signal_id: uuid.UUID) -> tuple[str, ...]:
        return tuple(outcome for sid, outcome in self.outcomes.items() if sid != signal_id)


def _lead_outcome(outcome: str | None, dismiss_reason: str | None) -> str | None:
    return outcome or (WRONG_PERSON if dismiss_reason == DismissReason.WRONG_PERSON.value else None)


def upsert_events(session: Session, sightings: Sequence[SightedEvent], *, window_days: int | None = None,
                  config: ScoringConfig | None = None, now: datetime | None = None) -> UpsertResult:
    """Create a signal per new real event; attach other sightings of it to its signal as evidence.

    A sighting joins a signal of the same lead and type when its dedupe key is the signal's, or when
    organization and title agree (normalized) and the dates lie within ``window_days``
    (``UPSWING_CORROBORATION_WINDOW_DAYS``). Each new observation becomes an evidence row; independent
    sources raise the confidence (noisy-OR); the score is computed for every created or changed signal.

    Bulk: one SELECT for the batch's leads and their signals, one for the observations' sources (when
    the sightings do not carry them), one for the evidence of stored signals that gain some, one
    INSERT for new signals, one for evidence, one executemany UPDATE for merged signals.
    """
    result = UpsertResult()
    if not sightings:
        return result
    settings = get_settings()
    window = settings.corroboration_window_days if window_days is None else window_days
    config = config or scoring_config(settings)
    now = now or utcnow()

    keys = [dedupe_key(s.lead_id, s.event) for s in sightings]
    facts, by_key, by_lead_type = _load_targets(
        session, {s.lead_id for s in sightings}, types={s.event.type.value for s in sightings}, keys=set(keys))
    origin = _observation_origins(session, [s for s in sightings if s.source is None or s.observed_at is None])

    evidence_rows: list[dict[str, Any]] = []
    touched: dict[uuid.UUID, _Target] = {}
    for sighting, key in zip(sightings, keys, strict=True):
        event = sighting.event
        observation_id = str(sighting.observation_id)
        source, observed_at = sighting.source, sighting.observed_at
        if source is None or observed_at is None:
            known_source, known_at = origin.get(sighting.observation_id, (None, None))
            source = source or known_source
            observed_at = observed_at or known_at or now
        target = by_key.get(key)
        if target is None:
            day = event_day(event.effective_date, observed_at)
            candidates = [
                t for t in by_lead_type[(sighting.lead_id, event.type.value)]
                if same_event(t.title, t.organization, t.day, event.title, event.organization, day,
                              window_days=window)
            ]
            if candidates:
                target = min(candidates, key=lambda t: abs((t.day - day).days) if t.day and day else 0)
                target.corroborated = target.corroborated or not target.new
            else:
                target = _new_target(sighting, key, now, facts[sighting.lead_id])
                by_lead_type[(sighting.lead_id, event.type.value)].append(target)
            by_key[key] = target
        if observation_id in target.observation_ids:
            continue  # this observation is already evidence of the signal
        _fill_missing(target, event)
        target.observation_ids.append(observation_id)
        target.added.append(source_key(sighting.kind.value, sighting.evidence_url, observation_id))
        target.added_confidence.append(event.confidence)
        touched[target.id] = target
        evidence_rows.append({
            "id": uuid.uuid4(), "signal_id": target.id, "observation_id": sighting.observation_id,
            "kind": sighting.kind.value, "url": sighting.evidence_url, "snippet": event.snippet,
            "source": source, "confidence": event.confidence, "observed_at": observed_at, "created_at": now,
        })

    _load_sources(session, [t for t in touched.values() if not t.new])
    new_rows: list[dict[str, Any]] = []
    merges: list[dict[str, Any]] = []
    for target in touched.values():
        sources = dict(target.sources or {})
        for witness, confidence in zip(target.added, target.added_confidence, strict=True):
            sources[witness] = max(confidence, sources.get(witness, 0.0))
        target.confidence = combine_confidences(sources.values())
        lead = facts[target.lead_id]
        scored = score_signal(_score_input(target.type, target.confidence, target.effective_date,
                                           target.detected_at, len(sources), lead, target.id, now), config)
        values = {"confidence": target.confidence, "observation_ids": target.observation_ids,
                  "score": scored.score, "priority": scored.priority, "score_breakdown": scored.breakdown,
                  "scored_at": now}
        if target.new:
            assert target.row is not None
            target.row.update(values)
            new_rows.append(target.row)
        else:
            merges.append({"id": target.id, **values, **target.filled, "updated_at": now})
            result.corroborated += target.corroborated
    if new_rows:
        bulk_insert(session, _SIGNALS, new_rows)
    if evidence_rows:
        bulk_insert(session, _EVIDENCE, evidence_rows)
    if merges:
        session.execute(update(Signal), merges)
    outbox.emit_many(session, [*(_created_event(row) for row in new_rows),
                               *(_evidence_event(row, touched[row["id"]].lead_id) for row in merges)])
    result.created = len(new_rows)
    result.merged = len(merges)
    result.evidence = len(evidence_rows)
    return result


def _created_event(row: dict[str, Any]) -> outbox.NewEvent:
    return outbox.NewEvent(SIGNAL_CREATED, "signal", row["id"], lead_id=row["lead_id"], payload={
        "type": row["type"], "priority": row["priority"], "score": row["score"], "confidence": row["confidence"],
        "effective_date": row["effective_date"].isoformat() if row["effective_date"] else None})


def _evidence_event(values: dict[str, Any], lead_id: uuid.UUID) -> outbox.NewEvent:
    return outbox.NewEvent(SIGNAL_UPDATED, "signal", values["id"], lead_id=lead_id, payload={
        "change": "evidence", "priority": values["priority"], "score": values["score"],
        "confidence": values["confidence"]})


def _new_target(sighting: SightedEvent, key: str, now: datetime, lead: _LeadFacts) -> _Target:
    event = sighting.event
    signal_id = uuid.uuid4()
    row: dict[str, Any] = {
        "id": signal_id, "lead_id": sighting.lead_id, "type": event.type.value, "title": event.title,
        "organization": event.organization, "effective_date": event.effective_date, "detected_at": now,
        "confidence": event.confidence, "evidence_url": sighting.evidence_url, "evidence_snippet": event.snippet,
        "observation_ids": [], "score": 0, "priority": "low", "score_breakdown": {}, "scored_at": now,
        "status": SignalStatus.NEW.value, "dedupe_key": key, "created_at": now, "updated_at": now,
        "assignee_id": lead.assignee_id, "team_id": lead.team_id, "holdout": lead.holdout,
    }
    return _Target(id=signal_id, lead_id=sighting.lead_id, type=event.type.value, title=event.title,
                   organization=event.organization, effective_date=event.effective_date, detected_at=now,
                   confidence=event.confidence, observation_ids=[], new=True, row=row, sources={})


def _fill_missing(target: _Target, event: CandidateEvent) -> None:
    """A corroborating sighting fills in what the signal did not know (never overwrites)."""
    for name in ("title", "organization", "effective_date"):
        value = getattr(event, name)
        if getattr(target, name) is None and value is not None:
            setattr(target, name, value)
            if target.row is not None:
                target.row[name] = value
            else:
                target.filled[name] = value


def _load_targets(session: Session, lead_ids: set[uuid.UUID], *, types: set[str], keys: set[str]) -> tuple[
        dict[uuid.UUID, _LeadFacts], dict[str, _Target], defaultdict[tuple[uuid.UUID, str], list[_Target]]]:
    """The batch's leads, and of their signals those a sighting could join and those whose outcome the score
    reads: the signals of the sightings' types, those with an outcome, and (a second look-up, on the unique
    index) any other holding a sighting's dedupe key, which a signal whose type was corrected keeps. A lead of
    a big book holds signals of many types; loading only these keeps ingest fast at a million leads."""
    facts: dict[uuid.UUID, _LeadFacts] = {}
    by_key: dict[str, _Target] = {}
    by_lead_type: defaultdict[tuple[uuid.UUID, str], list[_Target]] = defaultdict(list)
    columns = (Signal.id, Signal.lead_id, Signal.type, Signal.title, Signal.organization, Signal.effective_date,
               Signal.detected_at, Signal.confidence, Signal.observation_ids, Signal.dedupe_key, Signal.outcome,
               Signal.dismiss_reason)

    def keep(row: Any) -> None:
        lead = facts.get(row.lead_id)
        if lead is None:
            return  # a key's signal moved to a lead outside the batch (a merge): as before, not joined
        outcome = _lead_outcome(row.outcome, row.dismiss_reason)
        if outcome:
            lead.outcomes[row.id] = outcome
        target = _Target(id=row.id, lead_id=row.lead_id, type=row.type, title=row.title,
                         organization=row.organization, effective_date=row.effective_date,
                         detected_at=row.detected_at, confidence=row.confidence,
                         observation_ids=list(row.observation_ids or []), new=False)
        by_key[row.dedupe_key] = target
        by_lead_type[(row.lead_id, row.type)].append(target)

    joinable = or_(Signal.type.in_(types), Signal.outcome.is_not(None),
                   Signal.dismiss_reason == DismissReason.WRONG_PERSON.value)
    for chunk in _chunked(list(lead_ids)):
        rows = session.execute(
            select(Lead.id.label("lid"), Lead.balance, Lead.days_delinquent, Lead.assignee_id.label("owner_id"),
                   Lead.team_id.label("owner_team_id"), Lead.holdout.label("lead_holdout"), Lead.review_state,
                   *columns)
            .outerjoin(Signal, and_(Signal.lead_id == Lead.id, joinable))
            .where(Lead.id.in_(chunk))
        )
        for row in rows:
            if row.lid not in facts:
                # A discovered prospect not (yet) approved is no one's work: its signals are held out too.
                held = bool(row.lead_holdout) or row.review_state in HELD_REVIEW_STATES
                facts[row.lid] = _LeadFacts(row.balance, row.days_delinquent, row.owner_id, row.owner_team_id, held)
            if row.id is not None:
                keep(row)
    missing = lead_ids - facts.keys()
    if missing:
        raise NotFoundError(f"no lead {sorted(map(str, missing))[0]}")
    for chunk in _chunked(list(keys - by_key.keys())):
        for keyed in session.execute(select(*columns).where(Signal.dedupe_key.in_(chunk))):
            keep(keyed)
    return facts, by_key, by_lead_type


def _observation_origins(session: Session, sightings: Sequence[SightedEvent]) -> dict[
        uuid.UUID, tuple[str | None, datetime | None]]:
    ids = list({s.observation_id for s in sightings})
    origins: dict[uuid.UUID, tuple[str | None, datetime | None]] = {}
    for chunk in _chunked(ids):
        for row in session.execute(
            select(Observation.id, Observation.observed_at, Source.slug)
            .join(Source, Source.id == Observation.source_id).where(Observation.id.in_(chunk))
        ):
            origins[row.id] = (row.slug, row.observed_at)
    return origins


def _load_sources(session: Session, targets: Sequence[_Target]) -> None:
    """Per stored signal, the best confidence from each independent source of its evidence."""
    if not targets:
        return
    by_id = {t.id: t for t in targets}
    for target in targets:
        target.sources = {}
    for chunk in _chunked(list(by_id)):
        for row in session.execute(
            select(Evidence.signal_id, Evidence.kind, Evidence.url, Evidence.observation_id, Evidence.confidence)
            .where(Evidence.signal_id.in_(chunk))
        ):
            sources = by_id[row.signal_id].sources
            assert sources is not None
            key = source_key(row.kind, row.url, row.observation_id)
            sources[key] = max(row.confidence, sources.get(key, 0.0))
    for target in targets:
        if not target.sources:  # a signal without evidence rows: its stored confidence is one witness
            target.sources = {"profile": target.confidence}


def _score_input(signal_type: str, confidence: float, effective_date: date | None, detected_at: datetime,
                 sources: int, lead: _LeadFacts, signal_id: uuid.UUID, now: datetime) -> ScoreInput:
    return ScoreInput(signal_type=signal_type, confidence=confidence, detected_at=detected_at, now=now,
                      effective_date=effective_date, sources=max(1, sources), balance=lead.balance,
                      days_delinquent=lead.days_delinquent, prior_outcomes=lead.prior(signal_id))


def _chunked(items: list[Any], size: int = _IN_CHUNK) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


# --------------------------------------------------------------------------------------------------
# Rescoring (recency decays; lead values and outcomes change)
# --------------------------------------------------------------------------------------------------


@dataclass
class RescoreResult:
    signals: int = 0
    changed: int = 0


#: Signals someone may still act on: the daily rescore keeps their recency current.
OPEN_STATUSES = (SignalStatus.NEW.value, SignalStatus.ACKNOWLEDGED.value, SignalStatus.ACTIONED.value)


def leads_with_open_signals(session: Session) -> list[uuid.UUID]:
    return list(session.scalars(select(Signal.lead_id).where(Signal.status.in_(OPEN_STATUSES))
                                .distinct().order_by(Signal.lead_id)))


def rescore(session: Session, *, lead_ids: Collection[uuid.UUID] | None = None,
            config: ScoringConfig | None = None, now: datetime | None = None,
            progress: Callable[[int], None] | None = None, open_only: bool = False) -> RescoreResult:
    """Recompute the score of every signal (of these leads; only the open ones with ``open_only``), in chunks
    of leads; returns the counts. Closed signals still count as the lead's history (their outcomes)."""
    config = config or scoring_config()
    now = now or utcnow()
    result = RescoreResult()
    if lead_ids is None:
        all_leads = list(session.scalars(select(Signal.lead_id).distinct().order_by(Signal.lead_id)))
    else:
        all_leads = list(lead_ids)
    for chunk in _chunked(all_leads, 500):
        facts: dict[uuid.UUID, _LeadFacts] = {}
        signals: list[Any] = []
        for row in session.execute(
            select(Lead.id.label("lid"), Lead.balance, Lead.days_delinquent, Signal.id, Signal.type,
                   Signal.effective_date, Signal.detected_at, Signal.confidence, Signal.outcome,
                   Signal.dismiss_reason, Signal.score, Signal.priority, Signal.score_breakdown, Signal.status)
            .join(Signal, Signal.lead_id == Lead.id).where(Lead.id.in_(chunk))
        ):
            lead = facts.setdefault(row.lid, _LeadFacts(row.balance, row.days_delinquent))
            outcome = _lead_outcome(row.outcome, row.dismiss_reason)
            if outcome:
                lead.outcomes[row.id] = outcome
            if not open_only or row.status in OPEN_STATUSES:
                signals.append(row)
        witnesses = _source_counts(session, [row.id for row in signals])
        updates = []
        for row in signals:
            scored = score_signal(_score_input(row.type, row.confidence, row.effective_date, row.detected_at,
                                               witnesses.get(row.id, 1), facts[row.lid], row.id, now), config)
            if (scored.score, scored.priority, scored.breakdown) != (row.score, row.priority, row.score_breakdown):
                result.changed += 1
            updates.append(_score_values(row.id, scored, now))
        if updates:
            session.execute(update(Signal), updates)
        result.signals += len(updates)
        if progress:
            progress(len(chunk))
    return result


def _score_values(signal_id: uuid.UUID, scored: ScoreResult, now: datetime) -> dict[str, Any]:
    return {"id": signal_id, "score": scored.score, "priority": scored.priority,
            "score_breakdown": scored.breakdown, "scored_at": now}


def _source_counts(session: Session, signal_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    keys: defaultdict[uuid.UUID, set[str]] = defaultdict(set)
    for chunk in _chunked(signal_ids):
        for row in session.execute(
            select(Evidence.signal_id, Evidence.kind, Evidence.url, Evidence.observation_id)
            .where(Evidence.signal_id.in_(chunk))
        ):
            keys[row.signal_id].add(source_key(row.kind, row.url, row.observation_id))
    return {signal_id: len(found) for signal_id, found in keys.items()}


# --------------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------------


_EVIDENCE_COLUMNS = tuple(getattr(Evidence, name) for name in EvidenceRead.model_fields)


def evidence_for(session: Session, signal_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[EvidenceRead]]:
    """The evidence of these signals, oldest observation first."""
    found: defaultdict[uuid.UUID, list[EvidenceRead]] = defaultdict(list)
    for chunk in _chunked(list(signal_ids)):
        # Rows, not ORM objects: this runs for every page of the feed, and building objects cost more than the query.
        for row in session.execute(
            select(Evidence.signal_id, *_EVIDENCE_COLUMNS).where(Evidence.signal_id.in_(chunk))
            .order_by(Evidence.observed_at, Evidence.created_at, Evidence.id)
        ):
            found[row.signal_id].append(EvidenceRead.model_validate(row._asdict()))
    return found


_READ_FIELDS = tuple(name for name in SignalRead.model_fields
                     if name not in ("lead_external_id", "lead_name", "evidence"))
_READ_COLUMNS = tuple(getattr(Signal, name) for name in _READ_FIELDS)


def _read(signal: Signal, lead: Lead, evidence: list[EvidenceRead] | None = None) -> SignalRead:
    values = {name: getattr(signal, name) for name in _READ_FIELDS}
    return SignalRead.model_validate({**values, "lead_external_id": lead.external_id,
                                      "lead_name": lead.full_name, "evidence": evidence or []})


def _read_page(session: Session, signal_ids: list[uuid.UUID]) -> list[SignalRead]:
    """These signals as read models, in this order. Rows rather than ORM objects, and only the lead's label (a
    whole lead would decrypt its contact details): a feed page is read on every refresh of every specialist."""
    if not signal_ids:
        return []
    evidence = evidence_for(session, signal_ids)
    rows = {row["id"]: row for row in (row._asdict() for row in session.execute(
        select(*_READ_COLUMNS, Lead.external_id.label("lead_external_id"), Lead.first_name.label("lead_first_name"),
               Lead.middle_name.label("lead_middle_name"), Lead.last_name.label("lead_last_name"))
        .join(Lead, Lead.id == Signal.lead_id).where(Signal.id.in_(signal_ids))))}
    return [SignalRead.model_validate({
        **row, "lead_name": full_name(row["lead_first_name"], row["lead_middle_name"], row["lead_last_name"]),
        "evidence": evidence.get(signal_id, [])}) for signal_id in signal_ids if (row := rows.get(signal_id))]


#: Sort orders of the feed and the columns of their keys (all descending; ``id`` breaks ties).
_SORT_KEYS: dict[str, tuple[InstrumentedAttribute[Any], ...]] = {
    "detected_at": (Signal.detected_at, Signal.id),
    "score": (Signal.score, Signal.detected_at, Signal.id),
    "updated_at": (Signal.updated_at, Signal.id),
}
#: Sorts read oldest first (sync clients): the others are newest or highest first.
_ASCENDING = {"updated_at"}


def sees_held_out(user: User | None) -> bool:
    """Signals held out for an experiment's control group are seen by admins (labelled) and the operator only:
    for everyone else they are not work, and not there."""
    return user is None or user.role == Role.ADMIN.value


def _conditions(session: Session, user: User | None, filters: SignalFilters) -> list[ColumnElement[bool]]:
    """The filters as conditions on ``signals`` alone (whose own indexes answer them)."""
    where: list[ColumnElement[bool]] = [] if sees_held_out(user) else [Signal.holdout.is_(False)]
    if filters.type is not None:
        where.append(Signal.type == filters.type.value)
    if filters.status is not None:
        where.append(Signal.status == filters.status.value)
    if filters.priority is not None:
        where.append(Signal.priority == filters.priority.value)
    if filters.lead_id is not None:
        where.append(Signal.lead_id == filters.lead_id)
    if filters.lead_external_id is not None:
        where.append(Signal.lead_id.in_(select(Lead.id).where(Lead.external_id == filters.lead_external_id)))
    if filters.since is not None:
        where.append(Signal.detected_at >= filters.since)
    if filters.until is not None:
        where.append(Signal.detected_at < filters.until)
    if filters.updated_since is not None:
        where.append(Signal.updated_at >= filters.updated_since)
    if filters.effective_from is not None:
        where.append(Signal.effective_date >= filters.effective_from)
    if filters.effective_to is not None:
        where.append(Signal.effective_date <= filters.effective_to)
    if filters.assignee is not None:
        where.append(assignee_clause(session, user, filters.assignee, column=Signal.assignee_id))
    if filters.escalated is not None:
        where.append(Signal.escalation_level > 0 if filters.escalated else Signal.escalation_level == 0)
    if filters.portfolio is not None:
        portfolio_id = _named_id(session, Portfolio, filters.portfolio, field="portfolio")
        where.append(Signal.lead_id.in_(select(Lead.id).where(Lead.portfolio_id == portfolio_id)))
    if filters.team is not None:
        if filters.team.strip().lower() == "none":
            where.append(Signal.team_id.is_(None))
        else:
            where.append(Signal.team_id == _named_id(session, Team, filters.team, field="team"))
    if filters.source is not None:
        # Evidence by source (ix_evidence_source_signal) or by signal (its unique key): the planner picks.
        where.append(Signal.id.in_(select(Evidence.signal_id).where(Evidence.source == filters.source.strip())))
    if filters.q is not None and filters.q.strip():
        where.append(Signal.lead_id.in_(leads_matching(session, filters.q)))
    return where


def _named_id(session: Session, model: type[Portfolio] | type[Team], value: str, *, field: str) -> uuid.UUID:
    """The id of the portfolio or team with this name or id (a 422 naming the field when there is none)."""
    value = value.strip()
    try:
        by_id = uuid.UUID(value)
    except ValueError:
        found = session.scalar(select(model.id).where(model.name == value))
    else:
        found = session.scalar(select(model.id).where(model.id == by_id))
    if found is None:
        raise ValidationFailedError(f"{field}: no {field} {value!r}",
                                    [{"row": None, "field": field, "message": f"unknown {field}"}])
    return found


def _scopes(user: User | None) -> list[ColumnElement[bool]] | None:
    """Who may see a signal (the signal carries its lead's owners), one condition per index to scan."""
    return owner_scopes(user, Signal.assignee_id, Signal.team_id)


@dataclass(frozen=True)
class SignalList:
    items: list[SignalRead]
    #: Matching signals, counted up to ``COUNT_CAP`` when ``filters.count`` asks (``total_is_exact`` false beyond
    #: it), else None.
    total: int | None
    total_is_exact: bool | None
    #: Where the next page starts (None: this is the last page).
    next_cursor: str | None


def page_signals(session: Session, filters: SignalFilters, *, user: User | None) -> SignalList:
    """A page of the signals the user may see (``user=None``: the CLI, with the operator's rights), newest first
    or by score; ``filters.cursor`` (the previous page's ``next_cursor``) continues a list, stable while new
    signals arrive."""
    keys = _SORT_KEYS[filters.sort]
    ascending = filters.sort in _ASCENDING
    where = _conditions(session, user, filters)
    scopes = _scopes(user)
    total, exact = (capped_count(session, select(Signal.id).where(*where), scopes=scopes) if filters.count
                    else (None, None))
    if filters.cursor is not None:
        values = decode_cursor(filters.cursor, f"signals:{filters.sort}")
        after = _cursor_values(values, keys)
        where.append(tuple_(*keys) > tuple_(*after) if ascending else tuple_(*keys) < tuple_(*after))
    wanted = filters.limit + 1
    offset = 0 if filters.cursor is not None else filters.offset
    found: dict[uuid.UUID, tuple[Any, ...]] = {}
    for scope in scopes if scopes is not None else [true()]:
        query = (select(*keys).where(scope, *where).order_by(*(key if ascending else key.desc() for key in keys))
                 .limit(wanted + offset))
        for row in session.execute(query):
            found[row[-1]] = tuple(row)
    ordered = sorted(found.values(), reverse=not ascending)[offset:offset + wanted]
    page, more = ordered[:filters.limit], len(ordered) > filters.limit
    items = _read_page(session, [key[-1] for key in page])
    next_cursor = encode_cursor(f"signals:{filters.sort}", page[-1]) if more and page else None
    return SignalList(items, total, exact, next_cursor)


def _cursor_values(values: list[Any], keys: tuple[InstrumentedAttribute[Any], ...]) -> list[Any]:
    if len(values) != len(keys):
        raise ValidationFailedError("cursor: not a cursor of this list and sort",
                                    [{"row": None, "field": "cursor", "message": "invalid cursor"}])
    converted: list[Any] = []
    for value, key in zip(values, keys, strict=True):
        try:
            if key is Signal.id:
                converted.append(literal(uuid.UUID(str(value)), Uuid()))
            elif key is Signal.detected_at or key is Signal.updated_at:
                converted.append(literal(datetime.fromisoformat(str(value)), UTCDateTime()))
            else:
                converted.append(literal(int(value), Integer()))
        except (TypeError, ValueError):
            raise ValidationFailedError("cursor: not a cursor of this list and sort",
                                        [{"row": None, "field": "cursor", "message": "invalid cursor"}]) from None
    return converted


def list_signals(session: Session, filters: SignalFilters, *, user: User | None) -> tuple[list[SignalRead], int]:
    """``(page, total)``: a page of the signals the user may see, counted up to ``COUNT_CAP`` (``page_signals``
    has the cursor, and counts only when asked)."""
    result = page_signals(session, filters.model_copy(update={"count": True}), user=user)
    return result.items, result.total or 0


def _load(session: Session, signal_id: uuid.UUID, user: User | None) -> tuple[Signal, Lead]:
    row = session.execute(
        select(Signal, Lead).join(Lead, Lead.id == Signal.lead_id).where(Signal.id == signal_id)
        .execution_options(populate_existing=True)  # bulk updates (scores) bypass the identity map
    ).first()
    # A signal on a lead the user may not see is reported as absent, not forbidden; so is a held-out one.
    if row is None or (user is not None and not can_see_lead(user, row[1])) or \
            (row[0].holdout and not sees_held_out(user)):
        raise NotFoundError(f"signal {signal_id} not found")
    return row[0], row[1]


def get_signal(session: Session, signal_id: uuid.UUID, *, user: User | None) -> SignalRead:
    signal, lead = _load(session, signal_id, user)
    return _read(signal, lead, evidence_for(session, [signal.id]).get(signal.id))


# --------------------------------------------------------------------------------------------------
# Lifecycle: new → acknowledged → actioned → resolved (outcome), or dismissed
# --------------------------------------------------------------------------------------------------


def load_for_change(session: Session, signal_id: uuid.UUID, user: User) -> tuple[Signal, Lead]:
    """The signal and its lead, for a user about to change it (absent if they may not see it; viewers may
    not change signals)."""
    signal, lead = _load(session, signal_id, user)
    if user.role == Role.VIEWER.value:
        raise PermissionDeniedError("viewers cannot change signals")
    return signal, lead


def require_version(session: Session, signal_id: uuid.UUID, if_match: str | None, *, user: User) -> None:
    """Refuse (412) a change made against an older version of the signal than the current one (``If-Match``);
    the row stays locked to the end of the transaction, so the change that follows is made on that version."""
    if if_match is None:
        return
    signal, _ = _load(session, signal_id, user)
    session.refresh(signal, with_for_update=True)
    check_if_match(if_match, etag_of(signal.id, signal.updated_at), "signal")


def _begin(session: Session, signal_id: uuid.UUID, user: User) -> tuple[Signal, Lead, SignalStatus]:
    signal, lead = load_for_change(session, signal_id, user)
    return signal, lead, SignalStatus(signal.status)


def _finish(session: Session, signal: Signal, lead: Lead, user: User, *, current: SignalStatus,
            to: SignalStatus, audit_action: str, note: str | None, **details: str | None) -> SignalRead:
    now = utcnow()
    signal.status = to.value
    signal.status_reason = note
    signal.status_changed_by = user.id
    signal.status_changed_at = now
    if signal.first_action_at is None:  # acknowledged, actioned or dismissed: the clock of escalation stops
        signal.first_action_at = now
    actor = f"user:{user.username}"
    audit.record(session, actor=actor, action=audit_action, entity_type="signal", entity_id=signal.id,
                 details={"from": current.value, "to": to.value, **details, "note": note, "lead_id": str(lead.id)})
    payload: dict[str, Any] = {"change": to.value, "from": current.value, **details,
                               "type": signal.type, "priority": signal.priority}
    if details.get("outcome") == WRONG_PERSON or details.get("reason") == WRONG_PERSON:
        # The linker learns from this (resolution's consumer of the event): who the evidence was about.
        payload["subject_key"] = subject_key_of(session, signal)
    outbox.emit(session, SIGNAL_DISMISSED if to is SignalStatus.DISMISSED else SIGNAL_UPDATED,
                entity_type="signal", entity_id=signal.id, lead_id=lead.id, payload=payload, actor=actor)
    session.flush()
    return get_signal(session, signal.id, user=user)


def acknowledge(session: Session, signal_id: uuid.UUID, *, user: User) -> SignalRead:
    signal, lead, current = _begin(session, signal_id, user)
    if current is SignalStatus.ACKNOWLEDGED:
        return get_signal(session, signal_id, user=user)  # acknowledging twice is not an error
    if current is not SignalStatus.NEW:
        raise ConflictError(f"signal is {current.value}; only a new signal can be acknowledged")
    return _finish(session, signal, lead, user, current=current, to=SignalStatus.ACKNOWLEDGED,
                   audit_action="signal.acknowledged", note=None)


def record_action(session: Session, signal_id: uuid.UUID, action: SignalAction, *, user: User,
                  note: str | None = None) -> SignalRead:
    """The specialist acted (call, e-mail, letter, CRM task); acting again later records another action."""
    signal, lead, current = _begin(session, signal_id, user)
    if current not in (SignalStatus.NEW, SignalStatus.ACKNOWLEDGED, SignalStatus.ACTIONED):
        raise ConflictError(f"signal is {current.value}; it cannot be actioned")
    signal.action = action.value
    signal.actioned_at = utcnow()
    signal.actioned_by = user.id
    return _finish(session, signal, lead, user, current=current, to=SignalStatus.ACTIONED,
                   audit_action="signal.actioned", note=note, action=action.value)


def record_outcome(session: Session, signal_id: uuid.UUID, outcome: SignalOutcome, *, user: User,
                   note: str | None = None) -> SignalRead:
    """What came of the action. Only after an action; a later outcome replaces an earlier one
    (no response, then a payment), except after ``wrong_person``, which is final."""
    signal, lead, current = _begin(session, signal_id, user)
    if current is SignalStatus.RESOLVED:
        if signal.outcome == outcome.value:
            return get_signal(session, signal_id, user=user)
        if signal.outcome == SignalOutcome.WRONG_PERSON.value:
            raise ConflictError("the outcome is wrong_person; it cannot change")
    elif current is not SignalStatus.ACTIONED:
        raise ConflictError(f"signal is {current.value}; record an action before an outcome")
    previous = signal.outcome
    signal.outcome = outcome.value
    signal.outcome_at = utcnow()
    signal.outcome_by = user.id
    _finish(session, signal, lead, user, current=current, to=SignalStatus.RESOLVED, audit_action="signal.outcome",
            note=note, outcome=outcome.value, previous_outcome=previous)
    rescore(session, lead_ids=[lead.id])  # the lead's other signals see this outcome
    return get_signal(session, signal_id, user=user)


def dismiss(session: Session, signal_id: uuid.UUID, reason: DismissReason, *, user: User,
            note: str | None = None) -> SignalRead:
    signal, lead, current = _begin(session, signal_id, user)
    if current is SignalStatus.DISMISSED:
        return get_signal(session, signal_id, user=user)
    if current not in (SignalStatus.NEW, SignalStatus.ACKNOWLEDGED):
        raise ConflictError(f"signal is {current.value}; only a new or acknowledged signal can be dismissed")
    signal.dismiss_reason = reason.value
    result = _finish(session, signal, lead, user, current=current, to=SignalStatus.DISMISSED,
                     audit_action="signal.dismissed", note=note, reason=reason.value)
    if reason is not DismissReason.WRONG_PERSON:
        return result
    rescore(session, lead_ids=[lead.id])  # a wrong person on this lead lowers its other signals
    return get_signal(session, signal_id, user=user)


def change_status(session: Session, signal_id: uuid.UUID, new_status: SignalStatus, *, user: User,
                  action: SignalAction | None = None, outcome: SignalOutcome | None = None,
                  reason: DismissReason | None = None, note: str | None = None) -> SignalRead:
    """One entry point for every transition (the CLI uses it); each needs its own argument."""
    if new_status is SignalStatus.ACKNOWLEDGED:
        return acknowledge(session, signal_id, user=user)
    if new_status is SignalStatus.ACTIONED and action is not None:
        return record_action(session, signal_id, action, user=user, note=note)
    if new_status is SignalStatus.RESOLVED and outcome is not None:
        return record_outcome(session, signal_id, outcome, user=user, note=note)
    if new_status is SignalStatus.DISMISSED and reason is not None:
        return dismiss(session, signal_id, reason, user=user, note=note)
    raise ConflictError(f"a signal cannot be set to {new_status.value} without its action, outcome or reason")


def subject_key_of(session: Session, signal: Signal) -> str | None:
    """The subject (``li:…``, ``email:…``) of the signal's first observation that has one."""
    ids = [uuid.UUID(oid) for oid in signal.observation_ids]
    if not ids:
        return None
    keys = {row.id: row.subject_key for row in session.execute(
        select(Observation.id, Observation.subject_key).where(Observation.id.in_(ids)))}
    return next((key for oid in ids if (key := keys.get(oid))), None)
